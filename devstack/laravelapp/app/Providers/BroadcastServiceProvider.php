<?php

namespace App\Providers;

use App\Broadcasting\SoketiBroadcaster;
use Illuminate\Cache\RateLimiting\Limit;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Broadcast;
use Illuminate\Support\Facades\RateLimiter;
use Illuminate\Support\ServiceProvider;

class BroadcastServiceProvider extends ServiceProvider
{
    public function boot()
    {
        // The devstack's Pusher-protocol driver (pusher/pusher-php-server is
        // not packaged for Debian); a real app uses the built-in "pusher" driver.
        Broadcast::extend('soketi', function ($app, array $config) {
            return new SoketiBroadcaster($config);
        });

        // EchoTray authorises one request per private channel on every
        // (re)connection; a limit per user keeps a reconnect storm cheap.
        // Over it, Laravel answers 429 with Retry-After, which EchoTray honours.
        RateLimiter::for('broadcasting', function (Request $request) {
            return Limit::perMinute(config('devstack.broadcast_auth_per_minute'))
                ->by(optional($request->user())->id ?: $request->ip());
        });

        // POST /broadcasting/auth for API tokens: the token guard, not the
        // session ("web") middleware Broadcast::routes() uses by default.
        Broadcast::routes(['middleware' => ['auth:sanctum', 'throttle:broadcasting']]);

        require base_path('routes/channels.php');
    }
}
