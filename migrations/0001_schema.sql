-- The whole data model. Correctness lives in constraints: unique business references in the ledger,
-- unique provider ids, one insight per chat and type, a balance that cannot go below zero.

CREATE EXTENSION IF NOT EXISTS vector;

-- Users: the id is the identity provider's `sub`. Rows are never hard-deleted (the ledger and payment
-- records point at them); erasure blanks the personal fields and sets deleted_at.
CREATE TABLE users (
  id             text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
  email          text,
  name           text,
  credit_balance integer NOT NULL DEFAULT 0 CHECK (credit_balance >= 0),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  deleted_at     timestamptz
);

CREATE TABLE chats (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id          text NOT NULL REFERENCES users (id),
  display_name     text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
  source_platform  text NOT NULL DEFAULT 'whatsapp',
  source_filename  text,
  content_hash     text NOT NULL,
  participants     jsonb NOT NULL DEFAULT '[]',
  message_count    integer NOT NULL DEFAULT 0 CHECK (message_count >= 0),
  first_message_at timestamp,
  last_message_at  timestamp,
  status           text NOT NULL DEFAULT 'processing'
                   CHECK (status IN ('processing', 'ready', 'failed')),
  parse_report     jsonb,
  is_shared        boolean NOT NULL DEFAULT false,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  deleted_at       timestamptz
);
-- The same user uploading the same file gets the stored chat back.
CREATE UNIQUE INDEX chats_user_content_hash ON chats (user_id, content_hash) WHERE deleted_at IS NULL;
CREATE INDEX chats_user_activity ON chats (user_id, last_message_at DESC, id) WHERE deleted_at IS NULL;

-- Messages keep the wall-clock time the export wrote (sent_at_local) and its UTC reading (sent_at).
CREATE TABLE messages (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  chat_id       uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  seq           integer NOT NULL,
  sent_at_local timestamp NOT NULL,
  sent_at       timestamptz NOT NULL,
  author        text,
  text          text NOT NULL DEFAULT '',
  kind          text NOT NULL CHECK (kind IN ('text', 'media', 'system', 'deleted', 'edited')),
  UNIQUE (chat_id, seq)
);
CREATE INDEX messages_chat_sent ON messages (chat_id, sent_at_local);

CREATE TABLE chat_stats (
  chat_id     uuid PRIMARY KEY REFERENCES chats (id) ON DELETE CASCADE,
  stats       jsonb NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now()
);

-- Chunks of consecutive messages and their embeddings; each vector records the embedder that made it.
CREATE TABLE chunks (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  chat_id          uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  user_id          text NOT NULL REFERENCES users (id),
  seq              integer NOT NULL,
  first_message_id bigint NOT NULL,
  last_message_id  bigint NOT NULL,
  text             text NOT NULL,
  token_count      integer NOT NULL CHECK (token_count >= 0),
  embedder         text NOT NULL,
  embedding        vector(768),
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (chat_id, embedder, seq)
);

CREATE TABLE categories (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  description text NOT NULL,
  icon        text,
  sort_order  integer NOT NULL DEFAULT 0,
  is_active   boolean NOT NULL DEFAULT true
);

CREATE TABLE insight_types (
  id          text PRIMARY KEY,
  category_id text NOT NULL REFERENCES categories (id),
  name        text NOT NULL,
  description text NOT NULL,
  credit_cost integer NOT NULL CHECK (credit_cost > 0),
  prompt      text NOT NULL,
  sort_order  integer NOT NULL DEFAULT 0,
  is_active   boolean NOT NULL DEFAULT true
);
CREATE INDEX insight_types_category ON insight_types (category_id, sort_order);

-- Durable background work, claimed with FOR UPDATE SKIP LOCKED and a lease.
CREATE TABLE jobs (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind             text NOT NULL,
  payload          jsonb NOT NULL DEFAULT '{}',
  status           text NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts     integer NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
  run_at           timestamptz NOT NULL DEFAULT now(),
  locked_by        text,
  lease_expires_at timestamptz,
  last_error       text,
  progress         jsonb,
  trace_context    jsonb,
  -- Enqueueing the same work twice yields the one job.
  dedupe_key       text UNIQUE,
  user_id          text REFERENCES users (id),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz
);
CREATE INDEX jobs_claimable ON jobs (run_at) WHERE status = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE status = 'running';

