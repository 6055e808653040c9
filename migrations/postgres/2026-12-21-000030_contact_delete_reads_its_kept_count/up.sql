-- A contact deleted after its removal ran to the end has no associations left, and its
-- kept count (association_counts) says so. Deleting "its associations" anyway walked the
-- index entries of every association its removal had deleted, not yet vacuumed: at a
-- million members 176 ms in the removal's last transaction. The count row is still locked
-- first, so an association added meanwhile is waited for and then deleted as before.
CREATE OR REPLACE FUNCTION rdc_contact_deleted_with_associations() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kept BIGINT;
BEGIN
    SELECT n INTO kept FROM association_counts WHERE contact_id = OLD.id FOR UPDATE;
    IF kept IS NULL OR kept <> 0 THEN
        DELETE FROM associations WHERE contact_id = OLD.id;
    END IF;
    RETURN OLD;
END $$;
