<?php

namespace App\Notifications;

use Illuminate\Bus\Queueable;
use Illuminate\Notifications\Notification;

/**
 * A notification stored in the notifications table and broadcast on the
 * user's private-App.Models.User.{id} channel, with one UUID for both.
 * Its data is what EchoTray shows: "title", "message" and "type" or
 * "level" (success, info, warning or error), plus any other fields.
 *
 * $type names the notification class the data is about (default: this
 * class); the devstack sends every kind through this one class, as an app
 * with many notification classes would send each through its own.
 */
class PlatformNotification extends Notification
{
    use Queueable;

    /** @var array */
    public $data;

    /** @var string */
    public $type;

    public function __construct(array $data, ?string $type = null)
    {
        $this->data = $data;
        $this->type = $type ?: static::class;
    }

    public function via($notifiable)
    {
        return ['database', 'broadcast'];
    }

    /**
     * The notification's data, stored in the notifications table and
     * broadcast. Laravel's broadcast replaces a "type" key with the class
     * name, so the severity is also sent as "level" (EchoTray reads it there).
     */
    public function toArray($notifiable)
    {
        $data = $this->data;
        if (isset($data['type']) && ! isset($data['level'])) {
            $data['level'] = $data['type'];
        }

        return $data;
    }

    /** The notifications table's "type" column. */
    public function databaseType($notifiable)
    {
        return $this->type;
    }

    /** The broadcast payload's "type" field. */
    public function broadcastType()
    {
        return $this->type;
    }
}
