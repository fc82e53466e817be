-- Each tagged record keeps its quality-statement tags in its own row too (a JSON array, each
-- statement once, in order), so a record or a page of them is read with its tags by one
-- statement. quality_statement_tags stays the index that lists filter by and coverage counts.
ALTER TABLE concerns ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE learning_events ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE evidence ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE improvement_plans ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';

-- Gathered from a subquery that orders them: SQLite aggregates rows in the order they come.
UPDATE concerns SET tags = (
    SELECT json_group_array(quality_statement_id) FROM (
        SELECT quality_statement_id FROM quality_statement_tags
        WHERE record_type = 'concern' AND record_id = concerns.id ORDER BY quality_statement_id))
WHERE id IN (SELECT record_id FROM quality_statement_tags WHERE record_type = 'concern');
UPDATE learning_events SET tags = (
    SELECT json_group_array(quality_statement_id) FROM (
        SELECT quality_statement_id FROM quality_statement_tags
        WHERE record_type = 'learning_event' AND record_id = learning_events.id ORDER BY quality_statement_id))
WHERE id IN (SELECT record_id FROM quality_statement_tags WHERE record_type = 'learning_event');
UPDATE evidence SET tags = (
    SELECT json_group_array(quality_statement_id) FROM (
        SELECT quality_statement_id FROM quality_statement_tags
        WHERE record_type = 'evidence' AND record_id = evidence.id ORDER BY quality_statement_id))
WHERE id IN (SELECT record_id FROM quality_statement_tags WHERE record_type = 'evidence');
UPDATE improvement_plans SET tags = (
    SELECT json_group_array(quality_statement_id) FROM (
        SELECT quality_statement_id FROM quality_statement_tags
        WHERE record_type = 'improvement_plan' AND record_id = improvement_plans.id ORDER BY quality_statement_id))
WHERE id IN (SELECT record_id FROM quality_statement_tags WHERE record_type = 'improvement_plan');
