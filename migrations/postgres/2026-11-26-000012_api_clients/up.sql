-- Machine clients: systems that get their own short-lived tokens at /oauth/token with a client
-- id and secret (only the secret's hash is kept).
CREATE TABLE api_clients (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    roles TEXT NOT NULL,
    locations TEXT,
    secret_hash TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    secret_rotated_at TIMESTAMP,
    revoked_at TIMESTAMP,
    version BIGINT NOT NULL
);
CREATE INDEX api_clients_by_organisation ON api_clients (organisation_id, id);
