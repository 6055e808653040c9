CREATE OR REPLACE FUNCTION rdc_account_search_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO account_search
        SELECT a.id, a.folder_id, lower(a.display_name),
               lower(a.display_name) || chr(31) || lower(a.id) || chr(31) || COALESCE(lower(a.security_email), '')
        FROM added a WHERE a.removed_at IS NULL;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION rdc_account_search_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM account_search s USING changed a WHERE s.id = a.id AND a.removed_at IS NOT NULL;
    INSERT INTO account_search
        SELECT a.id, a.folder_id, lower(a.display_name),
               lower(a.display_name) || chr(31) || lower(a.id) || chr(31) || COALESCE(lower(a.security_email), '')
        FROM changed a WHERE a.removed_at IS NULL
        ON CONFLICT (id) DO UPDATE SET folder_id = EXCLUDED.folder_id, name_key = EXCLUDED.name_key, hay = EXCLUDED.hay
        WHERE (account_search.folder_id, account_search.name_key, account_search.hay)
              IS DISTINCT FROM (EXCLUDED.folder_id, EXCLUDED.name_key, EXCLUDED.hay);
    RETURN NULL;
END $$;
