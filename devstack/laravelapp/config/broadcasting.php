<?php

return [
    'default' => env('BROADCAST_DRIVER', 'soketi'),

    'connections' => [
        // What a real app configures as the "pusher" connection (driver
        // "pusher", pusher/pusher-php-server). That SDK is not packaged for
        // Debian, so the devstack registers its own driver, "soketi"
        // (App\Broadcasting\SoketiBroadcaster), with the same settings.
        'soketi' => [
            'driver' => 'soketi',
            'key' => env('PUSHER_APP_KEY'),
            'secret' => env('PUSHER_APP_SECRET'),
            'app_id' => env('PUSHER_APP_ID'),
            'options' => [
                'host' => env('PUSHER_HOST', '127.0.0.1'),
                'port' => (int) env('PUSHER_PORT', 6001),
                'scheme' => env('PUSHER_SCHEME', 'http'),
                'cluster' => env('PUSHER_APP_CLUSTER', 'mt1'),
                'useTLS' => env('PUSHER_SCHEME', 'http') === 'https',
            ],
        ],

        'log' => [
            'driver' => 'log',
        ],

        'null' => [
            'driver' => 'null',
        ],
    ],
];
