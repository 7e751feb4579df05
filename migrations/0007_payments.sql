-- Buying credits. An order remembers what its provider told us (checkout URL, payment id, refunds and
-- disputes as cumulative amounts) and what we did about it in credits: granted once, taken back once per
-- refund level, and what could not be taken back because it was already spent (owed, settled from the
-- next purchase). Events keep what they meant (`change`, the provider's payload read once) and what
-- became of them (`outcome`); one with no `processed_at` is still to be applied.

-- Refunds and disputes take credits back with a ledger entry of their own kind, negative like a charge.
ALTER TABLE credit_transactions
  DROP CONSTRAINT credit_transactions_kind_check,
  DROP CONSTRAINT credit_transactions_check,
  ADD CONSTRAINT credit_transactions_kind_check
    CHECK (kind IN ('grant', 'charge', 'refund', 'purchase', 'reversal')),
  ADD CONSTRAINT credit_transactions_sign_check CHECK ((kind IN ('charge', 'reversal')) = (amount < 0));

ALTER TABLE payment_orders
  ADD COLUMN checkout_url        text,
  ADD COLUMN provider_payment_id text,
  ADD COLUMN failure_reason      text,
  ADD COLUMN credits_granted     integer NOT NULL DEFAULT 0 CHECK (credits_granted >= 0),
  ADD COLUMN refunded_amount     integer NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
  ADD COLUMN disputed_amount     integer NOT NULL DEFAULT 0 CHECK (disputed_amount >= 0),
  ADD COLUMN credits_reversed    integer NOT NULL DEFAULT 0 CHECK (credits_reversed >= 0),
  ADD COLUMN credits_owed        integer NOT NULL DEFAULT 0 CHECK (credits_owed >= 0),
  ADD CHECK (credits_reversed + credits_owed <= credits_granted);
CREATE INDEX payment_orders_user ON payment_orders (user_id, created_at DESC, id DESC);
CREATE INDEX payment_orders_payment ON payment_orders (provider, provider_payment_id)
  WHERE provider_payment_id IS NOT NULL;
CREATE INDEX payment_orders_waiting ON payment_orders (created_at) WHERE status IN ('created', 'failed');
CREATE INDEX payment_orders_owing ON payment_orders (user_id) WHERE credits_owed > 0;

ALTER TABLE payment_events
  ADD COLUMN change      jsonb NOT NULL DEFAULT '{"_tag":"Ignored","reason":"recorded before changes were kept"}',
  ADD COLUMN payment_ref text,
  ADD COLUMN outcome     text;
ALTER TABLE payment_events ALTER COLUMN change DROP DEFAULT;
CREATE INDEX payment_events_pending ON payment_events (received_at) WHERE processed_at IS NULL;
CREATE INDEX payment_events_order ON payment_events (order_id, id) WHERE order_id IS NOT NULL;
