DROP INDEX account_search_listed;
