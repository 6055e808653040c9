-- Every statement trigger of up.sql, found by its name.
DO $$
DECLARE r RECORD;
BEGIN
    FOR r IN SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
             WHERE t.tgname LIKE '%\_activity\_version' AND NOT t.tgisinternal
               AND c.relnamespace = current_schema()::regnamespace
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', r.tgname, r.relname);
    END LOOP;
END $$;
DROP TRIGGER activity_marks_bump ON activity_marks;
DROP FUNCTION rdc_bump_activity_version();
DROP FUNCTION rdc_mark_activity();
DROP TABLE activity_marks;
ALTER TABLE search_version DROP COLUMN activity_version;
