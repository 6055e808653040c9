-- Rule D3: a removal that ended with fail reasons leaves the contact Active, marked here
-- until the next attempt; the reasons are its retained associations.
ALTER TABLE contacts ADD COLUMN deletion_failed_at TIMESTAMP;
