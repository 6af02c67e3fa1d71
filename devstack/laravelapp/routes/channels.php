<?php

use Illuminate\Support\Facades\Broadcast;

/*
 * Channel authorisation rules (the seed's channels). Laravel matches them
 * after stripping "private-" / "presence-", so "tenant.{tenantId}" also
 * guards private-tenant.{id}; the public tenant.{id} needs no authorisation.
 */

// The tenant's channel: members of that tenant only.
Broadcast::channel('tenant.{tenantId}', function ($user, $tenantId) {
    return $user->tenant_id !== null && (int) $user->tenant_id === (int) $tenantId;
});

// private-user.{id}: the user's own channel (PasswordChanged, AccountSuspended, ...).
Broadcast::channel('user.{id}', function ($user, $id) {
    return (int) $user->id === (int) $id;
});

// private-system.admin: platform operators (TenantRegistered, TenantApproved, SystemAlert).
Broadcast::channel('system.admin', function ($user) {
    return $user->isSystemAdmin();
});

// private-App.Models.User.{id}: Laravel's default notification channel.
Broadcast::channel('App.Models.User.{id}', function ($user, $id) {
    return (int) $user->id === (int) $id;
});
