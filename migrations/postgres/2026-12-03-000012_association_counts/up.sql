-- Each contact's number of associations, kept by triggers in the transaction that
-- changes them, so a contact's page does not count 100,000 rows on every view. A table of
-- its own: a propagation's batches update it, and an administrator editing the contact
-- meanwhile never waits on them. Statement-level triggers: one update per contact per
-- statement, whatever the number of rows; contacts in id order, so that two statements
-- touching the same contacts never deadlock.
CREATE TABLE association_counts (
    contact_id TEXT PRIMARY KEY REFERENCES contacts (id) ON DELETE CASCADE,
    n          BIGINT NOT NULL DEFAULT 0
);
INSERT INTO association_counts (contact_id, n)
    SELECT c.id, (SELECT COUNT(*) FROM associations a WHERE a.contact_id = c.id) FROM contacts c;

CREATE FUNCTION rdc_association_count_new_contact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO association_counts (contact_id, n) VALUES (NEW.id, 0) ON CONFLICT (contact_id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER contacts_association_count AFTER INSERT ON contacts
    FOR EACH ROW EXECUTE FUNCTION rdc_association_count_new_contact();

CREATE FUNCTION rdc_association_count_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r RECORD;
BEGIN
    FOR r IN SELECT contact_id, COUNT(*) AS n FROM added GROUP BY contact_id ORDER BY contact_id LOOP
        UPDATE association_counts SET n = n + r.n WHERE contact_id = r.contact_id;
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER associations_counted_added AFTER INSERT ON associations
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION rdc_association_count_added();

CREATE FUNCTION rdc_association_count_removed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r RECORD;
BEGIN
    FOR r IN SELECT contact_id, COUNT(*) AS n FROM removed GROUP BY contact_id ORDER BY contact_id LOOP
        UPDATE association_counts SET n = n - r.n WHERE contact_id = r.contact_id;
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER associations_counted_removed AFTER DELETE ON associations
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION rdc_association_count_removed();

-- A contact's associations in member order: propagation and deletion walk them in
-- batches by member id, and each batch finds its end without sorting the rest.
DROP INDEX associations_contact;
CREATE INDEX associations_contact ON associations (contact_id, account_id);

-- The trigram index for searching by id must not serve `id = …`: pg_trgm answers
-- equality too, and the planner took it over the primary key for the member lookups of
-- every propagation batch (a GIN probe per row: 5 s a batch at a million members).
-- On lower(id), which only the search's `lower(id) LIKE …` uses.
DROP INDEX accounts_id_trgm;
CREATE INDEX accounts_id_trgm ON accounts USING gin (lower(id) gin_trgm_ops);
