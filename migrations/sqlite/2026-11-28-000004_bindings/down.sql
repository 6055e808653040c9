DROP TABLE unbind_tasks;
ALTER TABLE associations DROP COLUMN retained_types;
DROP TABLE bindings;
