-- What a job works on ("contact:c-…", "notification:12"), kept after its payload is
-- erased: the console finds a contact's tasks, running or just finished, by it.
ALTER TABLE jobs ADD COLUMN about TEXT;
CREATE INDEX jobs_about ON jobs (about, id) WHERE about IS NOT NULL;
