-- Credentials with a life cycle: administrators have a role (`admin` changes anything,
-- `viewer` reads everything and changes nothing); access keys have a description, who
-- created them, a role, a status (a disabled key is refused) and when they were last used
-- (written at most once a minute).
ALTER TABLE admins ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE access_keys ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE access_keys ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
ALTER TABLE access_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE access_keys ADD COLUMN status TEXT NOT NULL DEFAULT 'Enabled';
ALTER TABLE access_keys ADD COLUMN last_used_at TIMESTAMP;
