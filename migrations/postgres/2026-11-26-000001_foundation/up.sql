-- The PostgreSQL twin of migrations/sqlite: the same schema, with ids in the "C" collation so
-- that keyset pagination orders them byte by byte, as SQLite does.
-- Foundation: organisations, locations, concerns with their timeline, the audit trail and
-- idempotency records. Ids are UUIDv7 text; times are UTC.
CREATE TABLE organisations (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    cqc_provider_id TEXT,
    ods_code TEXT,
    acknowledge_within_hours INTEGER NOT NULL DEFAULT 72,
    feedback_within_days INTEGER NOT NULL DEFAULT 90,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE locations (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    cqc_location_id TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX locations_by_organisation ON locations (organisation_id, id);

CREATE TABLE concerns (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    location_id TEXT REFERENCES locations (id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    risk TEXT NOT NULL,
    status TEXT NOT NULL,
    confidential BOOLEAN NOT NULL,
    anonymous BOOLEAN NOT NULL,
    raised_by_sub TEXT,
    raised_by_name TEXT,
    receipt_hash TEXT UNIQUE,
    external_system TEXT,
    external_id TEXT,
    escalated_to TEXT,
    outcome TEXT,
    acknowledge_by TIMESTAMP NOT NULL,
    feedback_by TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP,
    resolved_at TIMESTAMP,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (organisation_id, external_system, external_id)
);
CREATE INDEX concerns_by_organisation ON concerns (organisation_id, id);
CREATE INDEX concerns_by_update ON concerns (organisation_id, updated_at);

CREATE TABLE concern_updates (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    concern_id TEXT NOT NULL REFERENCES concerns (id),
    kind TEXT NOT NULL,
    visibility TEXT NOT NULL,
    body TEXT,
    from_status TEXT,
    to_status TEXT,
    author_sub TEXT,
    author_name TEXT,
    by_raiser BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX concern_updates_by_concern ON concern_updates (concern_id, id);

CREATE TABLE audit_events (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    changed_fields TEXT NOT NULL,
    detail TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_by_organisation ON audit_events (organisation_id, id);
CREATE INDEX audit_events_by_resource ON audit_events (organisation_id, resource_type, resource_id);

-- The first answer to a POST carrying an Idempotency-Key, so a retry replays it.
CREATE TABLE idempotency_keys (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    scope TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_location TEXT,
    response_body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (organisation_id, scope, idempotency_key)
);
