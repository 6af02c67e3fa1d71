<?php

namespace App\Events;

/**
 * Hotspot user provisioned (tenant.{id}).
 *
 * Payload: {"hotspot_user": {id, username, phone, plan, expires_at, mac}, "tenant_id", "event_id", "timestamp"}
 */
class HotspotUserCreated extends TenantEvent
{
}
