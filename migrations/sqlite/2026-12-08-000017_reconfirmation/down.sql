ALTER TABLE contacts DROP COLUMN reconfirm_sent_at;
