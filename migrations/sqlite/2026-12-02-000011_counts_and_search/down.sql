DROP INDEX accounts_removed;
DROP INDEX associations_retained;
DROP TRIGGER accounts_search_delete;
DROP TRIGGER accounts_search_update;
DROP TRIGGER accounts_search_insert;
DROP TABLE accounts_search;
ALTER TABLE folders DROP COLUMN member_count;
