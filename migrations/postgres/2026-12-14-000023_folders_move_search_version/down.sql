DROP TRIGGER folders_search_version ON folders;
