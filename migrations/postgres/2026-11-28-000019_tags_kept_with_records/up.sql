-- Each tagged record keeps its quality-statement tags in its own row too (a JSON array, each
-- statement once, in order), so a record or a page of them is read with its tags by one
-- statement: the second statement a page's tags took was half of PostgreSQL's time for a
-- list. quality_statement_tags stays the index that lists filter by and coverage counts.
ALTER TABLE concerns ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE learning_events ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE evidence ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE improvement_plans ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';

-- Compact JSON, as careloop writes it; in byte order, as it sorts them. Record ids are
-- COLLATE "C" and the index's record_id is not, so the match names the collation.
UPDATE concerns SET tags = kept.tags FROM (
    SELECT record_id COLLATE "C" AS record_id,
           '[' || string_agg(to_json(quality_statement_id)::text, ',' ORDER BY quality_statement_id COLLATE "C") || ']' AS tags
    FROM quality_statement_tags WHERE record_type = 'concern' GROUP BY record_id) AS kept
WHERE kept.record_id = concerns.id;
UPDATE learning_events SET tags = kept.tags FROM (
    SELECT record_id COLLATE "C" AS record_id,
           '[' || string_agg(to_json(quality_statement_id)::text, ',' ORDER BY quality_statement_id COLLATE "C") || ']' AS tags
    FROM quality_statement_tags WHERE record_type = 'learning_event' GROUP BY record_id) AS kept
WHERE kept.record_id = learning_events.id;
UPDATE evidence SET tags = kept.tags FROM (
    SELECT record_id COLLATE "C" AS record_id,
           '[' || string_agg(to_json(quality_statement_id)::text, ',' ORDER BY quality_statement_id COLLATE "C") || ']' AS tags
    FROM quality_statement_tags WHERE record_type = 'evidence' GROUP BY record_id) AS kept
WHERE kept.record_id = evidence.id;
UPDATE improvement_plans SET tags = kept.tags FROM (
    SELECT record_id COLLATE "C" AS record_id,
           '[' || string_agg(to_json(quality_statement_id)::text, ',' ORDER BY quality_statement_id COLLATE "C") || ']' AS tags
    FROM quality_statement_tags WHERE record_type = 'improvement_plan' GROUP BY record_id) AS kept
WHERE kept.record_id = improvement_plans.id;
