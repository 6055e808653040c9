DROP TABLE bounces;
