<?php

// API tokens need no session; the array driver only lets the auth
// middleware's redirect (non-JSON requests) remember the intended URL.
return [
    'driver' => env('SESSION_DRIVER', 'array'),
    'lifetime' => 120,
    'expire_on_close' => false,
    'encrypt' => false,
    'cookie' => 'echotray_devstack_session',
    'path' => '/',
    'domain' => null,
    'secure' => false,
    'http_only' => true,
    'same_site' => 'lax',
];
