-- Counts kept up to date instead of recounted per request: each folder's members
-- directly inside (the directory's total and a subtree's are sums over folders).
ALTER TABLE folders ADD COLUMN member_count BIGINT NOT NULL DEFAULT 0;
UPDATE folders f SET member_count = (SELECT COUNT(*) FROM accounts a WHERE a.folder_id = f.id AND a.removed_at IS NULL);

-- Search by name, id or email without a full scan: trigram indexes that LIKE '%…%' uses.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX accounts_name_trgm ON accounts USING gin (lower(display_name) gin_trgm_ops);
CREATE INDEX accounts_email_trgm ON accounts USING gin (lower(security_email) gin_trgm_ops);
CREATE INDEX accounts_id_trgm ON accounts USING gin (id gin_trgm_ops);
CREATE INDEX folders_name_trgm ON folders USING gin (lower(name) gin_trgm_ops);

-- The few associations kept by rule U2 (or removed from a Message Center), found
-- without reading every association of a contact bound at the root.
CREATE INDEX associations_retained ON associations (contact_id, account_id) WHERE retained_types <> 0;
CREATE INDEX accounts_removed ON accounts (removed_at) WHERE removed_at IS NOT NULL;
