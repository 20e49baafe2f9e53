-- FieldSync data model, version 1.
-- Every record belongs to one account (ids are unique per account, so keys are
-- (account_id, id)). Versioned records (org units, instances, entities) keep their
-- per-field multi-value registers in `state` (jsonb) and the pull document in `doc`.
-- Every feed-visible table carries (feed_xid, feed_seq): the writing transaction's
-- id and a sequence number, which the pull cursor orders by (see 0002 and
-- Sources/FieldSyncServer/Storage/PullQuery.swift for why xid and not the sequence).

CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS ltree;

CREATE SEQUENCE feed_seq AS bigint CACHE 1;

CREATE TABLE accounts (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE projects (
    account_id  uuid NOT NULL REFERENCES accounts (id),
    id          uuid NOT NULL,
    name        text NOT NULL,
    app_id      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, id),
    UNIQUE (account_id, app_id)
);

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    account_id    uuid REFERENCES accounts (id),          -- NULL only for the superuser
    username      text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('superuser', 'admin', 'supervisor', 'agent')),
    project_ids   uuid[] NOT NULL DEFAULT '{}',
    org_unit_ids  uuid[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'superuser') = (account_id IS NULL))
);
CREATE INDEX users_account ON users (account_id);

-- Bearer tokens: only a SHA-256 of the token is stored.
CREATE TABLE auth_tokens (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id   uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX auth_tokens_user ON auth_tokens (user_id);

-- Failed logins, per username and per address, for the login rate limit.
CREATE TABLE login_failures (
    key         text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_at ON login_failures (key, at);

CREATE TABLE devices (
    account_id   uuid NOT NULL REFERENCES accounts (id),
    id           uuid NOT NULL,
    model        text,
    app_version  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, id)
);

-- Who held a device when: one open row (ended_at NULL) per device.
CREATE TABLE device_ownerships (
    account_id  uuid NOT NULL,
    device_id   uuid NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id),
    started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    ended_at    timestamptz,
    PRIMARY KEY (account_id, device_id, started_at),
    FOREIGN KEY (account_id, device_id) REFERENCES devices (account_id, id)
);
CREATE UNIQUE INDEX device_ownerships_current ON device_ownerships (account_id, device_id) WHERE ended_at IS NULL;
CREATE INDEX device_ownerships_user ON device_ownerships (user_id);

CREATE TABLE orgunit_types (
    account_id  uuid NOT NULL REFERENCES accounts (id),
    id          uuid NOT NULL,
    name        text NOT NULL,
    depth       integer NOT NULL CHECK (depth >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, id)
);

-- Org units: a tree per account. `path` is the ltree of ids (hex, no dashes) from
-- the root to the unit itself; moving a unit re-paths its subtree.
CREATE TABLE org_units (
    account_id        uuid NOT NULL REFERENCES accounts (id),
    id                uuid NOT NULL,
    project_id        uuid,
    parent_id         uuid,
    name              text NOT NULL,
    org_unit_type_id  uuid,
    path              ltree NOT NULL,
    geom              geometry(MultiPolygon, 4326),
    simplified_geom   geometry(MultiPolygon, 4326),
    location          geometry(Point, 4326),
    location_z        double precision,
    aliases           text[] NOT NULL DEFAULT '{}',
    validation_status text NOT NULL DEFAULT 'validated'
                      CHECK (validation_status IN ('validated', 'pending', 'rejected')),
    state             jsonb NOT NULL DEFAULT '{"fields":{},"version":{}}',
    version           jsonb NOT NULL DEFAULT '{}',
    doc               jsonb NOT NULL DEFAULT '{}',
    created_by        uuid,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    feed_xid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    feed_seq          bigint NOT NULL DEFAULT nextval('feed_seq'),
    PRIMARY KEY (account_id, id)
);
CREATE INDEX org_units_path ON org_units USING gist (path);
CREATE INDEX org_units_parent ON org_units (account_id, parent_id);
CREATE INDEX org_units_geom ON org_units USING gist (geom);
CREATE INDEX org_units_feed ON org_units (account_id, feed_xid, feed_seq);

-- An agent's org-unit write awaiting review (a "change request").
CREATE TABLE orgunit_change_requests (
    account_id       uuid NOT NULL REFERENCES accounts (id),
    id               uuid NOT NULL,
    org_unit_id      uuid NOT NULL,
    project_id       uuid,
    created_by       uuid NOT NULL,
    device_id        uuid,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    is_creation      boolean NOT NULL,
    base             jsonb NOT NULL,
    replica          text NOT NULL,
    counter          bigint NOT NULL,
    edited_at        timestamptz NOT NULL,
    changes          jsonb NOT NULL,
    approved_fields  text[],
    comment          text,
    reviewed_by      uuid,
    reviewed_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, id),
    UNIQUE (account_id, org_unit_id, replica, counter)
);
CREATE INDEX orgunit_change_requests_status ON orgunit_change_requests (account_id, status, created_at);

CREATE TABLE forms (
    account_id   uuid NOT NULL REFERENCES accounts (id),
    id           uuid NOT NULL,
    form_id      text NOT NULL,
    name         text NOT NULL,
    project_ids  uuid[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, id),
    UNIQUE (account_id, form_id)
);

CREATE TABLE form_versions (
    account_id  uuid NOT NULL,
    form_uuid   uuid NOT NULL,
    version     text NOT NULL,
    fields      jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, form_uuid, version),
    FOREIGN KEY (account_id, form_uuid) REFERENCES forms (account_id, id)
);

