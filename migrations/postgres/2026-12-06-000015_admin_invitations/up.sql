-- An administrator invited by email: their row waits without a password (an empty hash
-- matches none) until they set one through the emailed link. The same rules as member
-- users' invitations: 256-bit single-use links kept as hashes, the newest link only,
-- valid seven days.
CREATE TABLE admin_invitations (
    id          BIGSERIAL PRIMARY KEY,
    admin_id    INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    invited_by  TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    sent_at     TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);
CREATE INDEX admin_invitations_admin ON admin_invitations (admin_id, id);
