<?php

namespace App\Events;

/**
 * A user was added (tenant.{id}).
 *
 * Payload: {"user": {id, name, email, role, tenant_id, created_at}, "tenant_id", "event_id", "timestamp"}
 */
class UserCreated extends TenantEvent
{
}
