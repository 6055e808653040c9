-- Servers keep, while the search version stands, what folder, member and contact pages
-- read of contacts and their bindings (a contact and its bindings, a folder's contacts,
-- those it may bind). A contact added, changed in any column or deleted, and a binding
-- added, changed or removed, move a second number on, also in plain SQL: kept reads of
-- contacts are kept under both numbers, while searches and the other kept reads of
-- members and folders, under `version` only, stay kept. Deferred as the members' bump
-- is: once per transaction, at commit.
ALTER TABLE search_version ADD COLUMN contacts_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION rdc_bump_contacts_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('rdc.contacts_bumped', true) IS DISTINCT FROM 'on' THEN
        PERFORM set_config('rdc.contacts_bumped', 'on', true);
        UPDATE search_version SET contacts_version = contacts_version + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER contacts_contacts_version
    AFTER INSERT OR DELETE OR UPDATE ON contacts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rdc_bump_contacts_version();
CREATE CONSTRAINT TRIGGER bindings_contacts_version
    AFTER INSERT OR DELETE OR UPDATE ON bindings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rdc_bump_contacts_version();
