<?php

namespace App\Events;

use Illuminate\Broadcasting\InteractsWithSockets;
use Illuminate\Contracts\Broadcasting\ShouldBroadcastNow;
use Illuminate\Foundation\Events\Dispatchable;
use Illuminate\Support\Str;

/**
 * Base of the platform's 18 broadcast events (the seed's Event Reference).
 * Each event carries the payload its broadcastWith() sends: the models as
 * their toArray() serialises them ("user", "tenant", "payment",
 * "hotspot_user"), the tenant_id, and an event_id (UUID) and timestamp,
 * which are added when the caller did not give them. No broadcastAs(): the
 * event is sent under its class name, e.g. App\Events\PaymentCompleted.
 */
abstract class PlatformEvent implements ShouldBroadcastNow
{
    use Dispatchable, InteractsWithSockets;

    /** @var array */
    public $payload;

    public function __construct(array $payload)
    {
        $this->payload = $payload + [
            'event_id' => (string) Str::uuid(),
            'timestamp' => now()->toJSON(),
        ];
    }

    public function broadcastWith()
    {
        return $this->payload;
    }

    /** The tenant the payload is about: tenant_id, tenant.id or user.tenant_id. */
    protected function tenantId()
    {
        return $this->payload['tenant_id']
            ?? $this->payload['tenant']['id']
            ?? $this->payload['user']['tenant_id']
            ?? null;
    }

    /** The user the payload is about: user.id or user_id. */
    protected function userId()
    {
        return $this->payload['user']['id'] ?? $this->payload['user_id'] ?? null;
    }
}
