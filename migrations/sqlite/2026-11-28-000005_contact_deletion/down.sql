ALTER TABLE contacts DROP COLUMN deletion_failed_at;
