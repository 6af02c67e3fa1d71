<?php

namespace App\Events;

/**
 * A system-wide alert (private-system.admin).
 *
 * Payload: {"title", "message", "level": info|warning|critical, "source", "event_id", "timestamp"}
 */
class SystemAlert extends SystemAdminEvent
{
}
