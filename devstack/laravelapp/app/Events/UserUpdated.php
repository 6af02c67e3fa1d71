<?php

namespace App\Events;

/**
 * User information updated (tenant.{id}).
 *
 * Payload: {"user": {...}, "tenant_id", "changes": [field, ...], "event_id", "timestamp"}
 */
class UserUpdated extends TenantEvent
{
}
