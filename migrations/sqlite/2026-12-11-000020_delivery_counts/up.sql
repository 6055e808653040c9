-- Each notification's deliveries by status, kept by triggers in the transaction that
-- changes them (as on PostgreSQL): the Notifications page counted every delivery of the
-- notifications it shows on each view. One row per notification, made with it.
CREATE TABLE delivery_counts (
    notification_id BIGINT PRIMARY KEY REFERENCES notifications (id) ON DELETE CASCADE,
    pending  BIGINT NOT NULL DEFAULT 0,
    sending  BIGINT NOT NULL DEFAULT 0,
    sent     BIGINT NOT NULL DEFAULT 0,
    retrying BIGINT NOT NULL DEFAULT 0,
    failed   BIGINT NOT NULL DEFAULT 0,
    skipped  BIGINT NOT NULL DEFAULT 0
);
INSERT INTO delivery_counts (notification_id, pending, sending, sent, retrying, failed, skipped)
    SELECT n.id,
           (SELECT COUNT(*) FROM deliveries d WHERE d.notification_id = n.id AND d.status = 'pending'),
           (SELECT COUNT(*) FROM deliveries d WHERE d.notification_id = n.id AND d.status = 'sending'),
           (SELECT COUNT(*) FROM deliveries d WHERE d.notification_id = n.id AND d.status = 'sent'),
           (SELECT COUNT(*) FROM deliveries d WHERE d.notification_id = n.id AND d.status = 'retrying'),
           (SELECT COUNT(*) FROM deliveries d WHERE d.notification_id = n.id AND d.status = 'failed'),
           (SELECT COUNT(*) FROM deliveries d WHERE d.notification_id = n.id AND d.status = 'skipped')
    FROM notifications n;

CREATE TRIGGER notifications_delivery_counts AFTER INSERT ON notifications BEGIN
    INSERT OR IGNORE INTO delivery_counts (notification_id) VALUES (NEW.id);
END;
CREATE TRIGGER deliveries_counted_added AFTER INSERT ON deliveries BEGIN
    UPDATE delivery_counts SET pending = pending + (NEW.status = 'pending'), sending = sending + (NEW.status = 'sending'), sent = sent + (NEW.status = 'sent'), retrying = retrying + (NEW.status = 'retrying'), failed = failed + (NEW.status = 'failed'), skipped = skipped + (NEW.status = 'skipped') WHERE notification_id = NEW.notification_id;
END;
CREATE TRIGGER deliveries_counted_removed AFTER DELETE ON deliveries BEGIN
    UPDATE delivery_counts SET pending = pending - (OLD.status = 'pending'), sending = sending - (OLD.status = 'sending'), sent = sent - (OLD.status = 'sent'), retrying = retrying - (OLD.status = 'retrying'), failed = failed - (OLD.status = 'failed'), skipped = skipped - (OLD.status = 'skipped') WHERE notification_id = OLD.notification_id;
END;
CREATE TRIGGER deliveries_counted_changed AFTER UPDATE OF status ON deliveries WHEN OLD.status <> NEW.status BEGIN
    UPDATE delivery_counts SET pending = pending - (OLD.status = 'pending'), sending = sending - (OLD.status = 'sending'), sent = sent - (OLD.status = 'sent'), retrying = retrying - (OLD.status = 'retrying'), failed = failed - (OLD.status = 'failed'), skipped = skipped - (OLD.status = 'skipped') WHERE notification_id = OLD.notification_id;
    UPDATE delivery_counts SET pending = pending + (NEW.status = 'pending'), sending = sending + (NEW.status = 'sending'), sent = sent + (NEW.status = 'sent'), retrying = retrying + (NEW.status = 'retrying'), failed = failed + (NEW.status = 'failed'), skipped = skipped + (NEW.status = 'skipped') WHERE notification_id = NEW.notification_id;
END;
