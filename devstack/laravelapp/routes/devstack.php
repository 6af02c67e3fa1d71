<?php

use App\Models\User;
use App\Notifications\PlatformNotification;
use Illuminate\Http\Request;
use Illuminate\Support\Arr;
use Illuminate\Support\Str;
use Illuminate\Support\Facades\Route;

/*
 * Test hooks for the Go runner (prefix /_devstack, header X-Devstack-Secret,
 * registered only when DEVSTACK_SECRET is set). Each does what the platform's
 * own code does: fire an event, notify a user, mark read in the web UI.
 */

// Fire App\Events\<event> with a payload: {"event": "PaymentCompleted", "payload": {...}}.
Route::post('/events', function (Request $request) {
    $request->validate(['event' => 'required|string', 'payload' => 'nullable|array']);
    $short = $request->input('event');
    $class = 'App\\Events\\'.$short;
    if (! preg_match('/\A[A-Z][A-Za-z0-9]*\z/', $short) || ! class_exists($class)
        || ! is_subclass_of($class, \App\Events\PlatformEvent::class)) {
        abort(404, 'No event '.$short);
    }
    $event = new $class($request->input('payload') ?: []);
    foreach (Arr::wrap($event->broadcastOn()) as $channel) {
        if (substr((string) $channel, -1) === '.') {
            abort(422, "The payload names no tenant or user for $channel (tenant_id, tenant.id, user.id or user_id).");
        }
    }
    broadcast($event);

    return response()->json([
        'event' => $class,
        'channels' => array_map('strval', Arr::wrap($event->broadcastOn())),
        'payload' => $event->broadcastWith(),
    ]);
});

// Notify a user: {"user_id": 1, "class": "InvoicePaid", "data": {"title": ..., "message": ..., "type": ...}}.
Route::post('/notifications', function (Request $request) {
    $request->validate(['user_id' => 'required|integer', 'class' => 'nullable|string', 'data' => 'nullable|array']);
    $user = User::findOrFail($request->input('user_id'));
    $class = (string) $request->input('class');
    if ($class !== '' && strpos($class, '\\') === false) {
        $class = 'App\\Notifications\\'.$class;
    }
    $notification = new PlatformNotification($request->input('data') ?: [], $class ?: null);
    $notification->id = (string) Str::uuid();
    $user->notify($notification);

    return response()->json(['id' => $notification->id, 'type' => $notification->type]);
});

// A user's notification rows, as stored (newest first, as Laravel orders them).
Route::get('/users/{id}/notifications', function (string $id) {
    return response()->json(['data' => User::findOrFail($id)->notifications->map(function ($n) {
        return Arr::only($n->toArray(), ['id', 'type', 'data', 'read_at', 'created_at']);
    })]);
});

// Mark a notification read as the web UI does.
Route::post('/notifications/{id}/read', function (string $id) {
    $notification = \Illuminate\Notifications\DatabaseNotification::findOrFail($id);
    $notification->markAsRead();

    return response()->json(Arr::only($notification->toArray(), ['id', 'read_at']));
});