CREATE TABLE entity_types (
    account_id  uuid NOT NULL REFERENCES accounts (id),
    id          uuid NOT NULL,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, id)
);

CREATE TABLE entities (
    account_id      uuid NOT NULL REFERENCES accounts (id),
    id              uuid NOT NULL,
    project_id      uuid NOT NULL,
    entity_type_id  uuid NOT NULL,
    org_unit_id     uuid NOT NULL,
    state           jsonb NOT NULL,
    version         jsonb NOT NULL,
    doc             jsonb NOT NULL,
    has_conflicts   boolean NOT NULL DEFAULT false,
    created_by      uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    feed_xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    feed_seq        bigint NOT NULL DEFAULT nextval('feed_seq'),
    PRIMARY KEY (account_id, id)
);
CREATE INDEX entities_feed ON entities (account_id, feed_xid, feed_seq);
CREATE INDEX entities_org_unit ON entities (account_id, org_unit_id);
CREATE INDEX entities_conflicts ON entities (account_id) WHERE has_conflicts;

CREATE TABLE instances (
    account_id        uuid NOT NULL REFERENCES accounts (id),
    id                uuid NOT NULL,
    project_id        uuid NOT NULL,
    form_uuid         uuid NOT NULL,
    form_version      text NOT NULL,
    org_unit_id       uuid NOT NULL,
    entity_id         uuid,
    period            text,
    location          geometry(Point, 4326),
    location_z        double precision,
    attachments       jsonb NOT NULL DEFAULT '[]',
    complete          boolean NOT NULL DEFAULT true,
    outside_org_unit  boolean NOT NULL DEFAULT false,
    state             jsonb NOT NULL,
    version           jsonb NOT NULL,
    doc               jsonb NOT NULL,
    has_conflicts     boolean NOT NULL DEFAULT false,
    created_by        uuid,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    feed_xid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    feed_seq          bigint NOT NULL DEFAULT nextval('feed_seq'),
    PRIMARY KEY (account_id, id)
);
CREATE INDEX instances_feed ON instances (account_id, feed_xid, feed_seq);
CREATE INDEX instances_org_unit ON instances (account_id, org_unit_id);
CREATE INDEX instances_entity ON instances (account_id, entity_id) WHERE entity_id IS NOT NULL;
CREATE INDEX instances_incomplete ON instances (account_id) WHERE NOT complete;
CREATE INDEX instances_conflicts ON instances (account_id) WHERE has_conflicts;

-- Attachments are content-addressed per account and stored in PostgreSQL in
-- 1 MiB chunks, so every server process on the database sees the same files.
CREATE TABLE attachments (
    account_id  uuid NOT NULL REFERENCES accounts (id),
    sha256      bytea NOT NULL CHECK (length(sha256) = 32),
    size        bigint NOT NULL,
    stored_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, sha256)
);
CREATE TABLE attachment_chunks (
    account_id  uuid NOT NULL,
    sha256      bytea NOT NULL,
    n           integer NOT NULL,
    data        bytea NOT NULL,
    PRIMARY KEY (account_id, sha256, n),
    FOREIGN KEY (account_id, sha256) REFERENCES attachments (account_id, sha256) ON DELETE CASCADE
);
-- Which instance lists which attachment, to mark instances complete when a file arrives.
CREATE TABLE instance_attachments (
    account_id   uuid NOT NULL,
    instance_id  uuid NOT NULL,
    sha256       bytea NOT NULL,
    name         text NOT NULL,
    PRIMARY KEY (account_id, instance_id, name)
);
CREATE INDEX instance_attachments_sha ON instance_attachments (account_id, sha256);

-- GPS tracks: immutable, high volume.
CREATE TABLE positions (
    account_id   uuid NOT NULL REFERENCES accounts (id),
    id           uuid NOT NULL,
    project_id   uuid NOT NULL,
    device_id    uuid NOT NULL,
    user_id      uuid NOT NULL,
    captured_at  timestamptz NOT NULL,
    location     geometry(Point, 4326) NOT NULL,
    location_z   double precision,
    accuracy     double precision,
    altitude     double precision,
    transport    text,
    received_at  timestamptz NOT NULL DEFAULT now(),
    feed_xid     xid8 NOT NULL DEFAULT pg_current_xact_id(),
    feed_seq     bigint NOT NULL DEFAULT nextval('feed_seq'),
    PRIMARY KEY (account_id, id)
);
CREATE INDEX positions_feed ON positions (account_id, feed_xid, feed_seq);
CREATE INDEX positions_device_time ON positions (account_id, device_id, captured_at);

-- Every applied versioned write: who sent it, from which device, in which batch.
CREATE TABLE record_writes (
    account_id  uuid NOT NULL,
    kind        text NOT NULL,
    record_id   uuid NOT NULL,
    replica     text NOT NULL,
    counter     bigint NOT NULL,
    user_id     uuid,
    device_id   uuid,
    batch_id    uuid,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, kind, record_id, replica, counter)
);

-- The first answer to every push batch, for replays.
CREATE TABLE push_batches (
    account_id  uuid NOT NULL REFERENCES accounts (id),
    batch_id    uuid NOT NULL,
    user_id     uuid NOT NULL,
    device_id   uuid NOT NULL,
    response    jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, batch_id)
);
