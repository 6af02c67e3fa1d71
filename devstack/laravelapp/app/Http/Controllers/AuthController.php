<?php

namespace App\Http\Controllers;

use App\Models\User;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Hash;
use Illuminate\Validation\ValidationException;

/**
 * API token sign-in for EchoTray (and any other API client): the Sanctum
 * way, "Issuing API Tokens" in Laravel's documentation.
 */
class AuthController extends Controller
{
    /**
     * POST /api/login {email, password} → {"token": "<id>|<plain text>", "user": {...}};
     * a wrong password → 422 {"message", "errors": {"email": [...]}}.
     */
    public function login(Request $request)
    {
        $request->validate([
            'email' => 'required|email',
            'password' => 'required|string',
            'device_name' => 'nullable|string|max:255',
        ]);

        $user = User::where('email', $request->email)->first();

        if (! $user || ! Hash::check($request->password, $user->password)) {
            throw ValidationException::withMessages([
                'email' => [trans('auth.failed')],
            ]);
        }

        return response()->json([
            'token' => $user->createToken($request->input('device_name') ?: 'echotray')->plainTextToken,
            'user' => $user,
        ]);
    }

    /** GET /api/user → the signed-in user. */
    public function user(Request $request)
    {
        return $request->user();
    }

    /** POST /api/logout → revokes the token the request was made with. */
    public function logout(Request $request)
    {
        $request->user()->currentAccessToken()->delete();

        return response()->json(['message' => 'Logged out successfully.']);
    }
}
