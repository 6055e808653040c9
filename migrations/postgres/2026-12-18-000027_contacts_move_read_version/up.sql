-- Servers keep, while the search version stands, what folder, member and contact pages
-- read of contacts and their bindings (the contacts a folder has on its path, those it
-- may bind, a contact and its bindings). So a contact added, changed in any column or
-- deleted, and a binding added, changed or removed, move the version on as members and
-- folders do (migrations 000018 and 000023), also in plain SQL. Deferred: once per
-- transaction, at commit.
CREATE CONSTRAINT TRIGGER contacts_search_version
    AFTER INSERT OR DELETE OR UPDATE ON contacts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rdc_bump_search_version();
CREATE CONSTRAINT TRIGGER bindings_search_version
    AFTER INSERT OR DELETE OR UPDATE ON bindings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rdc_bump_search_version();
