<?php

namespace App\Events;

use Illuminate\Broadcasting\Channel;

/** An event for a tenant's staff: the public channel tenant.{tenant_id}. */
abstract class TenantEvent extends PlatformEvent
{
    public function broadcastOn()
    {
        return new Channel('tenant.'.$this->tenantId());
    }
}
