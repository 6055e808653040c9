CREATE OR REPLACE FUNCTION rdc_contact_deleted_with_associations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM association_counts WHERE contact_id = OLD.id FOR UPDATE;
    DELETE FROM associations WHERE contact_id = OLD.id;
    RETURN OLD;
END $$;
