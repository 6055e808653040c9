-- Each contact's number of associations, kept by triggers in the transaction that
-- changes them, so a contact's page does not count 100,000 rows on every view (a table
-- of its own, as on PostgreSQL).
CREATE TABLE association_counts (
    contact_id TEXT PRIMARY KEY REFERENCES contacts (id) ON DELETE CASCADE,
    n          BIGINT NOT NULL DEFAULT 0
);
INSERT INTO association_counts (contact_id, n)
    SELECT c.id, (SELECT COUNT(*) FROM associations a WHERE a.contact_id = c.id) FROM contacts c;

CREATE TRIGGER contacts_association_count AFTER INSERT ON contacts BEGIN
    INSERT OR IGNORE INTO association_counts (contact_id, n) VALUES (NEW.id, 0);
END;
CREATE TRIGGER associations_counted_added AFTER INSERT ON associations BEGIN
    UPDATE association_counts SET n = n + 1 WHERE contact_id = NEW.contact_id;
END;
CREATE TRIGGER associations_counted_removed AFTER DELETE ON associations BEGIN
    UPDATE association_counts SET n = n - 1 WHERE contact_id = OLD.contact_id;
END;

-- A contact's associations in member order: propagation and deletion walk them in
-- batches by member id, and each batch finds its end without sorting the rest.
DROP INDEX associations_contact;
CREATE INDEX associations_contact ON associations (contact_id, account_id);
