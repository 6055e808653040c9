-- Rule C1: the contact quota of the directory, raised by an administrator.
ALTER TABLE resource_directories ADD COLUMN contact_quota INTEGER NOT NULL DEFAULT 20;

-- message_types: a bit set, one bit per message type (see domain::MessageType).
-- email: the address notifications go to (verified when status is Active);
-- pending_email: a new address waiting for its own verification (rule C5).
CREATE TABLE contacts (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL UNIQUE,
    email         TEXT NOT NULL,
    pending_email TEXT,
    phone         TEXT,
    title         TEXT NOT NULL,
    message_types INTEGER NOT NULL,
    status        TEXT NOT NULL,
    verified_at   TIMESTAMP,
    created_at    TIMESTAMP NOT NULL,
    modified_at   TIMESTAMP NOT NULL
);
CREATE INDEX contacts_created ON contacts (created_at);

-- One row per verification email sent: the token (only its hash), the address it
-- verifies, and when it was used. The rows outlive a deleted contact (contact_id is
-- cleared), because every send counts towards the limits of rule C4.
CREATE TABLE contact_verifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id   TEXT REFERENCES contacts (id) ON DELETE SET NULL,
    address      TEXT NOT NULL,
    address_key  TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    requested_by TEXT NOT NULL,
    sent_at      TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    used_at      TIMESTAMP
);
CREATE INDEX contact_verifications_sent ON contact_verifications (sent_at);
CREATE INDEX contact_verifications_address ON contact_verifications (address_key, sent_at);
CREATE INDEX contact_verifications_contact ON contact_verifications (contact_id, sent_at);
