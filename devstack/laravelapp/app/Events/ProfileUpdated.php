<?php

namespace App\Events;

/**
 * The user's profile was updated (private-user.{id}).
 *
 * Payload: {"user": {...}, "changes": [field, ...], "event_id", "timestamp"}
 */
class ProfileUpdated extends UserEvent
{
}
