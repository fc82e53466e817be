-- What one careloop database keeps about itself: the development signing secret, so every
-- command that opens this database signs and verifies with the same one.
CREATE TABLE instance_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    secret TEXT NOT NULL
);
