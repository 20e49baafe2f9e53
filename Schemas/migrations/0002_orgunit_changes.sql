-- Org-unit change requests (agents' proposals) and the merged tree.

-- The tree is streamed in path order (parents before children): a btree index
-- lets PostgreSQL read it in that order without sorting 100k rows.
CREATE INDEX org_units_account_path ON org_units (account_id, path);

-- What an approval wrote: the outcome of the versioned write and the unit's version after it.
ALTER TABLE orgunit_change_requests
    ADD COLUMN applied_status  text,
    ADD COLUMN applied_version jsonb;
CREATE INDEX orgunit_change_requests_unit ON orgunit_change_requests (account_id, org_unit_id);
CREATE INDEX orgunit_change_requests_author ON orgunit_change_requests (account_id, created_by, created_at);
