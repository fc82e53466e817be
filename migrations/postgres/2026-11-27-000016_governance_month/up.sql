-- A governance review recorded from a month's governance pack names that month (YYYY-MM):
-- one review per month and location (or per month for the whole organisation).
ALTER TABLE learning_events ADD COLUMN governance_month TEXT;
CREATE UNIQUE INDEX learning_events_one_review_a_month
    ON learning_events (organisation_id, governance_month, COALESCE(location_id, ''))
    WHERE governance_month IS NOT NULL;
