<?php

namespace App\Events;

use Illuminate\Broadcasting\PrivateChannel;

/** An event for one user: private-user.{user.id}. */
abstract class UserEvent extends PlatformEvent
{
    public function broadcastOn()
    {
        return new PrivateChannel('user.'.$this->userId());
    }
}
