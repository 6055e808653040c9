-- Counts kept up to date instead of recounted per request: each folder's members
-- directly inside (the directory's total and a subtree's are sums over folders).
ALTER TABLE folders ADD COLUMN member_count BIGINT NOT NULL DEFAULT 0;
UPDATE folders SET member_count = (SELECT COUNT(*) FROM accounts a WHERE a.folder_id = folders.id AND a.removed_at IS NULL);

-- Search by name, id or email without a full scan: an FTS5 trigram index of each
-- member's searchable text, kept in step by triggers. Its rowid is the account id as a
-- number (ids are 16 digits), which VACUUM never renumbers.
CREATE VIRTUAL TABLE accounts_search USING fts5(body, tokenize = 'trigram');
INSERT INTO accounts_search (rowid, body)
    SELECT CAST(id AS INTEGER), lower(display_name) || ' ' || id || ' ' || lower(COALESCE(security_email, '')) FROM accounts;
CREATE TRIGGER accounts_search_insert AFTER INSERT ON accounts BEGIN
    INSERT INTO accounts_search (rowid, body) VALUES (CAST(new.id AS INTEGER), lower(new.display_name) || ' ' || new.id || ' ' || lower(COALESCE(new.security_email, '')));
END;
CREATE TRIGGER accounts_search_update AFTER UPDATE OF display_name, security_email ON accounts BEGIN
    DELETE FROM accounts_search WHERE rowid = CAST(old.id AS INTEGER);
    INSERT INTO accounts_search (rowid, body) VALUES (CAST(new.id AS INTEGER), lower(new.display_name) || ' ' || new.id || ' ' || lower(COALESCE(new.security_email, '')));
END;
CREATE TRIGGER accounts_search_delete AFTER DELETE ON accounts BEGIN
    DELETE FROM accounts_search WHERE rowid = CAST(old.id AS INTEGER);
END;

CREATE INDEX associations_retained ON associations (contact_id, account_id) WHERE retained_types <> 0;
CREATE INDEX accounts_removed ON accounts (removed_at) WHERE removed_at IS NOT NULL;
