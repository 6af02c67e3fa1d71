<?php

namespace App\Events;

/**
 * Tenant suspended (tenant.{id}).
 *
 * Payload: {"tenant": {..., "status": "suspended"}, "tenant_id", "reason", "event_id", "timestamp"}
 */
class TenantSuspended extends TenantEvent
{
}
