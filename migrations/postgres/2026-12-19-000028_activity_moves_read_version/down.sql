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
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_activity_version', t);
    END LOOP;
END $$;
DROP TRIGGER activity_marks_bump ON activity_marks;
DROP FUNCTION rdc_bump_activity_version();
DROP FUNCTION rdc_mark_activity();
DROP TABLE activity_marks;
ALTER TABLE search_version DROP COLUMN activity_version;
