<?php

namespace App\Events;

use Illuminate\Broadcasting\PrivateChannel;

/** An event for the platform's operators: private-system.admin. */
abstract class SystemAdminEvent extends PlatformEvent
{
    public function broadcastOn()
    {
        return new PrivateChannel('system.admin');
    }
}
