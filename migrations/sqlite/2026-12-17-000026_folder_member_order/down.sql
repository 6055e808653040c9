DROP INDEX accounts_folder;
CREATE INDEX accounts_folder ON accounts (folder_id, display_name);
