DROP TRIGGER deliveries_counted_changed;
DROP TRIGGER deliveries_counted_removed;
DROP TRIGGER deliveries_counted_added;
DROP TRIGGER notifications_delivery_counts;
DROP TABLE delivery_counts;
