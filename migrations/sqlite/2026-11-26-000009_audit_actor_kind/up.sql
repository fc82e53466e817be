-- Who made a change is a person of a kind (a user, an anonymous raiser, careloop itself), not
-- a magic value of `actor`, which now holds only a user's `sub`.
ALTER TABLE audit_events ADD COLUMN actor_kind TEXT NOT NULL DEFAULT 'user';
UPDATE audit_events SET actor_kind = 'anonymous', actor = '' WHERE actor = 'anonymous';
UPDATE audit_events SET actor_kind = 'system', actor = '' WHERE actor = 'careloop';
