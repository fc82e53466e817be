-- Learning events, evidence, the links between records, quality-statement tags and
-- self-assessments.
CREATE TABLE learning_events (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    location_id TEXT REFERENCES locations (id),
    kind TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    title TEXT NOT NULL,
    summary TEXT,
    facilitator TEXT,
    participants TEXT NOT NULL,
    went_well TEXT,
    did_not_go_well TEXT,
    to_change TEXT,
    lessons TEXT NOT NULL,
    shared_via TEXT NOT NULL,
    external_system TEXT,
    external_id TEXT,
    recorded_by TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (organisation_id, external_system, external_id)
);
CREATE INDEX learning_events_by_organisation ON learning_events (organisation_id, id);

CREATE TABLE evidence (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    location_id TEXT REFERENCES locations (id),
    source TEXT NOT NULL,
    evidence_category TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT,
    observed_at TIMESTAMP,
    period_start TIMESTAMP,
    period_end TIMESTAMP,
    -- observed_at, or period_start: the time the evidence speaks of, for filters and series.
    dated_at TIMESTAMP NOT NULL,
    respondent TEXT,
    metric_name TEXT,
    metric_value DOUBLE PRECISION,
    metric_unit TEXT,
    metric_target DOUBLE PRECISION,
    metric_direction TEXT,
    links TEXT NOT NULL,
    external_system TEXT,
    external_id TEXT,
    recorded_by TEXT NOT NULL,
    archived_at TIMESTAMP,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (organisation_id, external_system, external_id)
);
CREATE INDEX evidence_by_organisation ON evidence (organisation_id, id);
CREATE INDEX evidence_by_metric ON evidence (organisation_id, metric_name, dated_at);

-- Which quality statements a record is tagged with.
CREATE TABLE quality_statement_tags (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    quality_statement_id TEXT NOT NULL,
    PRIMARY KEY (record_type, record_id, quality_statement_id)
);
CREATE INDEX quality_statement_tags_by_statement ON quality_statement_tags (organisation_id, quality_statement_id);

-- A link from one record to another (a learning event to the concern it came from, evidence to
-- a learning event), read both ways.
CREATE TABLE record_links (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    from_type TEXT NOT NULL,
    from_id TEXT NOT NULL,
    to_type TEXT NOT NULL,
    to_id TEXT NOT NULL,
    PRIMARY KEY (from_type, from_id, to_type, to_id)
);
CREATE INDEX record_links_to ON record_links (to_type, to_id);

-- Every score given; the latest per statement is the current one.
CREATE TABLE self_assessments (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    location_id TEXT NOT NULL REFERENCES locations (id),
    framework_id TEXT NOT NULL,
    quality_statement_id TEXT NOT NULL,
    score INTEGER NOT NULL,
    rationale TEXT NOT NULL,
    evidence_ids TEXT NOT NULL,
    assessed_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX self_assessments_by_location ON self_assessments (organisation_id, location_id, framework_id, id);
