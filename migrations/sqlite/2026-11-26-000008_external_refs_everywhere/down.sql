DROP INDEX recognitions_external_ref;
ALTER TABLE recognitions DROP COLUMN external_id;
ALTER TABLE recognitions DROP COLUMN external_system;
DROP INDEX locations_external_ref;
ALTER TABLE locations DROP COLUMN external_id;
ALTER TABLE locations DROP COLUMN external_system;
DROP INDEX plan_actions_external_ref;
ALTER TABLE plan_actions DROP COLUMN external_id;
ALTER TABLE plan_actions DROP COLUMN external_system;
