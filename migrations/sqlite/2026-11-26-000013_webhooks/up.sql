-- Webhook endpoints, and the outbox of their deliveries. An endpoint's `cursor` is the last
-- change of the feed it has considered: the worker turns each later change the endpoint may
-- see and has subscribed to into a delivery, in the transaction that moves the cursor on, so a
-- committed change is never lost and a rolled-back one never sent.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    url TEXT NOT NULL,
    description TEXT,
    event_types TEXT NOT NULL,
    location_ids TEXT,
    scope TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT 1,
    disabled_reason TEXT,
    -- Signing secrets: kept as they are, since every message is signed with them. The previous
    -- one keeps signing beside the new one for a day after a rotation.
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_until TIMESTAMP,
    failing_since TIMESTAMP,
    cursor BIGINT NOT NULL,
    -- The node sending this endpoint's messages, and until when: one node at a time, so they
    -- go in order.
    lease_owner TEXT,
    lease_until TIMESTAMP,
    created_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_by_organisation ON webhooks (organisation_id, id);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    -- The change sent; its record is read when each attempt is made, with the endpoint's
    -- scope then, so an attempt never carries what the endpoint may no longer read.
    change_seq BIGINT,
    -- What a test ping sends (a change's message is built when it is sent).
    payload TEXT,
    status TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    next_attempt_at TIMESTAMP,
    last_attempt_at TIMESTAMP,
    response_status INTEGER,
    duration_ms BIGINT,
    error TEXT,
    -- Which node holds the delivery while it sends it, and until when.
    lease_owner TEXT,
    lease_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
