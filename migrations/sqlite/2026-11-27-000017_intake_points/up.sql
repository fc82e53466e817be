-- Intake points: public, token-free doors per location where people using the service,
-- relatives, professionals and staff give feedback, compliments or concerns. The slug is the
-- door's unguessable public name; rotating it closes the old door at once.
CREATE TABLE intake_points (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    location_id TEXT NOT NULL REFERENCES locations (id),
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    welcome TEXT NOT NULL,
    kinds TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX intake_points_by_slug ON intake_points (slug);
CREATE INDEX intake_points_by_organisation ON intake_points (organisation_id, id);

-- What came in through a door waits for a manager: feedback is unverified evidence, a
-- compliment a recognition awaiting approval. Records from accounts are verified and approved.
ALTER TABLE evidence ADD COLUMN verification TEXT NOT NULL DEFAULT 'verified';
ALTER TABLE recognitions ADD COLUMN approval TEXT NOT NULL DEFAULT 'approved';
ALTER TABLE recognitions ADD COLUMN from_name TEXT;
-- Contact details someone chose to give, with their consent to be contacted (JSON).
ALTER TABLE evidence ADD COLUMN contact TEXT;
ALTER TABLE concerns ADD COLUMN contact TEXT;

-- "You said, we did": an action a manager published, in words written for the public.
ALTER TABLE plan_actions ADD COLUMN you_said TEXT;
ALTER TABLE plan_actions ADD COLUMN we_did TEXT;
ALTER TABLE plan_actions ADD COLUMN published_at TIMESTAMP;

-- Joint reviews: who took part in a plan's review, by role.
ALTER TABLE plan_reviews ADD COLUMN participants TEXT NOT NULL DEFAULT '[]';
