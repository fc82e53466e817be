DROP INDEX concerns_by_status;
DROP INDEX learning_events_by_date;
DROP INDEX evidence_by_date;
DROP INDEX concerns_by_raising;
