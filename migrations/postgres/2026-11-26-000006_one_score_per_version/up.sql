-- A statement's scores are numbered 1, 2, 3… and each number is taken once, so of two scores
-- racing on one If-Match the second to insert fails (and, tried again, is answered 412). Scores
-- that racing requests already numbered alike are renumbered first, in the order they came.
UPDATE self_assessments
SET version = numbered.version
FROM (
    SELECT id, ROW_NUMBER() OVER (
        PARTITION BY organisation_id, location_id, framework_id, quality_statement_id
        ORDER BY version, id
    ) AS version
    FROM self_assessments
) AS numbered
WHERE self_assessments.id = numbered.id AND self_assessments.version <> numbered.version;
CREATE UNIQUE INDEX self_assessments_one_per_version
    ON self_assessments (organisation_id, location_id, framework_id, quality_statement_id, version);
