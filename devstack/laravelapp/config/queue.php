<?php

return [
    // Queued broadcasts (BroadcastNotificationCreated is ShouldBroadcast, not
    // ShouldBroadcastNow) run at once.
    'default' => env('QUEUE_CONNECTION', 'sync'),

    'connections' => [
        'sync' => [
            'driver' => 'sync',
        ],
    ],

    'failed' => [
        'driver' => 'null',
    ],
];
