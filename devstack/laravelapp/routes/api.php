<?php

use App\Http\Controllers\AuthController;
use App\Http\Controllers\BroadcastConfigController;
use App\Http\Controllers\NotificationController;
use Illuminate\Support\Facades\Route;

/*
 * API routes (prefix /api, middleware group "api"). With Sanctum the guard
 * is Sanctum's own "sanctum"; here config/auth.php defines a token guard of
 * that name, so these lines read as in a real app.
 */

Route::post('/login', [AuthController::class, 'login']);

Route::middleware('auth:sanctum')->group(function () {
    Route::get('/user', [AuthController::class, 'user']);
    Route::post('/logout', [AuthController::class, 'logout']);
});

// Catch-up and read sync (EchoTray turns them off when they answer 404).
if (config('devstack.notification_routes')) {
    Route::middleware('auth:sanctum')->group(function () {
        Route::get('/notifications', [NotificationController::class, 'index']);
        Route::post('/notifications/{id}/read', [NotificationController::class, 'read']);
    });
}

// Discovery: where EchoTray connects, without signing in.
if (config('devstack.discovery_route')) {
    Route::get('/broadcasting/config', BroadcastConfigController::class);
}
