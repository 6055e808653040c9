ALTER TABLE access_keys DROP COLUMN last_used_at;
ALTER TABLE access_keys DROP COLUMN status;
ALTER TABLE access_keys DROP COLUMN role;
ALTER TABLE access_keys DROP COLUMN created_by;
ALTER TABLE access_keys DROP COLUMN description;
ALTER TABLE admins DROP COLUMN role;
