-- Addresses the mail server refused for good (a 5xx to RCPT or to the message): further
-- notifications to them are skipped and logged as skipped, until an administrator clears
-- the mark. Keyed by the lower-case address.
CREATE TABLE bounces (
    address_key TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    bounced_at TIMESTAMP NOT NULL,
    answer TEXT NOT NULL
);
