-- Account erasure (GDPR article 17). An erasure closes the account at once and a purge job then deletes
-- its content. What accounting law keeps (the credit ledger, payment orders and their events) stays,
-- pseudonymised: the user's id in them becomes `erased:<erasure id>`, by cascading the rename of the
-- users row, and their text loses chat titles and the providers' payloads. The subject's hash remains,
-- so that tokens issued before the erasure are refused and a returning subject gets no second welcome.

CREATE TABLE erasures (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- sha256 of the identity provider's subject, hex; the subject itself is not kept.
  subject_hash  text NOT NULL CHECK (subject_hash ~ '^[0-9a-f]{64}$'),
  -- The account's id while the purge runs (the subject), then its pseudonym.
  user_id       text NOT NULL,
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'purging', 'done')),
  -- Rows removed or pseudonymised, per store.
  counts        jsonb NOT NULL DEFAULT '{}',
  requested_at  timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz
);
CREATE INDEX erasures_subject ON erasures (subject_hash, requested_at DESC);

-- A subject's fresh account after an erasure refuses the tokens issued before that erasure, from its
-- own row: the check every request makes stays one row's read.
ALTER TABLE users ADD COLUMN tokens_issued_after timestamptz;

-- Renaming an erased user renames them everywhere their rows remain.
ALTER TABLE chats DROP CONSTRAINT chats_user_id_fkey,
  ADD CONSTRAINT chats_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON UPDATE CASCADE;
ALTER TABLE chunks DROP CONSTRAINT chunks_user_id_fkey,
  ADD CONSTRAINT chunks_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON UPDATE CASCADE;
ALTER TABLE jobs DROP CONSTRAINT jobs_user_id_fkey,
  ADD CONSTRAINT jobs_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON UPDATE CASCADE;
ALTER TABLE insights DROP CONSTRAINT insights_user_id_fkey,
  ADD CONSTRAINT insights_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON UPDATE CASCADE;
ALTER TABLE credit_transactions DROP CONSTRAINT credit_transactions_user_id_fkey,
  ADD CONSTRAINT credit_transactions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON UPDATE CASCADE;
ALTER TABLE payment_orders DROP CONSTRAINT payment_orders_user_id_fkey,
  ADD CONSTRAINT payment_orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON UPDATE CASCADE;
ALTER TABLE ai_conversations DROP CONSTRAINT ai_conversations_user_id_fkey,
  ADD CONSTRAINT ai_conversations_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON UPDATE CASCADE;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_user_id_fkey,
  ADD CONSTRAINT idempotency_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON UPDATE CASCADE;

-- The ledger stays append-only, with one exception: pseudonymising an erased user's entries (their user
-- id, a description that named a chat, a reference that held a chat's id), every amount unchanged.
CREATE OR REPLACE FUNCTION refuse_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.user_id LIKE 'erased:%'
     AND (NEW.id, NEW.kind, NEW.amount, NEW.balance_after, NEW.metadata, NEW.created_at)
         IS NOT DISTINCT FROM (OLD.id, OLD.kind, OLD.amount, OLD.balance_after, OLD.metadata, OLD.created_at)
  THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'credit_transactions is append-only' USING ERRCODE = 'restrict_violation';
END
$$;

-- An erased account's unfinished orders are cancelled (a payment that still arrives is recorded, not credited).
ALTER TABLE payment_orders DROP CONSTRAINT payment_orders_status_check,
  ADD CONSTRAINT payment_orders_status_check CHECK (status IN ('created', 'paid', 'failed', 'expired', 'cancelled'));
