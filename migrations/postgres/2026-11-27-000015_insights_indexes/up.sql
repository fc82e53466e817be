-- The insights count records per period of when they happened, within one organisation.
-- Concerns are read by when they were raised with every column the figures and the visibility
-- rule need, so the read never visits the table (a concern's text makes its rows long).
CREATE INDEX concerns_by_raising ON concerns (
    organisation_id, created_at, category, risk, status, acknowledged_at, resolved_at,
    acknowledge_by, feedback_by, location_id, confidential, raised_by_sub
);
CREATE INDEX evidence_by_date ON evidence (organisation_id, dated_at);
CREATE INDEX learning_events_by_date ON learning_events (organisation_id, occurred_at);
-- Concerns open now are counted by status, and those past a deadline among them, from the index
-- alone.
CREATE INDEX concerns_by_status ON concerns (
    organisation_id, status, risk, acknowledged_at, acknowledge_by, resolved_at, feedback_by,
    location_id, confidential, raised_by_sub
);
