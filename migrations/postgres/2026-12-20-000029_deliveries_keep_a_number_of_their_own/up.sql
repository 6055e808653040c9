-- The Notifications page keeps its log and summaries for as long as no delivery, attempt
-- or count changes. Deliveries do not move the read version on (migration 000028: the 16
-- senders would wait on each other for its row), so they have a number of their own: the
-- sum of `delivery_marks`. A transaction that changes a delivery, an attempt or a count
-- adds one to one slot (its backend's id modulo 1,024) as its first such statement runs,
-- once, and the sum moves on as it commits, never before. Senders in different slots never
-- wait on each other, and only the Notifications page reads the sum: a scan of at most
-- 1,024 small rows. Each slot only grows, so two reads of the sum that agree saw the same
-- committed changes.
CREATE TABLE delivery_marks (
    slot  INTEGER PRIMARY KEY,
    marks BIGINT NOT NULL DEFAULT 1
);

CREATE FUNCTION rdc_mark_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('rdc.deliveries_marked', true) IS DISTINCT FROM 'on' THEN
        PERFORM set_config('rdc.deliveries_marked', 'on', true);
        INSERT INTO delivery_marks (slot) VALUES (pg_backend_pid() % 1024)
            ON CONFLICT (slot) DO UPDATE SET marks = delivery_marks.marks + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER deliveries_marked AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION rdc_mark_deliveries();
CREATE TRIGGER delivery_attempts_marked AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON delivery_attempts
    FOR EACH STATEMENT EXECUTE FUNCTION rdc_mark_deliveries();
CREATE TRIGGER delivery_counts_marked AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON delivery_counts
    FOR EACH STATEMENT EXECUTE FUNCTION rdc_mark_deliveries();
