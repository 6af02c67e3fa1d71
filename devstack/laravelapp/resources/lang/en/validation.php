<?php

// The rules this app uses, worded as in the Laravel 8 application skeleton.
return [
    'date' => 'The :attribute is not a valid date.',
    'email' => 'The :attribute must be a valid email address.',
    'integer' => 'The :attribute must be an integer.',
    'required' => 'The :attribute field is required.',
    'string' => 'The :attribute must be a string.',
    'array' => 'The :attribute must be an array.',
    'max' => [
        'string' => 'The :attribute must not be greater than :max characters.',
    ],
    'attributes' => [],
];
