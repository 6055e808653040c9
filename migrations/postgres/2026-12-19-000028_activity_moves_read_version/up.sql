-- Servers keep, while the read version stands, what pages read of everything else: the
-- history, tags, Message Centers and their users, associations, verifications, bounces,
-- tasks. A change to any of these tables, or to any column of a member or folder, moves a
-- third number on, also in plain SQL; reads kept under all three numbers are dropped,
-- while searches and reads of members, folders and contacts stay kept. Sessions, API
-- nonces and rate events move nothing: no page keeps what they hold, and every request
-- writes them. Nor do deliveries and their attempts and counts: sending commits a few
-- hundred times a second, and every commit that moves the number takes the version's row
-- lock until it is flushed, so the senders waited on each other (`bench notify` fell from
-- 80% of smtplib's rate to 65-76%). The Notifications page reads them each time.
--
-- Associations are written 5,000 rows a statement, so a row trigger at commit would run
-- 5,000 times a batch. A statement trigger marks the transaction once instead (its
-- backend's row in `activity_marks`, written again), and that row's deferred trigger
-- bumps the number at commit: the version's row is locked only for the commit's last
-- moment, as the other two numbers' are, and the number moves on with the change's
-- commit, never before it. A backend writes only its own row, so marks never wait on
-- each other, and no mark is ever deleted or scanned.
ALTER TABLE search_version ADD COLUMN activity_version BIGINT NOT NULL DEFAULT 0;

CREATE TABLE activity_marks (
    backend INTEGER PRIMARY KEY,
    marks   BIGINT NOT NULL DEFAULT 1
);

CREATE FUNCTION rdc_mark_activity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('rdc.activity_marked', true) IS DISTINCT FROM 'on' THEN
        PERFORM set_config('rdc.activity_marked', 'on', true);
        INSERT INTO activity_marks (backend) VALUES (pg_backend_pid())
            ON CONFLICT (backend) DO UPDATE SET marks = activity_marks.marks + 1;
    END IF;
    RETURN NULL;
END $$;

-- Runs at commit, once for the transaction's one mark.
CREATE FUNCTION rdc_bump_activity_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER activity_marks_bump
    AFTER INSERT OR UPDATE ON activity_marks
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rdc_bump_activity_version();

DO $$
DECLARE t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'resource_directories', 'folders', 'accounts', 'admins', 'access_keys', 'jobs',
        'audit_events', 'audit_chain', 'bounces', 'association_counts',
        'contact_verifications', 'associations', 'unbind_tasks', 'mc_recipients',
        'member_users', 'mc_recipient_verifications', 'admin_invitations',
        'member_invitations', 'notifications', 'deletion_fail_reasons', 'tags'
    ] LOOP
        EXECUTE format(
            'CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
            'FOR EACH STATEMENT EXECUTE FUNCTION rdc_mark_activity()',
            t || '_activity_version', t);
    END LOOP;
END $$;
