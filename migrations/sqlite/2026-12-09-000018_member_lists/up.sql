-- A number that moves on with every committed change to what a member search reads (a
-- member added, deleted, renamed, moved, removed, or its security email changed). A
-- server keeps each search's matches while the number stands, so the same search under
-- load reads 20 rows instead of sorting thousands. The nonce tells one database file from
-- another. SQLite has one writer at a time, so plain row triggers keep it.
CREATE TABLE search_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    nonce   TEXT NOT NULL,
    version BIGINT NOT NULL
);
INSERT INTO search_version (id, nonce, version) VALUES (1, lower(hex(randomblob(16))), 0);

CREATE TRIGGER accounts_search_version_insert AFTER INSERT ON accounts BEGIN
    UPDATE search_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER accounts_search_version_update AFTER UPDATE OF display_name, security_email, folder_id, removed_at ON accounts BEGIN
    UPDATE search_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER accounts_search_version_delete AFTER DELETE ON accounts BEGIN
    UPDATE search_version SET version = version + 1 WHERE id = 1;
END;

-- The list of current members in its order (ListAccounts without a folder, the console's
-- member pickers): read from this index a page at a time, instead of sorting them all.
CREATE INDEX accounts_listed ON accounts (lower(display_name), id) WHERE removed_at IS NULL;
