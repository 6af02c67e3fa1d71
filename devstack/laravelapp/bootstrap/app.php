<?php

/*
 * Laravel 8's bootstrap/app.php, plus one change for the devstack: storage
 * (SQLite database, logs, cache, compiled views) and the framework's cache
 * files live in the directory APP_STORAGE names (the Go runner makes one per
 * run), never in the source tree.
 */

$app = new Illuminate\Foundation\Application(
    $_ENV['APP_BASE_PATH'] ?? dirname(__DIR__)
);

$storage = getenv('APP_STORAGE') ?: sys_get_temp_dir().'/echotray-laravelapp-storage';
$app->useStoragePath($storage);
foreach (['bootstrap-cache', 'framework/cache/data', 'framework/views', 'logs'] as $dir) {
    if (! is_dir("$storage/$dir")) {
        @mkdir("$storage/$dir", 0700, true);
    }
}
// SQLite wants the database file to exist.
$database = getenv('DB_DATABASE') ?: "$storage/database.sqlite";
if (! file_exists($database)) {
    @touch($database);
}
foreach ([
    'APP_SERVICES_CACHE' => 'services.php',
    'APP_PACKAGES_CACHE' => 'packages.php',
    'APP_CONFIG_CACHE' => 'config.php',
    'APP_ROUTES_CACHE' => 'routes-v7.php',
    'APP_EVENTS_CACHE' => 'events.php',
] as $key => $file) {
    if (getenv($key) === false) {
        putenv("$key=$storage/bootstrap-cache/$file");
    }
}

$app->singleton(
    Illuminate\Contracts\Http\Kernel::class,
    App\Http\Kernel::class
);

$app->singleton(
    Illuminate\Contracts\Console\Kernel::class,
    App\Console\Kernel::class
);

$app->singleton(
    Illuminate\Contracts\Debug\ExceptionHandler::class,
    App\Exceptions\Handler::class
);

return $app;
