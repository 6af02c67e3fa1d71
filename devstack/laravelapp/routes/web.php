<?php

use Illuminate\Support\Facades\Route;

// Where the auth middleware sends a request that does not expect JSON.
Route::get('/login', function () {
    return response('<!DOCTYPE html><html><head><title>Login</title></head><body>Sign in on the platform.</body></html>');
})->name('login');

// Health check (what Laravel 11 calls /up): the Go runner waits for it.
Route::get('/up', function () {
    return response('OK');
});
