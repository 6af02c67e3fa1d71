<?php

/*
 * Devstack switches, set by the Go runner (devstack/laravelapp/runner.go).
 * None of this belongs in a real app.
 */

return [
    // Guards the test hooks of routes/devstack.php (header X-Devstack-Secret);
    // empty: the hooks are not registered.
    'secret' => env('DEVSTACK_SECRET', ''),

    // Hide routes, to simulate a backend without them.
    'notification_routes' => ! env('DEVSTACK_NO_NOTIFICATION_ROUTES', false),
    'discovery_route' => ! env('DEVSTACK_NO_DISCOVERY', false),

    // Channel authorisations per user and minute (throttle on /broadcasting/auth).
    'broadcast_auth_per_minute' => (int) env('DEVSTACK_BROADCAST_AUTH_PER_MINUTE', 600),
];
