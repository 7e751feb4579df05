-- The time zone a chat's written times were read in, so an identical re-upload can say whether its
-- options differ from the stored chat's (NULL for chats stored before this column).
ALTER TABLE chats ADD COLUMN time_zone text;
-- A view's `*` is expanded when it is made: recreate it so that it reads the new column.
CREATE OR REPLACE VIEW active_chats AS
  SELECT c.* FROM chats c JOIN users u ON u.id = c.user_id
  WHERE c.deleted_at IS NULL AND u.deleted_at IS NULL;

-- Rate limits shared by every instance on this database: one row per (policy, subject), holding the
-- theoretical arrival time of the generic cell rate algorithm (GCRA).
CREATE TABLE rate_limits (
  key        text PRIMARY KEY,
  tat        timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX rate_limits_expiry ON rate_limits (expires_at);
