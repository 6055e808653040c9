DROP TABLE mc_recipient_verifications;
ALTER TABLE mc_recipients DROP COLUMN verified_at;
DROP TABLE rate_events;
ALTER TABLE member_users DROP COLUMN session_epoch;
ALTER TABLE admins DROP COLUMN session_epoch;
DROP TABLE sessions;
