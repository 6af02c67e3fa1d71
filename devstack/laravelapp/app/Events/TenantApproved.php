<?php

namespace App\Events;

/**
 * A tenant was approved (private-system.admin).
 *
 * Payload: {"tenant": {...}, "approved_by": {id, name}, "event_id", "timestamp"}
 */
class TenantApproved extends SystemAdminEvent
{
}
