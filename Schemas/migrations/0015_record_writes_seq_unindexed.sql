-- Every read of `record_writes.seq` is of one record's writes (Central's integer versions,
-- ODK's entity versions): the primary key's prefix (account_id, kind, record_id) finds
-- them and the few rows sort in memory. The index of 0011 only cost every push a second
-- index entry per write (bench-entities, 2026-12-04: +15 KiB of WAL per batch of 100 and
-- about 0.7 ms of PostgreSQL CPU, record_writes 77 → 100 MiB).
DROP INDEX IF EXISTS record_writes_seq;
