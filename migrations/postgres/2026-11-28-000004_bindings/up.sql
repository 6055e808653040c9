-- Bindings: an administrator's explicit choice of (contact, target). target_id is kept
-- as given (the directory id or the root id both mean the whole directory); target_key
-- is what it covers: the folder id (the root's for the directory) or the member id.
-- folder_path is the covered folder's path, so "members covered" is one prefix match.
CREATE TABLE bindings (
    id          BIGSERIAL PRIMARY KEY,
    contact_id  TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    target_id   TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_key  TEXT NOT NULL,
    folder_path TEXT,
    account_id  TEXT,
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (contact_id, target_key)
);
CREATE INDEX bindings_target ON bindings (target_key);

-- An association kept by rule U2 after its binding went away: the message types it is
-- the only recipient of for that member (0: not retained).
ALTER TABLE associations ADD COLUMN retained_types INTEGER NOT NULL DEFAULT 0;

-- Unbinding tasks running in the background (rule U3): while one runs, members in its
-- folder's subtree cannot move (rule B6).
CREATE TABLE unbind_tasks (
    job_id      BIGINT PRIMARY KEY,
    contact_id  TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    folder_path TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
