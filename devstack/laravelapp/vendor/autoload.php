<?php

/*
 * What Composer's vendor/autoload.php would be, for Debian's packages (no
 * Composer here): Laravel 8 from php-laravel-framework and Guzzle from
 * php-guzzlehttp-guzzle, both under /usr/share/php, plus this app's own
 * PSR-4 namespaces (composer.json's "autoload" section).
 */

require_once '/usr/share/php/Illuminate/autoload.php';
require_once '/usr/share/php/GuzzleHttp/autoload.php';

spl_autoload_register(static function (string $class): void {
    static $roots = [
        'App\\' => __DIR__.'/../app/',
        'Database\\Seeders\\' => __DIR__.'/../database/seeders/',
    ];
    foreach ($roots as $prefix => $dir) {
        if (strncmp($class, $prefix, strlen($prefix)) === 0) {
            $file = $dir.str_replace('\\', '/', substr($class, strlen($prefix))).'.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});
