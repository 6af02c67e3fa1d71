<?php

namespace App\Events;

/**
 * The user's account was suspended (private-user.{id}).
 *
 * Payload: {"user": {...}, "reason", "event_id", "timestamp"}
 */
class AccountSuspended extends UserEvent
{
}
