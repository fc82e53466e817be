ALTER TABLE improvement_plans DROP COLUMN tags;
ALTER TABLE evidence DROP COLUMN tags;
ALTER TABLE learning_events DROP COLUMN tags;
ALTER TABLE concerns DROP COLUMN tags;
