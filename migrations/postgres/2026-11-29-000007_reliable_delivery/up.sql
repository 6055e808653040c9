-- Reliable background work (rule T2) and uniqueness enforced by the schema (rule T5).

-- Jobs: a lane (0 express: mail a person waits for; 1 bulk) so that a large notification
-- never delays a verification link, and the time a job finished, for the retention purge.
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN finished_at TIMESTAMP;
DROP INDEX jobs_runnable;
CREATE INDEX jobs_runnable ON jobs (status, priority, run_at);
CREATE INDEX jobs_locked_by ON jobs (locked_by);
CREATE INDEX jobs_finished ON jobs (finished_at);

-- Deliveries are claimed one row at a time before their email goes out: claimed_by is the
-- lease token of the sending job that holds them (a claim lives exactly as long as that
-- lease); next_attempt_at is when a transient failure may be tried again.
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE deliveries ADD COLUMN claimed_at TIMESTAMP;
ALTER TABLE deliveries ADD COLUMN next_attempt_at TIMESTAMP;

-- A notification is finished when none of its deliveries can change any more; gave_up
-- says why sending stopped early (the deliveries it could not send are failed).
ALTER TABLE notifications ADD COLUMN finished_at TIMESTAMP;
ALTER TABLE notifications ADD COLUMN gave_up TEXT;

-- The fail reasons of a contact's last removal (rule D3), recorded when it ended, all of
-- them, so that they can be paged and counted.
CREATE TABLE deletion_fail_reasons (
    contact_id    TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    account_id    TEXT NOT NULL,
    message_types INTEGER NOT NULL,
    PRIMARY KEY (contact_id, account_id)
);

-- Folder names are unique under their parent, case-insensitively: the schema decides, so
-- that simultaneous creations cannot both win. Earlier duplicates get their id appended.
UPDATE folders SET name = name || ' ' || id
WHERE EXISTS (SELECT 1 FROM folders g WHERE g.parent_id = folders.parent_id AND lower(g.name) = lower(folders.name) AND g.id < folders.id);
CREATE UNIQUE INDEX folders_parent_name ON folders (parent_id, lower(name));
