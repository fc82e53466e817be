-- A list of concerns filtered by one status and one risk walks this index in id order (the
-- list's order) and stops at its page: with `id` after the filtered columns there is nothing to
-- sort, and only the page's rows are read from the table. The columns after `id` keep the
-- index covering the insights' counts of open concerns by status. Built beside the old one
-- before it is dropped, so reads of concerns wait only for the swap, not for the build.
CREATE INDEX concerns_by_status_listed ON concerns (
    organisation_id, status, risk, id, acknowledged_at, acknowledge_by, resolved_at,
    feedback_by, location_id, confidential, raised_by_sub
);
DROP INDEX concerns_by_status;
ALTER INDEX concerns_by_status_listed RENAME TO concerns_by_status;
