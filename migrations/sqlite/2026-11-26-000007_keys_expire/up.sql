-- Keys are forgotten after a day; the purge every keyed request runs reads this index.
-- Keys stored before this migration were kept as sent; they are dropped, as a retry after an
-- upgrade is not one careloop promises to recognise.
DELETE FROM idempotency_keys;
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
