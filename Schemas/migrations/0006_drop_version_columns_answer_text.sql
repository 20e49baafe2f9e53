-- An entity's and an instance's version vector is part of its `state` (and of its pull
-- document); the separate jsonb `version` column duplicated it, was never read, and cost
-- a jsonb parse, a compression and its bytes on every write.
ALTER TABLE entities DROP COLUMN version;
ALTER TABLE instances DROP COLUMN version;
-- A push's stored answer is only ever sent back as it was first sent (a replay): stored
-- as text, byte for byte, instead of being parsed into jsonb on every push.
ALTER TABLE push_batches ALTER COLUMN response TYPE text USING response::text;
ALTER TABLE push_batches ALTER COLUMN response SET COMPRESSION lz4;
