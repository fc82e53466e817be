-- Imports: who imported which kind of record, when, how, and the report (never the file).
CREATE TABLE imports (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL,
    mode TEXT NOT NULL,
    on_error TEXT NOT NULL,
    format TEXT NOT NULL,
    date_format TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    rows_read BIGINT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    failed BIGINT NOT NULL,
    errors TEXT NOT NULL,
    errors_truncated BOOLEAN NOT NULL,
    refused BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX imports_by_organisation ON imports (organisation_id, id);
