-- Record states, documents and batch answers are rewritten on every push; compressing
-- them with pglz (the default) was a large share of PostgreSQL's CPU per batch. lz4 is
-- several times cheaper to compress and decompress. Applies to values written from now on.
ALTER TABLE entities ALTER COLUMN state SET COMPRESSION lz4, ALTER COLUMN doc SET COMPRESSION lz4;
ALTER TABLE instances ALTER COLUMN state SET COMPRESSION lz4, ALTER COLUMN doc SET COMPRESSION lz4;
ALTER TABLE org_units ALTER COLUMN state SET COMPRESSION lz4, ALTER COLUMN doc SET COMPRESSION lz4;
ALTER TABLE push_batches ALTER COLUMN response SET COMPRESSION lz4;
