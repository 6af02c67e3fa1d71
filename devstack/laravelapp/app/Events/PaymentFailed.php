<?php

namespace App\Events;

/**
 * Payment failed (tenant.{id}).
 *
 * Payload: {"payment": {..., "reference": null, "checkout_request_id"}, "tenant_id", "reason", "event_id", "timestamp"}
 */
class PaymentFailed extends TenantEvent
{
}
