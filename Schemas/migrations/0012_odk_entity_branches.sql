-- Collect edits entities offline in chains ("branches"): the first update of a chain is
-- based on the version the phone had from the server (trunkVersion), each later one on
-- the phone's own previous update (baseVersion = previous + 1, same branchId). Submissions
-- may arrive in any order; an update whose predecessor in its branch (or whose entity)
-- has not arrived is held, never dropped, and applied when the predecessor is.

-- Branch updates applied: (entity, branch, baseVersion).
CREATE TABLE odk_entity_branch_writes (
    account_id    uuid NOT NULL REFERENCES accounts (id),
    entity_id     uuid NOT NULL,
    branch_id     text NOT NULL,
    base_version  bigint NOT NULL,
    instance_id   text NOT NULL,
    applied_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, entity_id, branch_id, base_version)
);

-- Entity updates from submissions waiting for their predecessor or their entity.
CREATE TABLE odk_held_entity_updates (
    account_id     uuid NOT NULL REFERENCES accounts (id),
    instance_id    text NOT NULL,
    entity_id      uuid NOT NULL,
    entity_type_id uuid NOT NULL,
    project_id     uuid NOT NULL,
    branch_id      text,
    base_version   bigint NOT NULL,
    trunk_version  bigint,
    label          text,
    data           jsonb NOT NULL,
    device_id      uuid NOT NULL,
    user_id        uuid NOT NULL,
    held_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, instance_id)
);
CREATE INDEX odk_held_entity_updates_entity ON odk_held_entity_updates (account_id, entity_id);
