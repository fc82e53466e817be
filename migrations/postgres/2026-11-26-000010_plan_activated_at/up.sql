-- A plan's activation is an instant, as its completion is (the day stays for the review cycle).
ALTER TABLE improvement_plans ADD COLUMN activated_at TIMESTAMP;
UPDATE improvement_plans SET activated_at = activated_on::timestamp WHERE activated_on IS NOT NULL;
