DROP TRIGGER delivery_counts_marked ON delivery_counts;
DROP TRIGGER delivery_attempts_marked ON delivery_attempts;
DROP TRIGGER deliveries_marked ON deliveries;
DROP FUNCTION rdc_mark_deliveries();
DROP TABLE delivery_marks;
