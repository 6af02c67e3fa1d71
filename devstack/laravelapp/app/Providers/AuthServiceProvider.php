<?php

namespace App\Providers;

use App\Models\PersonalAccessToken;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Auth;
use Illuminate\Support\ServiceProvider;

class AuthServiceProvider extends ServiceProvider
{
    /**
     * The "sanctum" guard (config/auth.php) without Sanctum: a request guard
     * that resolves "Authorization: Bearer <id>|<plain text>" through the
     * personal_access_tokens table, as Sanctum's guard does for API tokens.
     */
    public function boot()
    {
        Auth::viaRequest('personal-access-token', function (Request $request) {
            $token = $request->bearerToken();
            if (! $token || ! ($accessToken = PersonalAccessToken::findToken($token))) {
                return null;
            }
            $user = $accessToken->tokenable;
            if (! $user) {
                return null;
            }
            $accessToken->forceFill(['last_used_at' => now()])->save();

            return $user->withAccessToken($accessToken);
        });
    }
}
