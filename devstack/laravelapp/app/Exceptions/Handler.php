<?php

namespace App\Exceptions;

use Illuminate\Foundation\Exceptions\Handler as ExceptionHandler;

/**
 * Laravel's own exception handler: JSON errors ({"message": ...}, 422 with
 * "errors") for requests that expect JSON, HTML pages or redirects otherwise.
 */
class Handler extends ExceptionHandler
{
    /**
     * @var array
     */
    protected $dontFlash = ['current_password', 'password', 'password_confirmation'];
}
