-- Sessions live on the server (rule T1): the cookie carries only a random key, and only
-- its SHA-256 is stored. admin_id / member_user_id name who signed in, so that a session
-- ends with its user; epoch is the user's session_epoch at sign-in, and a password change
-- raises the user's, which ends every other session at once.
CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    state          TEXT NOT NULL,
    admin_id       INTEGER,
    member_user_id BIGINT,
    epoch          INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMP NOT NULL,
    expires_at     TIMESTAMP NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_admin ON sessions (admin_id);
CREATE INDEX sessions_member_user ON sessions (member_user_id);
ALTER TABLE admins ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE member_users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;

-- Counted events for the limits that must hold across servers (sign-in failures per user
-- name and per client address, mail to one address, PublishNotification per access key):
-- one row per event in a scope such as 'login-user:admin' or 'mail:someone@example.com'.
CREATE TABLE rate_events (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    at    TIMESTAMP NOT NULL
);
CREATE INDEX rate_events_scope ON rate_events (scope, at);
CREATE INDEX rate_events_at ON rate_events (at);

-- Finished jobs may have carried a verification or invitation link in the clear: erased.
UPDATE jobs SET payload = '{}' WHERE status IN ('done', 'failed');

-- Rule M6: a recipient a member user adds receives nothing until its owner confirms the
-- address through a single-use link (only its hash kept). Recipients from before this
-- rule keep receiving (they count as verified from their creation).
ALTER TABLE mc_recipients ADD COLUMN verified_at TIMESTAMP;
UPDATE mc_recipients SET verified_at = created_at;
CREATE TABLE mc_recipient_verifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient_id BIGINT NOT NULL REFERENCES mc_recipients (id) ON DELETE CASCADE,
    address      TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    sent_at      TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    used_at      TIMESTAMP
);
CREATE INDEX mc_recipient_verifications_recipient ON mc_recipient_verifications (recipient_id, sent_at);
