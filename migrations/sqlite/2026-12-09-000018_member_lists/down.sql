DROP INDEX accounts_listed;
DROP TRIGGER accounts_search_version_insert;
DROP TRIGGER accounts_search_version_update;
DROP TRIGGER accounts_search_version_delete;
DROP TABLE search_version;
