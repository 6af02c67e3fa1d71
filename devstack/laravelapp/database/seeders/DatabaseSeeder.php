<?php

namespace Database\Seeders;

use App\Models\User;
use Illuminate\Database\Seeder;
use Illuminate\Support\Carbon;
use Illuminate\Support\Facades\Hash;

/**
 * The seeded users, the same as the Go stand-in's (devstack/laravel/users.go):
 * same ids, e-mails, names, tenants and roles, password "password".
 */
class DatabaseSeeder extends Seeder
{
    public function run()
    {
        $at = Carbon::parse('2025-12-03 09:00:00', 'UTC');
        $password = Hash::make('password');
        $users = [
            [1, 'Alice Wanjiru', 'alice@tenant1.test', 1, User::ROLE_TENANT_ADMIN],
            [2, 'Bob Otieno', 'bob@tenant2.test', 2, User::ROLE_TENANT_ADMIN],
            [3, 'System Admin', 'admin@echotray.test', null, User::ROLE_SYSTEM_ADMIN],
            [4, 'Carol Muthoni', 'carol@tenant1.test', 1, User::ROLE_STAFF],
        ];
        foreach ($users as [$id, $name, $email, $tenant, $role]) {
            $user = new User();
            $user->forceFill([
                'id' => $id,
                'name' => $name,
                'email' => $email,
                'password' => $password,
                'tenant_id' => $tenant,
                'role' => $role,
                'email_verified_at' => $at,
                'created_at' => $at,
                'updated_at' => $at,
            ])->save();
        }
    }
}
