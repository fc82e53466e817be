-- A kept answer's ETag comes from the version of the record it answered, not from its body.
ALTER TABLE idempotency_keys ADD COLUMN response_version BIGINT;
