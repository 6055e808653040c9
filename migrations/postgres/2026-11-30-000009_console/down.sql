DROP INDEX jobs_about;
ALTER TABLE jobs DROP COLUMN about;
