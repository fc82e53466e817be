DROP TABLE idempotency_keys;
DROP TABLE audit_events;
DROP TABLE concern_updates;
DROP TABLE concerns;
DROP TABLE locations;
DROP TABLE organisations;
