DROP TABLE contact_verifications;
DROP TABLE contacts;
ALTER TABLE resource_directories DROP COLUMN contact_quota;
