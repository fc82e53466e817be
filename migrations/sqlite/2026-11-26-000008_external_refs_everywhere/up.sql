-- Actions, locations and recognitions can come from another system too: each may carry the
-- id that system gave it, unique per organisation, so an import can find it again.
ALTER TABLE plan_actions ADD COLUMN external_system TEXT;
ALTER TABLE plan_actions ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX plan_actions_external_ref ON plan_actions (organisation_id, external_system, external_id);
ALTER TABLE locations ADD COLUMN external_system TEXT;
ALTER TABLE locations ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX locations_external_ref ON locations (organisation_id, external_system, external_id);
ALTER TABLE recognitions ADD COLUMN external_system TEXT;
ALTER TABLE recognitions ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX recognitions_external_ref ON recognitions (organisation_id, external_system, external_id);
