<?php

namespace App\Events;

/**
 * A new tenant is waiting for approval (private-system.admin).
 *
 * Payload: {"tenant": {..., "status": "pending"}, "owner": {name, email}, "event_id", "timestamp"}
 */
class TenantRegistered extends SystemAdminEvent
{
}
