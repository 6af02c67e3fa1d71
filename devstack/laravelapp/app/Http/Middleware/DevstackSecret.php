<?php

namespace App\Http\Middleware;

use Closure;
use Illuminate\Http\Request;

/**
 * Guards the devstack's test hooks (routes/devstack.php): the request must
 * carry the X-Devstack-Secret header with the secret the Go runner passed in
 * DEVSTACK_SECRET. Without a secret the hooks are not even registered.
 */
class DevstackSecret
{
    public function handle(Request $request, Closure $next)
    {
        $secret = (string) config('devstack.secret');
        if ($secret === '' || ! hash_equals($secret, (string) $request->header('X-Devstack-Secret'))) {
            abort(404);
        }

        return $next($request);
    }
}
