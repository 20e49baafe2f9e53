-- The stored state of an entity or instance (every value of every field, with its dot)
-- is read and written only by the server, whole, on every push that touches the record.
-- As jsonb, PostgreSQL parsed it on every write and printed it on every read: a large
-- share of its CPU per batch for shared records with many values. As text it is stored
-- as sent (lz4-compressed, as set by 0003: a type change keeps the column's compression).
ALTER TABLE entities ALTER COLUMN state TYPE text USING state::text;
ALTER TABLE instances ALTER COLUMN state TYPE text USING state::text;
ALTER TABLE entities ALTER COLUMN state SET COMPRESSION lz4;
ALTER TABLE instances ALTER COLUMN state SET COMPRESSION lz4;
