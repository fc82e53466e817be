-- Each tagged record keeps its quality-statement tags in its own row too (a JSON array, each
-- statement once, in order), so a record or a page of them is read with its tags by one
-- statement: the second statement a page's tags took was a third of PostgreSQL's time for a
-- list. quality_statement_tags stays the index that lists filter by and coverage counts.
ALTER TABLE concerns ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE learning_events ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE evidence ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE improvement_plans ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';

CREATE TEMPORARY TABLE kept_tags AS
    SELECT record_type, record_id COLLATE "C" AS record_id,
           CAST(json_agg(quality_statement_id ORDER BY quality_statement_id COLLATE "C") AS TEXT) AS tags
    FROM quality_statement_tags
    GROUP BY record_type, record_id;
UPDATE concerns SET tags = k.tags FROM kept_tags k
    WHERE k.record_type = 'concern' AND k.record_id = concerns.id;
UPDATE learning_events SET tags = k.tags FROM kept_tags k
    WHERE k.record_type = 'learning_event' AND k.record_id = learning_events.id;
UPDATE evidence SET tags = k.tags FROM kept_tags k
    WHERE k.record_type = 'evidence' AND k.record_id = evidence.id;
UPDATE improvement_plans SET tags = k.tags FROM kept_tags k
    WHERE k.record_type = 'improvement_plan' AND k.record_id = improvement_plans.id;
DROP TABLE kept_tags;
