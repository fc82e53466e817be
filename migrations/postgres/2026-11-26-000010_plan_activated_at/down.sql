ALTER TABLE improvement_plans DROP COLUMN activated_at;
