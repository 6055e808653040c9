DROP INDEX associations_contact;
CREATE INDEX associations_contact ON associations (contact_id);
DROP TRIGGER associations_counted_removed;
DROP TRIGGER associations_counted_added;
DROP TRIGGER contacts_association_count;
DROP TABLE association_counts;
