-- What an unlocked insight was bought with, so that a type that fails for good gives back exactly its
-- own price, once: the ledger reference of its charge, the price paid, and when it was refunded.
-- `purchases` counts the times the type was bought for the chat, so buying it again after a refund is
-- a new charge with a new reference instead of a repeat of the refunded one.
ALTER TABLE insights
  ADD COLUMN charge_reference text,
  ADD COLUMN credit_cost      integer NOT NULL DEFAULT 0 CHECK (credit_cost >= 0),
  ADD COLUMN purchases        integer NOT NULL DEFAULT 0 CHECK (purchases >= 0),
  ADD COLUMN refunded_at      timestamptz;
CREATE INDEX insights_job ON insights (job_id);
