<?php

namespace App\Http\Controllers;

use Illuminate\Http\Request;
use Illuminate\Notifications\DatabaseNotification;
use Illuminate\Support\Arr;
use Illuminate\Support\Carbon;

/**
 * EchoTray's catch-up and read sync over Laravel's database notifications.
 */
class NotificationController extends Controller
{
    /**
     * GET /api/notifications?since=<RFC 3339> → the user's notifications
     * created at or after since, oldest first, 50 a page or per_page (at
     * most 100) (Laravel's paginator JSON; follow next_page_url).
     */
    public function index(Request $request)
    {
        $request->validate(['since' => 'nullable|date', 'per_page' => 'nullable|integer']);
        $perPage = min(max((int) $request->input('per_page', 50), 1), 100);

        $query = $request->user()->notifications()->reorder()
            ->orderBy('created_at')->orderBy('id');

        if ($request->filled('since')) {
            $query->where('created_at', '>=', Carbon::parse($request->since)->utc());
        }

        // withQueryString(): next_page_url keeps "since" (and per_page).
        return $query->paginate($perPage)->withQueryString()->through(function (DatabaseNotification $n) {
            return $this->item($n);
        });
    }

    /** POST /api/notifications/{id}/read → marks one of the user's notifications read. */
    public function read(Request $request, string $id)
    {
        $notification = $request->user()->notifications()->findOrFail($id);
        $notification->markAsRead();

        return response()->json($this->item($notification));
    }

    protected function item(DatabaseNotification $n): array
    {
        return Arr::only($n->toArray(), ['id', 'type', 'data', 'read_at', 'created_at']);
    }
}
