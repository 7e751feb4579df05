-- Full-text search in the chat's language: each chunk records the text search configuration it is
-- indexed with (english, portuguese, ... or simple when the language is unknown), chosen from the chat's
-- text when its chunks are made, and `search` is regenerated with it (stemming and stop words of that
-- language). Existing chunks keep `simple`, which is what they were indexed with.
ALTER TABLE chunks ADD COLUMN search_config regconfig NOT NULL DEFAULT 'simple';
ALTER TABLE chunks DROP COLUMN search;
ALTER TABLE chunks ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector(search_config, text)) STORED;
CREATE INDEX chunks_search ON chunks USING gin (search);
