<?php

namespace App\Events;

/**
 * The user's password was changed (private-user.{id}).
 *
 * Payload: {"user": {id, name, email, tenant_id, role}, "changed_at", "ip_address", "event_id", "timestamp"}
 */
class PasswordChanged extends UserEvent
{
}
