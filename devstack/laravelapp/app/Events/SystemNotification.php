<?php

namespace App\Events;

/**
 * General notification (tenant.{id}).
 *
 * Payload: {"title", "message", "type": success|info|warning|error, "tenant_id", "event_id", "timestamp"}
 */
class SystemNotification extends TenantEvent
{
}
