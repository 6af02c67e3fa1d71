<?php

namespace App\Models;

use Illuminate\Database\Eloquent\Model;

/**
 * Laravel Sanctum's personal access token model (Laravel\Sanctum\PersonalAccessToken),
 * reduced to what the devstack uses: the token column holds the SHA-256 of
 * the plain-text part of "<id>|<plain text>".
 */
class PersonalAccessToken extends Model
{
    protected $casts = [
        'abilities' => 'json',
        'last_used_at' => 'datetime',
    ];

    protected $fillable = ['name', 'token', 'abilities'];

    protected $hidden = ['token'];

    public function tokenable()
    {
        return $this->morphTo('tokenable');
    }

    /**
     * Find the token instance matching the given token, as Sanctum does.
     */
    public static function findToken(string $token): ?self
    {
        if (strpos($token, '|') === false) {
            return static::where('token', hash('sha256', $token))->first();
        }

        [$id, $plain] = explode('|', $token, 2);

        if (! ctype_digit($id) || ! ($instance = static::find($id))) {
            return null;
        }

        return hash_equals($instance->token, hash('sha256', $plain)) ? $instance : null;
    }
}
