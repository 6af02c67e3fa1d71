<?php

namespace App\Events;

/**
 * Tenant information updated (tenant.{id}).
 *
 * Payload: {"tenant": {...}, "tenant_id", "changes": [field, ...], "event_id", "timestamp"}
 */
class TenantUpdated extends TenantEvent
{
}
