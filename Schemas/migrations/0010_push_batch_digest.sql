-- A batchId sent again with other items is not a replay (PROTOCOL.md: replays of whole
-- batches are answered from the first answer): the digest of the batch's items and project
-- tells them apart. NULL for batches stored before it: those are replayed as before.
ALTER TABLE push_batches ADD COLUMN items_sha256 bytea;
