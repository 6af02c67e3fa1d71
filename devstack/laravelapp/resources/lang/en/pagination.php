<?php

// From the Laravel 8 application skeleton.
return [
    'previous' => '&laquo; Previous',
    'next' => 'Next &raquo;',
];
