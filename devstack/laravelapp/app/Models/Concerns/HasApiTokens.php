<?php

namespace App\Models\Concerns;

use App\Models\PersonalAccessToken;
use Illuminate\Support\Str;

/**
 * Laravel Sanctum's HasApiTokens trait, reduced to what the devstack uses:
 * createToken() returns "<id>|<40 random characters>" and stores only the
 * SHA-256 of the random part.
 */
trait HasApiTokens
{
    /** @var \App\Models\PersonalAccessToken|null */
    protected $accessToken;

    public function tokens()
    {
        return $this->morphMany(PersonalAccessToken::class, 'tokenable');
    }

    /**
     * Create a new personal access token; the answer's plainTextToken is the
     * only place the plain text ever appears.
     */
    public function createToken(string $name, array $abilities = ['*']): object
    {
        $token = $this->tokens()->create([
            'name' => $name,
            'token' => hash('sha256', $plainTextToken = Str::random(40)),
            'abilities' => $abilities,
        ]);

        return (object) [
            'accessToken' => $token,
            'plainTextToken' => $token->getKey().'|'.$plainTextToken,
        ];
    }

    public function currentAccessToken(): ?PersonalAccessToken
    {
        return $this->accessToken;
    }

    public function withAccessToken(PersonalAccessToken $accessToken): self
    {
        $this->accessToken = $accessToken;

        return $this;
    }
}