CREATE TABLE insights (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  chat_id         uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  insight_type_id text NOT NULL REFERENCES insight_types (id),
  user_id         text NOT NULL REFERENCES users (id),
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'generating', 'ready', 'failed')),
  content         jsonb,
  error           text,
  job_id          uuid REFERENCES jobs (id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (chat_id, insight_type_id)
);

-- The credit ledger: append-only; the business reference makes every grant, charge and refund happen
-- once. The user's stored balance always equals the sum of their amounts.
CREATE TABLE credit_transactions (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id       text NOT NULL REFERENCES users (id),
  kind          text NOT NULL CHECK (kind IN ('grant', 'charge', 'refund', 'purchase')),
  amount        integer NOT NULL CHECK (amount <> 0),
  balance_after integer NOT NULL CHECK (balance_after >= 0),
  reference     text NOT NULL CHECK (length(reference) BETWEEN 1 AND 200),
  description   text NOT NULL,
  metadata      jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'charge') = (amount < 0)),
  UNIQUE (user_id, reference)
);
CREATE INDEX credit_transactions_user ON credit_transactions (user_id, id DESC);

CREATE FUNCTION refuse_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'credit_transactions is append-only' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER credit_transactions_append_only
  BEFORE UPDATE OR DELETE ON credit_transactions
  FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();

CREATE TABLE credit_packages (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  description text NOT NULL,
  credits     integer NOT NULL CHECK (credits > 0),
  sort_order  integer NOT NULL DEFAULT 0,
  is_active   boolean NOT NULL DEFAULT true
);

-- Prices in minor units (cents, paise) per ISO 4217 currency.
CREATE TABLE credit_package_prices (
  package_id   text NOT NULL REFERENCES credit_packages (id),
  currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  unit_amount  integer NOT NULL CHECK (unit_amount > 0),
  PRIMARY KEY (package_id, currency)
);

CREATE TABLE payment_orders (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id           text NOT NULL REFERENCES users (id),
  package_id        text NOT NULL REFERENCES credit_packages (id),
  provider          text NOT NULL CHECK (provider IN ('stripe', 'razorpay')),
  provider_order_id text,
  amount            integer NOT NULL CHECK (amount > 0),
  currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  credits           integer NOT NULL CHECK (credits > 0),
  status            text NOT NULL DEFAULT 'created'
                    CHECK (status IN ('created', 'paid', 'failed', 'expired')),
  idempotency_key   text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  paid_at           timestamptz,
  UNIQUE (provider, provider_order_id),
  UNIQUE (user_id, idempotency_key)
);

CREATE TABLE payment_events (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  provider          text NOT NULL CHECK (provider IN ('stripe', 'razorpay')),
  provider_event_id text NOT NULL,
  event_type        text NOT NULL,
  order_id          uuid REFERENCES payment_orders (id),
  payload           jsonb NOT NULL,
  received_at       timestamptz NOT NULL DEFAULT now(),
  processed_at      timestamptz,
  UNIQUE (provider, provider_event_id)
);

CREATE TABLE ai_conversations (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id    text NOT NULL REFERENCES users (id),
  chat_id    uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  title      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX ai_conversations_chat ON ai_conversations (chat_id, updated_at DESC) WHERE deleted_at IS NULL;

CREATE TABLE ai_messages (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  conversation_id uuid NOT NULL REFERENCES ai_conversations (id) ON DELETE CASCADE,
  role            text NOT NULL CHECK (role IN ('user', 'assistant')),
  content         text NOT NULL,
  citations       jsonb NOT NULL DEFAULT '[]',
  mode            text,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ai_messages_conversation ON ai_messages (conversation_id, id);

-- Responses of POSTs that create or charge, replayed for a repeated Idempotency-Key.
CREATE TABLE idempotency_keys (
  user_id      text NOT NULL REFERENCES users (id),
  key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash text NOT NULL,
  status_code  integer,
  response     jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);

-- Soft delete lives here and only here: reads of users, chats and conversations go through these
-- views, so no query can forget the filter.
CREATE VIEW active_users AS SELECT * FROM users WHERE deleted_at IS NULL;
CREATE VIEW active_chats AS
  SELECT c.* FROM chats c JOIN users u ON u.id = c.user_id
  WHERE c.deleted_at IS NULL AND u.deleted_at IS NULL;
CREATE VIEW active_ai_conversations AS
  SELECT a.* FROM ai_conversations a JOIN active_chats c ON c.id = a.chat_id
  WHERE a.deleted_at IS NULL;
