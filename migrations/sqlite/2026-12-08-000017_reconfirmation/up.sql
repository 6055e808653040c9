-- Optional re-confirmation (RDC_RECONFIRM_MONTHS): when a verified contact was last asked
-- to confirm that its address still reaches it. Cleared when it confirms; a contact asked
-- more than 30 days ago that has not confirmed is shown as stale (it still receives).
ALTER TABLE contacts ADD COLUMN reconfirm_sent_at TIMESTAMP;
