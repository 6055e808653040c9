DROP TRIGGER associations_keys_fixed ON associations;
DROP FUNCTION rdc_association_keys_fixed();
DROP TRIGGER accounts_kept_while_associated ON accounts;
DROP FUNCTION rdc_account_kept_while_associated();
DROP TRIGGER contacts_deleted_with_associations ON contacts;
DROP FUNCTION rdc_contact_deleted_with_associations();
CREATE OR REPLACE FUNCTION rdc_association_count_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r RECORD;
BEGIN
    FOR r IN SELECT contact_id, COUNT(*) AS n FROM added GROUP BY contact_id ORDER BY contact_id LOOP
        UPDATE association_counts SET n = n + r.n WHERE contact_id = r.contact_id;
    END LOOP;
    RETURN NULL;
END $$;
ALTER TABLE associations ADD CONSTRAINT associations_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE associations ADD CONSTRAINT associations_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE;
