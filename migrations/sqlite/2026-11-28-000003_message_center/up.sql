-- Associations: (member, contact) pairs in effect. Each is also the member's Message
-- Center entry for that contact (rule M1): the entry keeps only what the member changed,
-- the message types it turned off (a bit set) and whether it removed the entry (M2, M3);
-- everything else is read from the contact, so an edit of the contact reaches every
-- member without rewriting a row per member.
CREATE TABLE associations (
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    contact_id    TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    associated_at TIMESTAMP NOT NULL,
    mc_opt_out    INTEGER NOT NULL DEFAULT 0,
    mc_removed_at TIMESTAMP,
    PRIMARY KEY (account_id, contact_id)
);
CREATE INDEX associations_contact ON associations (contact_id);

-- The member's own recipients (rule M4: the security email is the first one).
CREATE TABLE mc_recipients (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    name          TEXT NOT NULL,
    email         TEXT NOT NULL,
    message_types INTEGER NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    modified_at   TIMESTAMP NOT NULL
);
CREATE INDEX mc_recipients_account ON mc_recipients (account_id);

-- People who look after one member's Message Center. They sign in with their email;
-- password_hash stays empty until they accept their invitation.
CREATE TABLE member_users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    email         TEXT NOT NULL,
    email_key     TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    invited_by    TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    activated_at  TIMESTAMP
);
CREATE INDEX member_users_account ON member_users (account_id);

-- Invitation links: the same rules as verification links (only a hash, single use).
CREATE TABLE member_invitations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    member_user_id BIGINT NOT NULL REFERENCES member_users (id) ON DELETE CASCADE,
    token_hash     TEXT NOT NULL UNIQUE,
    sent_at        TIMESTAMP NOT NULL,
    expires_at     TIMESTAMP NOT NULL,
    used_at        TIMESTAMP
);
