-- Servers keep, while the read version stands, what pages read of everything else: the
-- history, tags, Message Centers and their users, associations, verifications, bounces,
-- tasks. A change to any of these tables, or to any column of a member or folder, moves a
-- third number on, also in plain SQL; reads kept under all three numbers are dropped,
-- while searches and reads of members, folders and contacts stay kept. Sessions, API
-- nonces and rate events move nothing: no page keeps what they hold, and every request
-- writes them. Nor do deliveries and their attempts and counts, which sending writes a
-- few hundred times a second: the Notifications page reads them each time. SQLite has
-- row triggers only.
ALTER TABLE search_version ADD COLUMN activity_version BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER resource_directories_activity_version_insert AFTER INSERT ON resource_directories BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER resource_directories_activity_version_update AFTER UPDATE ON resource_directories BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER resource_directories_activity_version_delete AFTER DELETE ON resource_directories BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER folders_activity_version_insert AFTER INSERT ON folders BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER folders_activity_version_update AFTER UPDATE ON folders BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER folders_activity_version_delete AFTER DELETE ON folders BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER accounts_activity_version_insert AFTER INSERT ON accounts BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER accounts_activity_version_update AFTER UPDATE ON accounts BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER accounts_activity_version_delete AFTER DELETE ON accounts BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER admins_activity_version_insert AFTER INSERT ON admins BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER admins_activity_version_update AFTER UPDATE ON admins BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER admins_activity_version_delete AFTER DELETE ON admins BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER access_keys_activity_version_insert AFTER INSERT ON access_keys BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER access_keys_activity_version_update AFTER UPDATE ON access_keys BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER access_keys_activity_version_delete AFTER DELETE ON access_keys BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER jobs_activity_version_insert AFTER INSERT ON jobs BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER jobs_activity_version_update AFTER UPDATE ON jobs BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER jobs_activity_version_delete AFTER DELETE ON jobs BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER audit_events_activity_version_insert AFTER INSERT ON audit_events BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER audit_events_activity_version_update AFTER UPDATE ON audit_events BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER audit_events_activity_version_delete AFTER DELETE ON audit_events BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER audit_chain_activity_version_insert AFTER INSERT ON audit_chain BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER audit_chain_activity_version_update AFTER UPDATE ON audit_chain BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER audit_chain_activity_version_delete AFTER DELETE ON audit_chain BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER bounces_activity_version_insert AFTER INSERT ON bounces BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER bounces_activity_version_update AFTER UPDATE ON bounces BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER bounces_activity_version_delete AFTER DELETE ON bounces BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER association_counts_activity_version_insert AFTER INSERT ON association_counts BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER association_counts_activity_version_update AFTER UPDATE ON association_counts BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER association_counts_activity_version_delete AFTER DELETE ON association_counts BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER contact_verifications_activity_version_insert AFTER INSERT ON contact_verifications BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER contact_verifications_activity_version_update AFTER UPDATE ON contact_verifications BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER contact_verifications_activity_version_delete AFTER DELETE ON contact_verifications BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER associations_activity_version_insert AFTER INSERT ON associations BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER associations_activity_version_update AFTER UPDATE ON associations BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER associations_activity_version_delete AFTER DELETE ON associations BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER unbind_tasks_activity_version_insert AFTER INSERT ON unbind_tasks BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER unbind_tasks_activity_version_update AFTER UPDATE ON unbind_tasks BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER unbind_tasks_activity_version_delete AFTER DELETE ON unbind_tasks BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER mc_recipients_activity_version_insert AFTER INSERT ON mc_recipients BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER mc_recipients_activity_version_update AFTER UPDATE ON mc_recipients BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER mc_recipients_activity_version_delete AFTER DELETE ON mc_recipients BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER member_users_activity_version_insert AFTER INSERT ON member_users BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER member_users_activity_version_update AFTER UPDATE ON member_users BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER member_users_activity_version_delete AFTER DELETE ON member_users BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER mc_recipient_verifications_activity_version_insert AFTER INSERT ON mc_recipient_verifications BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER mc_recipient_verifications_activity_version_update AFTER UPDATE ON mc_recipient_verifications BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER mc_recipient_verifications_activity_version_delete AFTER DELETE ON mc_recipient_verifications BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER admin_invitations_activity_version_insert AFTER INSERT ON admin_invitations BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER admin_invitations_activity_version_update AFTER UPDATE ON admin_invitations BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER admin_invitations_activity_version_delete AFTER DELETE ON admin_invitations BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER member_invitations_activity_version_insert AFTER INSERT ON member_invitations BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER member_invitations_activity_version_update AFTER UPDATE ON member_invitations BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER member_invitations_activity_version_delete AFTER DELETE ON member_invitations BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER notifications_activity_version_insert AFTER INSERT ON notifications BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER notifications_activity_version_update AFTER UPDATE ON notifications BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER notifications_activity_version_delete AFTER DELETE ON notifications BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER deletion_fail_reasons_activity_version_insert AFTER INSERT ON deletion_fail_reasons BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER deletion_fail_reasons_activity_version_update AFTER UPDATE ON deletion_fail_reasons BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER deletion_fail_reasons_activity_version_delete AFTER DELETE ON deletion_fail_reasons BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER tags_activity_version_insert AFTER INSERT ON tags BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER tags_activity_version_update AFTER UPDATE ON tags BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
CREATE TRIGGER tags_activity_version_delete AFTER DELETE ON tags BEGIN
    UPDATE search_version SET activity_version = activity_version + 1 WHERE id = 1;
END;
