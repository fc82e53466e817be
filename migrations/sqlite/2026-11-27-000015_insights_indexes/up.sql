-- The insights count records per period of when they happened, within one organisation.
CREATE INDEX concerns_by_raising ON concerns (organisation_id, created_at);
CREATE INDEX evidence_by_date ON evidence (organisation_id, dated_at);
CREATE INDEX learning_events_by_date ON learning_events (organisation_id, occurred_at);
-- Concerns open now are counted by status.
CREATE INDEX concerns_by_status ON concerns (organisation_id, status);
