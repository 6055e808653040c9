-- Notifications published to members (rule M5) and their deliveries: one row per
-- (notification, member, address), so an address that reaches a member twice gets one
-- email; every attempt is logged.
CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_type TEXT NOT NULL,
    subject      TEXT NOT NULL,
    content      TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    members      BIGINT NOT NULL,
    requested_by TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id BIGINT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL,
    address         TEXT NOT NULL,
    address_key     TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    last_error      TEXT,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (notification_id, account_id, address_key)
);
CREATE INDEX deliveries_status ON deliveries (notification_id, status);
CREATE INDEX deliveries_account ON deliveries (account_id, id);

CREATE TABLE delivery_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id  BIGINT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempted_at TIMESTAMP NOT NULL,
    outcome      TEXT NOT NULL,
    error        TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);
