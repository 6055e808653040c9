DROP INDEX deliveries_status;
CREATE INDEX deliveries_status ON deliveries (notification_id, status);
