-- Vectors of more than one size: gemini-embedding-001 at 768, the offline USE-lite at 512. The column
-- loses its fixed size; every search names one embedder (hence one size) within one chat and scans it
-- exactly, so no ANN index (which would need a fixed size) is wanted.
ALTER TABLE chunks ALTER COLUMN embedding TYPE vector;
-- Changing the type resets the storage to the type's default; keep vectors inline (see 0004).
ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE PLAIN;
