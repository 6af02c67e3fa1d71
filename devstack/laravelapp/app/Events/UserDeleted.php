<?php

namespace App\Events;

/**
 * A user was removed (tenant.{id}).
 *
 * Payload: {"user": {id, name, email}, "tenant_id", "event_id", "timestamp"}
 */
class UserDeleted extends TenantEvent
{
}
