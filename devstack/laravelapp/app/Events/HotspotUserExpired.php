<?php

namespace App\Events;

/**
 * Hotspot session expired (tenant.{id}).
 *
 * Payload: {"hotspot_user": {..., "data_used_mb"}, "tenant_id", "event_id", "timestamp"}
 */
class HotspotUserExpired extends TenantEvent
{
}
