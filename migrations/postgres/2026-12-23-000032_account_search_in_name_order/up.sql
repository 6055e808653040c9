-- The members' search rows in name order. A search's first read visits every page that
-- holds one of its matches. Written in the order members were added, the 83,334 members
-- whose names begin with "retail" at a million sat one in twelve across all 17,571 pages
-- of account_search (182-227 ms to read them); in name order they sit together, as a
-- common word mostly begins the names it is in (65 ms). So a statement that adds or
-- changes many members at once (the demo, an import, a directory file) writes their rows
-- in name order, and the rows already here are rewritten so once.
CREATE OR REPLACE FUNCTION rdc_account_search_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO account_search
        SELECT a.id, a.folder_id, lower(a.display_name),
               lower(a.display_name) || chr(31) || lower(a.id) || chr(31) || COALESCE(lower(a.security_email), '')
        FROM added a WHERE a.removed_at IS NULL
        ORDER BY lower(a.display_name), a.id;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION rdc_account_search_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM account_search s USING changed a WHERE s.id = a.id AND a.removed_at IS NOT NULL;
    INSERT INTO account_search
        SELECT a.id, a.folder_id, lower(a.display_name),
               lower(a.display_name) || chr(31) || lower(a.id) || chr(31) || COALESCE(lower(a.security_email), '')
        FROM changed a WHERE a.removed_at IS NULL
        ORDER BY lower(a.display_name), a.id
        ON CONFLICT (id) DO UPDATE SET folder_id = EXCLUDED.folder_id, name_key = EXCLUDED.name_key, hay = EXCLUDED.hay
        WHERE (account_search.folder_id, account_search.name_key, account_search.hay)
              IS DISTINCT FROM (EXCLUDED.folder_id, EXCLUDED.name_key, EXCLUDED.hay);
    RETURN NULL;
END $$;

CREATE INDEX account_search_in_name_order ON account_search (name_key, id);
CLUSTER account_search USING account_search_in_name_order;
DROP INDEX account_search_in_name_order;
ANALYZE account_search;
