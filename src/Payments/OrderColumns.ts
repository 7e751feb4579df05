/** The columns of a payment order as every reader selects them (`OrderRow` decodes them): payments and the export alike. */
export const orderColumns = `id::text AS id, user_id, package_id, provider, provider_order_id, provider_payment_id, amount,
  currency, credits, status, idempotency_key, checkout_url, failure_reason, credits_granted, refunded_amount,
  disputed_amount, credits_reversed, credits_owed, created_at, updated_at, paid_at`
