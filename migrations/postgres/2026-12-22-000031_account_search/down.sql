DROP TRIGGER accounts_search_removed ON accounts;
DROP TRIGGER accounts_search_changed ON accounts;
DROP TRIGGER accounts_search_added ON accounts;
DROP FUNCTION rdc_account_search_removed();
DROP FUNCTION rdc_account_search_changed();
DROP FUNCTION rdc_account_search_added();
DROP TABLE account_search;
