DROP TABLE jobs;
DROP TABLE api_nonces;
DROP TABLE access_keys;
DROP TABLE admins;
DROP TABLE accounts;
DROP TABLE folders;
DROP TABLE resource_directories;
