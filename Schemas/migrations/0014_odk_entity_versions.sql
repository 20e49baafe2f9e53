-- The visible fields of an entity at each Central integer version an ODK route made
-- (issue 14). Collect sends every saved property of an update, changed or not; a
-- property equal to its value at the version the phone had (trunkVersion) is not an
-- edit, and writing it would show as a conflict with what another phone changed
-- meanwhile. Versions made by other routes (pushes) have no row: their updates are
-- written whole, as before.
CREATE TABLE odk_entity_versions (
    account_id  uuid NOT NULL REFERENCES accounts (id),
    entity_id   uuid NOT NULL,
    version     bigint NOT NULL,
    fields      jsonb NOT NULL,
    PRIMARY KEY (account_id, entity_id, version)
);
