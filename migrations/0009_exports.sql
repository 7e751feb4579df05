-- Data exports (GDPR article 20): one row per requested archive, and the archive itself cut into parts of
-- at most 1 MiB, so that any instance can serve it and no process ever holds a whole archive. A user has
-- at most one export queued or building; a ready one expires (its parts are deleted) after EXPORT_RETENTION.
CREATE TABLE exports (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Renamed with its user (erasure pseudonymises the id), as the other tables are since 0008.
  user_id     text NOT NULL REFERENCES users (id) ON UPDATE CASCADE,
  status      text NOT NULL DEFAULT 'queued'
              CHECK (status IN ('queued', 'building', 'ready', 'failed', 'expired')),
  -- `{ stage, chats_done, chats_total, messages_done, messages_total }` while it is written.
  progress    jsonb,
  error       text,
  job_id      uuid REFERENCES jobs (id) ON DELETE SET NULL,
  size_bytes  bigint CHECK (size_bytes >= 0),
  parts       integer CHECK (parts >= 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  ready_at    timestamptz,
  expires_at  timestamptz,
  CHECK (status <> 'ready' OR (size_bytes IS NOT NULL AND parts IS NOT NULL AND expires_at IS NOT NULL))
);
-- Asking again while one is on its way answers that one: the index is the arbiter of concurrent requests.
CREATE UNIQUE INDEX exports_one_pending ON exports (user_id) WHERE status IN ('queued', 'building');
CREATE INDEX exports_user ON exports (user_id, created_at DESC);
CREATE INDEX exports_expiry ON exports (expires_at) WHERE status = 'ready';

CREATE TABLE export_parts (
  export_id uuid NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
  seq       integer NOT NULL CHECK (seq >= 0),
  bytes     bytea NOT NULL CHECK (octet_length(bytes) BETWEEN 1 AND 1048576),
  PRIMARY KEY (export_id, seq)
);
