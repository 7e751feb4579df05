-- Questions about a chat: chunks are searched by full text as well as by vector, and each chunk
-- records when its vector was stored (in pgvector or Qdrant), so an interrupted embedding job resumes.
ALTER TABLE chunks ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED;
ALTER TABLE chunks ADD COLUMN embedded_at timestamptz;
CREATE INDEX chunks_search ON chunks USING gin (search);
CREATE INDEX chunks_pending ON chunks (chat_id, embedder, seq) WHERE embedded_at IS NULL;
CREATE INDEX chunks_user ON chunks (user_id);
