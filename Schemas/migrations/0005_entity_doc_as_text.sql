-- An entity's pull document is written whole on every push that touches the entity and
-- only ever read back whole (pull, conflicts): as text PostgreSQL stores it as sent
-- instead of parsing it into jsonb on every write. (Instances keep jsonb: their document
-- is amended in SQL with the completeness and outside-unit flags.)
ALTER TABLE entities ALTER COLUMN doc TYPE text USING doc::text;
ALTER TABLE entities ALTER COLUMN doc SET COMPRESSION lz4;
