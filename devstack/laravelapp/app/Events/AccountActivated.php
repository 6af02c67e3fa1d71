<?php

namespace App\Events;

/**
 * The user's account was activated (private-user.{id}).
 *
 * Payload: {"user": {...}, "activated_at", "event_id", "timestamp"}
 */
class AccountActivated extends UserEvent
{
}
