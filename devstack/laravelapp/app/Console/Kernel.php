<?php

namespace App\Console;

use Illuminate\Foundation\Console\Kernel as ConsoleKernel;

class Kernel extends ConsoleKernel
{
    /**
     * The Artisan commands provided by the application (none: the devstack
     * uses the framework's own migrate and db:seed).
     *
     * @var array
     */
    protected $commands = [];
}
