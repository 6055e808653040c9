-- Servers keep, while the search version stands, what folder, member and contact pages
-- read of contacts and their bindings (the contacts a folder has on its path, those it
-- may bind, a contact and its bindings). So a contact added, changed in any column or
-- deleted, and a binding added, changed or removed, move the version on as members and
-- folders do (migrations 000018 and 000023), also in plain SQL.
CREATE TRIGGER contacts_search_version_insert AFTER INSERT ON contacts BEGIN
    UPDATE search_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER contacts_search_version_update AFTER UPDATE ON contacts BEGIN
    UPDATE search_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER contacts_search_version_delete AFTER DELETE ON contacts BEGIN
    UPDATE search_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER bindings_search_version_insert AFTER INSERT ON bindings BEGIN
    UPDATE search_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER bindings_search_version_update AFTER UPDATE ON bindings BEGIN
    UPDATE search_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER bindings_search_version_delete AFTER DELETE ON bindings BEGIN
    UPDATE search_version SET version = version + 1 WHERE id = 1;
END;
