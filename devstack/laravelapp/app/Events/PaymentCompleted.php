<?php

namespace App\Events;

/**
 * Payment successful (tenant.{id}).
 *
 * Payload: {"payment": {id, amount, currency, phone, reference, method, status, package, created_at}, "tenant_id", "event_id", "timestamp"}
 */
class PaymentCompleted extends TenantEvent
{
}
