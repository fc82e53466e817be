-- The change feed. Each organisation's changes are numbered by one counter row, taken with a
-- row lock in the transaction that makes the change: a later number is only ever given out
-- after the earlier one's transaction has committed, so a reader that has seen number n has
-- seen every committed change before it (see the README, "The change feed").
CREATE TABLE change_heads (
    organisation_id TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id),
    last_seq BIGINT NOT NULL DEFAULT 0,
    -- Changes up to this number have been dropped by retention: a cursor before it is gone.
    pruned_through BIGINT NOT NULL DEFAULT 0
);
INSERT INTO change_heads (organisation_id) SELECT id FROM organisations;

CREATE TABLE changes (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    -- NULL while withheld: an anonymous raiser's change is numbered only once its hour is over.
    seq BIGINT,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    action TEXT NOT NULL,
    -- A transition's new state, so `action.completed` can be subscribed to.
    to_state TEXT,
    version BIGINT NOT NULL,
    location_id TEXT,
    occurred_at TIMESTAMP NOT NULL,
    -- When a withheld change may be numbered, and when it was (retention counts from then).
    publish_after TIMESTAMP NOT NULL,
    published_at TIMESTAMP
);
CREATE UNIQUE INDEX changes_by_seq ON changes (organisation_id, seq);
CREATE INDEX changes_withheld ON changes (organisation_id, publish_after) WHERE seq IS NULL;
CREATE INDEX changes_by_publication ON changes (published_at);
