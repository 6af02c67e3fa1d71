<?php

return [
    'defaults' => [
        'guard' => 'sanctum',
    ],

    'guards' => [
        // Stands in for laravel/sanctum's guard of the same name (Sanctum is
        // not packaged for Debian): a request guard over the
        // personal_access_tokens table, registered in
        // App\Providers\AuthServiceProvider. With Sanctum installed, delete
        // this entry: Sanctum registers the "sanctum" guard itself.
        'sanctum' => [
            'driver' => 'personal-access-token',
            'provider' => 'users',
        ],
    ],

    'providers' => [
        'users' => [
            'driver' => 'eloquent',
            'model' => App\Models\User::class,
        ],
    ],
];
