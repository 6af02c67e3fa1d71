<?php

namespace App\Http\Controllers;

/**
 * GET /api/broadcasting/config (no authentication): the public half of the
 * broadcasting connection, so EchoTray needs only the server's address.
 * Never the secret or the app id.
 */
class BroadcastConfigController extends Controller
{
    public function __invoke()
    {
        $connection = config('broadcasting.connections.'.config('broadcasting.default'));
        $options = $connection['options'] ?? [];

        return response()->json([
            'key' => $connection['key'] ?? null,
            'host' => $options['host'] ?? null,
            'port' => isset($options['port']) ? (int) $options['port'] : null,
            'scheme' => $options['scheme'] ?? null,
            'cluster' => $options['cluster'] ?? null,
            'path' => $options['path'] ?? '',
            'auth_endpoint' => url('/broadcasting/auth'),
        ]);
    }
}
