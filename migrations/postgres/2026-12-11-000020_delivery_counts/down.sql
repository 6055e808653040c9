DROP TRIGGER deliveries_counted_changed ON deliveries;
DROP TRIGGER deliveries_counted_removed ON deliveries;
DROP TRIGGER deliveries_counted_added ON deliveries;
DROP TRIGGER notifications_delivery_counts ON notifications;
DROP FUNCTION rdc_delivery_counts_changed();
DROP FUNCTION rdc_delivery_counts_removed();
DROP FUNCTION rdc_delivery_counts_added();
DROP FUNCTION rdc_delivery_counts_new_notification();
DROP TABLE delivery_counts;
