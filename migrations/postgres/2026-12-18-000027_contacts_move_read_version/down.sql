DROP TRIGGER bindings_contacts_version ON bindings;
DROP TRIGGER contacts_contacts_version ON contacts;
DROP FUNCTION rdc_bump_contacts_version();
ALTER TABLE search_version DROP COLUMN contacts_version;
