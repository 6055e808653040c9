DROP INDEX accounts_removed;
DROP INDEX associations_retained;
DROP INDEX folders_name_trgm;
DROP INDEX accounts_id_trgm;
DROP INDEX accounts_email_trgm;
DROP INDEX accounts_name_trgm;
ALTER TABLE folders DROP COLUMN member_count;
