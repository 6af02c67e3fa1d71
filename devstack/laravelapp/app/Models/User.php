<?php

namespace App\Models;

use App\Models\Concerns\HasApiTokens;
use Illuminate\Foundation\Auth\User as Authenticatable;
use Illuminate\Notifications\Notifiable;

/**
 * A platform user. Notifiable: database notifications in the notifications
 * table, broadcast on private-App.Models.User.{id} (Laravel's default
 * receivesBroadcastNotificationsOn()).
 *
 * @property int $id
 * @property int|null $tenant_id
 * @property string $role tenant_admin, staff or system_admin
 */
class User extends Authenticatable
{
    use HasApiTokens, Notifiable;

    public const ROLE_TENANT_ADMIN = 'tenant_admin';
    public const ROLE_STAFF = 'staff';
    public const ROLE_SYSTEM_ADMIN = 'system_admin';

    protected $fillable = ['name', 'email', 'password', 'tenant_id', 'role'];

    protected $hidden = ['password', 'remember_token'];

    protected $casts = [
        'email_verified_at' => 'datetime',
        'tenant_id' => 'integer',
    ];

    /**
     * May the user join private-system.admin: role system_admin, or no
     * tenant at all (the platform's convention).
     */
    public function isSystemAdmin(): bool
    {
        return $this->role === self::ROLE_SYSTEM_ADMIN || $this->tenant_id === null;
    }
}
