CREATE INDEX accounts_name_trgm ON accounts USING gin (lower(display_name) gin_trgm_ops);
CREATE INDEX accounts_email_trgm ON accounts USING gin (lower(security_email) gin_trgm_ops);
CREATE INDEX accounts_id_trgm ON accounts USING gin (lower(id) gin_trgm_ops);
