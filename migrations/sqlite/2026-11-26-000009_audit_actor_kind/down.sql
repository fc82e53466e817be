UPDATE audit_events SET actor = 'anonymous' WHERE actor_kind = 'anonymous';
UPDATE audit_events SET actor = 'careloop' WHERE actor_kind = 'system';
ALTER TABLE audit_events DROP COLUMN actor_kind;
