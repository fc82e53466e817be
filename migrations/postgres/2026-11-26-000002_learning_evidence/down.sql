DROP TABLE self_assessments;
DROP TABLE record_links;
DROP TABLE quality_statement_tags;
DROP TABLE evidence;
DROP TABLE learning_events;
