<?php

namespace App\Events;

/**
 * A new tenant registered (tenant.{id}).
 *
 * Payload: {"tenant": {id, name, slug, email, phone, status}, "tenant_id", "event_id", "timestamp"}
 */
class TenantCreated extends TenantEvent
{
}
