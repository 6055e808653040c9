-- The Notifications page keeps its log and summaries for as long as no delivery, attempt
-- or count changes: deliveries have a number of their own, the sum of `delivery_marks`
-- (see the PostgreSQL migration). SQLite has one writer at a time and row triggers only:
-- one slot, moved on by every row changed.
CREATE TABLE delivery_marks (
    slot  INTEGER PRIMARY KEY,
    marks BIGINT NOT NULL DEFAULT 1
);
INSERT INTO delivery_marks (slot, marks) VALUES (0, 0);
CREATE TRIGGER deliveries_marked_insert AFTER INSERT ON deliveries BEGIN
    UPDATE delivery_marks SET marks = marks + 1 WHERE slot = 0;
END;
CREATE TRIGGER deliveries_marked_update AFTER UPDATE ON deliveries BEGIN
    UPDATE delivery_marks SET marks = marks + 1 WHERE slot = 0;
END;
CREATE TRIGGER deliveries_marked_delete AFTER DELETE ON deliveries BEGIN
    UPDATE delivery_marks SET marks = marks + 1 WHERE slot = 0;
END;
CREATE TRIGGER delivery_attempts_marked_insert AFTER INSERT ON delivery_attempts BEGIN
    UPDATE delivery_marks SET marks = marks + 1 WHERE slot = 0;
END;
CREATE TRIGGER delivery_attempts_marked_update AFTER UPDATE ON delivery_attempts BEGIN
    UPDATE delivery_marks SET marks = marks + 1 WHERE slot = 0;
END;
CREATE TRIGGER delivery_attempts_marked_delete AFTER DELETE ON delivery_attempts BEGIN
    UPDATE delivery_marks SET marks = marks + 1 WHERE slot = 0;
END;
CREATE TRIGGER delivery_counts_marked_insert AFTER INSERT ON delivery_counts BEGIN
    UPDATE delivery_marks SET marks = marks + 1 WHERE slot = 0;
END;
CREATE TRIGGER delivery_counts_marked_update AFTER UPDATE ON delivery_counts BEGIN
    UPDATE delivery_marks SET marks = marks + 1 WHERE slot = 0;
END;
CREATE TRIGGER delivery_counts_marked_delete AFTER DELETE ON delivery_counts BEGIN
    UPDATE delivery_marks SET marks = marks + 1 WHERE slot = 0;
END;
