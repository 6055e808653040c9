DROP INDEX associations_contact;
CREATE INDEX associations_contact ON associations (contact_id);
DROP TRIGGER associations_counted_removed ON associations;
DROP TRIGGER associations_counted_added ON associations;
DROP TRIGGER contacts_association_count ON contacts;
DROP FUNCTION rdc_association_count_removed();
DROP FUNCTION rdc_association_count_added();
DROP FUNCTION rdc_association_count_new_contact();
DROP TABLE association_counts;
