DROP TRIGGER bindings_search_version ON bindings;
DROP TRIGGER contacts_search_version ON contacts;
