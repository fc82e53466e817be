DROP INDEX concerns_by_status;
CREATE INDEX concerns_by_status ON concerns (
    organisation_id, status, risk, acknowledged_at, acknowledge_by, resolved_at, feedback_by,
    location_id, confidential, raised_by_sub
);
