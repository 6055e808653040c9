-- A number that moves on with every committed change to what a member search reads (a
-- member added, deleted, renamed, moved, removed, or its security email changed). A
-- server keeps each search's matches while the number stands, so the same search under
-- load reads 20 rows instead of sorting thousands. The nonce tells one database from
-- another (tests run many in one process; a server may be pointed at another database).
--
-- The bump is a deferred trigger: it runs at commit, once per transaction, so the row is
-- locked only for the commit's last moment and never while the transaction waits on other
-- locks (no deadlock with the folders' counts). A reader reads the number before it
-- searches, so what it keeps is never older than the number it keeps it under.
CREATE TABLE search_version (
    id      SMALLINT PRIMARY KEY CHECK (id = 1),
    nonce   TEXT NOT NULL,
    version BIGINT NOT NULL
);
INSERT INTO search_version (id, nonce, version) VALUES (1, md5(random()::text || clock_timestamp()::text), 0);

CREATE FUNCTION rdc_bump_search_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('rdc.search_bumped', true) IS DISTINCT FROM 'on' THEN
        PERFORM set_config('rdc.search_bumped', 'on', true);
        UPDATE search_version SET version = version + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER accounts_search_version
    AFTER INSERT OR DELETE OR UPDATE OF display_name, security_email, folder_id, removed_at ON accounts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rdc_bump_search_version();

-- The list of current members in its order (ListAccounts without a folder, the console's
-- member pickers): read from this index a page at a time, instead of sorting them all.
CREATE INDEX accounts_listed ON accounts (lower(display_name), id) WHERE removed_at IS NULL;
