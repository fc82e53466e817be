DROP INDEX learning_events_one_review_a_month;
ALTER TABLE learning_events DROP COLUMN governance_month;
