DROP INDEX accounts_listed;
DROP TRIGGER accounts_search_version ON accounts;
DROP FUNCTION rdc_bump_search_version();
DROP TABLE search_version;
