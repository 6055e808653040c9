-- Servers keep, while the search version stands, what folder, member and contact pages
-- read of contacts and their bindings (a contact and its bindings, a folder's contacts,
-- those it may bind). A contact added, changed in any column or deleted, and a binding
-- added, changed or removed, move a second number on, also in plain SQL: kept reads of
-- contacts are kept under both numbers, while searches and the other kept reads of
-- members and folders, under `version` only, stay kept.
ALTER TABLE search_version ADD COLUMN contacts_version BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER contacts_contacts_version_insert AFTER INSERT ON contacts BEGIN
    UPDATE search_version SET contacts_version = contacts_version + 1 WHERE id = 1;
END;
CREATE TRIGGER contacts_contacts_version_update AFTER UPDATE ON contacts BEGIN
    UPDATE search_version SET contacts_version = contacts_version + 1 WHERE id = 1;
END;
CREATE TRIGGER contacts_contacts_version_delete AFTER DELETE ON contacts BEGIN
    UPDATE search_version SET contacts_version = contacts_version + 1 WHERE id = 1;
END;
CREATE TRIGGER bindings_contacts_version_insert AFTER INSERT ON bindings BEGIN
    UPDATE search_version SET contacts_version = contacts_version + 1 WHERE id = 1;
END;
CREATE TRIGGER bindings_contacts_version_update AFTER UPDATE ON bindings BEGIN
    UPDATE search_version SET contacts_version = contacts_version + 1 WHERE id = 1;
END;
CREATE TRIGGER bindings_contacts_version_delete AFTER DELETE ON bindings BEGIN
    UPDATE search_version SET contacts_version = contacts_version + 1 WHERE id = 1;
END;
