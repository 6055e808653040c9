-- An association's account and contact, checked once per statement instead of once per
-- row. A binding at the root of a million members inserts a million associations, and
-- their two foreign keys checked each row with a query of its own that also locked the
-- row it found (FOR KEY SHARE, one WAL record each): 22 s of the 40 s INSERT on a slow
-- machine. The same guarantees, set-based:
--  * Every added row's contact exists: the count trigger below already updates each
--    contact's count row once per statement, and that row lives exactly as long as the
--    contact (created with it, deleted with it by its foreign key).
--  * Every added row's account exists: one anti-join of the statement's rows.
--  * A contact is deleted with its associations (was ON DELETE CASCADE). Before the
--    contact goes, its count row is locked: a statement still adding for the contact
--    holds that row until it commits, so the deletion waits for it and then deletes
--    what it added; one that comes later waits, finds no count row and fails.
--  * An account with associations is not deleted (was NO ACTION; the service never
--    deletes accounts). The deletion waits for every writer of associations (SHARE
--    lock) and refuses.
--  * An association's account and contact never change.
-- Violations raise foreign_key_violation (23503), as the keys did.
ALTER TABLE associations DROP CONSTRAINT associations_account_id_fkey;
ALTER TABLE associations DROP CONSTRAINT associations_contact_id_fkey;

CREATE OR REPLACE FUNCTION rdc_association_count_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r RECORD;
BEGIN
    FOR r IN SELECT contact_id, COUNT(*) AS n FROM added GROUP BY contact_id ORDER BY contact_id LOOP
        UPDATE association_counts SET n = n + r.n WHERE contact_id = r.contact_id;
        IF NOT FOUND THEN
            RAISE foreign_key_violation USING MESSAGE = format('contact %s does not exist', r.contact_id);
        END IF;
    END LOOP;
    IF EXISTS (SELECT 1 FROM added a WHERE NOT EXISTS (SELECT 1 FROM accounts m WHERE m.id = a.account_id)) THEN
        RAISE foreign_key_violation USING MESSAGE = 'an association names an account that does not exist';
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION rdc_contact_deleted_with_associations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM association_counts WHERE contact_id = OLD.id FOR UPDATE;
    DELETE FROM associations WHERE contact_id = OLD.id;
    RETURN OLD;
END $$;
CREATE TRIGGER contacts_deleted_with_associations BEFORE DELETE ON contacts
    FOR EACH ROW EXECUTE FUNCTION rdc_contact_deleted_with_associations();

CREATE FUNCTION rdc_account_kept_while_associated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE associations IN SHARE MODE;
    IF EXISTS (SELECT 1 FROM associations WHERE account_id = OLD.id) THEN
        RAISE foreign_key_violation USING MESSAGE = format('account %s has associations', OLD.id);
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER accounts_kept_while_associated BEFORE DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION rdc_account_kept_while_associated();

CREATE FUNCTION rdc_association_keys_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.account_id <> OLD.account_id OR NEW.contact_id <> OLD.contact_id THEN
        RAISE foreign_key_violation USING MESSAGE = 'an association''s account and contact do not change';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER associations_keys_fixed BEFORE UPDATE OF account_id, contact_id ON associations
    FOR EACH ROW EXECUTE FUNCTION rdc_association_keys_fixed();
