DROP TABLE rate_events;
ALTER TABLE member_users DROP COLUMN session_epoch;
ALTER TABLE admins DROP COLUMN session_epoch;
DROP TABLE sessions;
