-- Each notification's deliveries by status, kept by triggers in the transaction that
-- changes them: the Notifications page counted every delivery of the notifications it
-- shows on each view (99 ms with 300,000 deliveries). One row per notification, made
-- with it; statement-level triggers update it once per statement, notifications in id
-- order, so two statements never deadlock on it. An update that changes no status
-- leaves it alone.
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
           COUNT(d.id) FILTER (WHERE d.status = 'pending'),
           COUNT(d.id) FILTER (WHERE d.status = 'sending'),
           COUNT(d.id) FILTER (WHERE d.status = 'sent'),
           COUNT(d.id) FILTER (WHERE d.status = 'retrying'),
           COUNT(d.id) FILTER (WHERE d.status = 'failed'),
           COUNT(d.id) FILTER (WHERE d.status = 'skipped')
    FROM notifications n LEFT JOIN deliveries d ON d.notification_id = n.id
    GROUP BY n.id;

CREATE FUNCTION rdc_delivery_counts_new_notification() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO delivery_counts (notification_id) VALUES (NEW.id) ON CONFLICT (notification_id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER notifications_delivery_counts AFTER INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION rdc_delivery_counts_new_notification();

-- Adds one (notification, status, +1 or -1) per element of the three arrays to the counts,
-- notifications in id order; a notification whose counts do not change is left alone.
CREATE FUNCTION rdc_delivery_counts_apply(ids BIGINT[], statuses TEXT[], deltas INT[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE r RECORD;
BEGIN
    FOR r IN
        SELECT id,
               COALESCE(SUM(d) FILTER (WHERE status = 'pending'), 0)  AS pending,
               COALESCE(SUM(d) FILTER (WHERE status = 'sending'), 0)  AS sending,
               COALESCE(SUM(d) FILTER (WHERE status = 'sent'), 0)     AS sent,
               COALESCE(SUM(d) FILTER (WHERE status = 'retrying'), 0) AS retrying,
               COALESCE(SUM(d) FILTER (WHERE status = 'failed'), 0)   AS failed,
               COALESCE(SUM(d) FILTER (WHERE status = 'skipped'), 0)  AS skipped
        FROM unnest(ids, statuses, deltas) AS x(id, status, d)
        GROUP BY id ORDER BY id
    LOOP
        CONTINUE WHEN r.pending = 0 AND r.sending = 0 AND r.sent = 0 AND r.retrying = 0 AND r.failed = 0 AND r.skipped = 0;
        UPDATE delivery_counts
           SET pending = pending + r.pending, sending = sending + r.sending, sent = sent + r.sent,
               retrying = retrying + r.retrying, failed = failed + r.failed, skipped = skipped + r.skipped
         WHERE notification_id = r.id;
    END LOOP;
END $$;

CREATE FUNCTION rdc_delivery_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rdc_delivery_counts_apply(array_agg(notification_id), array_agg(status), array_agg(1)) FROM added;
    RETURN NULL;
END $$;
CREATE TRIGGER deliveries_counted_added AFTER INSERT ON deliveries
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION rdc_delivery_counts_added();

CREATE FUNCTION rdc_delivery_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rdc_delivery_counts_apply(array_agg(notification_id), array_agg(status), array_agg(-1)) FROM removed;
    RETURN NULL;
END $$;
CREATE TRIGGER deliveries_counted_removed AFTER DELETE ON deliveries
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION rdc_delivery_counts_removed();

CREATE FUNCTION rdc_delivery_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rdc_delivery_counts_apply(array_agg(notification_id), array_agg(status), array_agg(d))
       FROM (SELECT notification_id, status, -1 AS d FROM before_rows
             UNION ALL SELECT notification_id, status, 1 FROM after_rows) x;
    RETURN NULL;
END $$;
CREATE TRIGGER deliveries_counted_changed AFTER UPDATE ON deliveries
    REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows FOR EACH STATEMENT EXECUTE FUNCTION rdc_delivery_counts_changed();
