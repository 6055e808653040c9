//! What the storage layer must do the same way on both backends.

use diesel::prelude::*;
use rd_contacts::db::schema::folders;
use rd_contacts::db::{self, now_utc};
use rd_contacts::directory;
use rd_contacts::domain::{FolderId, FolderName};

use crate::support::TestApp;

/// SQLite keeps timestamps as text: a value written by the database in another format
/// would compare wrongly with one written by Rust. Every timestamp is written from Rust,
/// so rows created in the same second as "now" compare as earlier or equal on both.
#[actix_web::test]
async fn timestamps_written_in_the_same_second_compare_in_order_on_both_backends() {
    let app = TestApp::spawn().await;
    let (before, after, total) = app
        .with_conn(|c| {
            let rd = directory::get_directory(c).unwrap();
            let root = FolderId::parse(&rd.root_folder_id).unwrap();
            for i in 0..4 {
                directory::create_folder(c, &root, &FolderName::parse(&format!("f{i}")).unwrap(), &rd_contacts::audit::Actor::cli()).unwrap();
            }
            let now = now_utc();
            let before: i64 = folders::table.filter(folders::created_at.le(now)).count().get_result(c).unwrap();
            let after: i64 = folders::table.filter(folders::created_at.gt(now)).count().get_result(c).unwrap();
            let total: i64 = folders::table.count().get_result(c).unwrap();
            (before, after, total)
        })
        .await;
    assert_eq!(total, 5, "the root and four folders");
    assert_eq!(before, 5, "every folder was created at or before now");
    assert_eq!(after, 0);
}

#[actix_web::test]
async fn a_timestamp_reads_back_exactly_as_written() {
    let app = TestApp::spawn().await;
    let (written, read) = app
        .with_conn(|c| {
            let rd = directory::get_directory(c).unwrap();
            let root = FolderId::parse(&rd.root_folder_id).unwrap();
            let f = directory::create_folder(c, &root, &FolderName::parse("x").unwrap(), &rd_contacts::audit::Actor::cli()).unwrap();
            let read: time::PrimitiveDateTime = folders::table.find(&f.id).select(folders::created_at).first(c).unwrap();
            (f.created_at, read)
        })
        .await;
    assert_eq!(written, read);
}

#[actix_web::test]
async fn migrations_are_idempotent() {
    let app = TestApp::spawn().await;
    let applied = app.with_conn(|c| db::run_migrations(c).unwrap()).await;
    assert!(applied.is_empty(), "a second run applies nothing: {applied:?}");
}

#[actix_web::test]
async fn the_directory_has_alibaba_shaped_ids_and_one_root() {
    let app = TestApp::spawn().await;
    let (rd, again) = app.with_conn(|c| (directory::ensure_directory(c, "x").unwrap(), directory::ensure_directory(c, "y").unwrap())).await;
    assert_eq!(rd.id, again.id, "there is one directory per deployment");
    assert!(rd.id.starts_with("rd-") && rd.id.len() == 9, "{}", rd.id);
    assert!(rd.root_folder_id.starts_with("r-") && rd.root_folder_id.len() == 8, "{}", rd.root_folder_id);
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

#[cfg(unix)]
#[actix_web::test]
async fn the_embedded_database_its_journal_and_the_outbox_are_private_to_the_server() {
    let mut app = TestApp::spawn().await;
    if db::is_postgres_url(app.database_url()) {
        return;
    }
    app.add_contact("private", "private@example.com").await;
    let db_file = std::path::PathBuf::from(app.database_url());
    for suffix in ["", "-wal", "-shm", ".lock"] {
        let path = std::path::PathBuf::from(format!("{}{suffix}", db_file.display()));
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    let dir = std::env::temp_dir().join(format!("rdc-outbox-{}", rd_contacts::domain::random_alphanumeric(8)));
    let outbox = rd_contacts::mail::Mailer::from_setting(&rd_contacts::config::MailSetting::File(dir.clone()), "x <x@example.com>").unwrap();
    outbox.send(&rd_contacts::mail::Email { to: "a@example.com".into(), subject: "s".into(), text: "t".into(), html: "h".into() }).await.unwrap();
    assert_eq!(mode(&dir), 0o700);
    let written = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
    assert_eq!(mode(&written), 0o600, "{}", written.display());
    std::fs::remove_dir_all(dir).ok();
    app.run_pending_jobs().await;
}

#[actix_web::test]
async fn an_unknown_stored_status_is_an_error_never_a_quiet_default() {
    let mut app = TestApp::spawn().await;
    let id = app.add_contact("tampered", "tampered@example.com").await;
    let read = app
        .with_conn(move |c| {
            diesel::sql_query(format!("UPDATE contacts SET status = 'Bogus' WHERE id = '{id}'")).execute(c).unwrap();
            rd_contacts::contacts::get_contact(c, &rd_contacts::domain::ContactId::parse(&id).unwrap()).map(|c| c.status)
        })
        .await;
    let err = read.expect_err("an unknown status does not read as Verifying");
    assert!(err.to_string().contains("unknown contact status \"Bogus\""), "{err}");
    // The queue is left as it is: its contact is unreadable on purpose.
    app.leftover_jobs_ok.set(true);
}

fn associations_of(c: &mut db::AnyConnection, contact: &str) -> (i64, i64) {
    use rd_contacts::db::schema::{association_counts, associations};
    let rows: i64 = associations::table.filter(associations::contact_id.eq(contact)).count().get_result(c).unwrap();
    let kept: i64 = association_counts::table.find(contact).select(association_counts::n).first(c).optional().unwrap().unwrap_or(-1);
    (rows, kept)
}

/// An association names a member and a contact that exist; a member with associations
/// is not deleted; a contact is deleted with its associations. Foreign keys on SQLite,
/// checks once per statement on PostgreSQL (migration 000025): the same answers.
#[actix_web::test]
async fn an_association_names_a_member_and_a_contact_that_exist_and_goes_with_its_contact() {
    let mut app = TestApp::spawn().await;
    let member = crate::support::member_in(&app, None, "kept").await;
    let bound = app.active_contact("tom", "tom@example.com").await;
    let other = app.active_contact("ann", "ann@example.com").await;
    let unbound = app.active_contact("joe", "joe@example.com").await;
    let root = app.with_conn(|c| directory::get_directory(c).unwrap().root_folder_id).await;
    for contact in [&bound, &other] {
        app.api("AssociateMembers", &[("ContactId", contact), ("Members.1", &root)]).await;
    }
    app.run_pending_jobs().await;
    app.with_conn(move |c| {
        assert_eq!(associations_of(c, &bound), (1, 1));
        let refused = |r: &diesel::QueryResult<usize>| matches!(r, Err(e) if db::is_foreign_key_violation(e));
        assert!(refused(&crate::support::add_association(c, &member, "c-nosuchcontact")), "a contact that does not exist");
        assert!(refused(&crate::support::add_association(c, "rd-nosuchmember", &unbound)), "a member that does not exist");
        // One statement with a good row and a bad one adds neither.
        let two = diesel::sql_query(format!(
            "INSERT INTO associations (account_id, contact_id, associated_at, mc_opt_out, retained_types) \
             SELECT m.id, '{unbound}', $1, 0, 0 FROM accounts m WHERE m.id = '{member}' \
             UNION ALL SELECT 'rd-nosuchmember', '{unbound}', $2, 0, 0"
        ))
        .bind::<diesel::sql_types::Timestamp, _>(now_utc())
        .bind::<diesel::sql_types::Timestamp, _>(now_utc())
        .execute(c);
        assert!(refused(&two), "{two:?}");
        assert_eq!(associations_of(c, &unbound), (0, 0));
        let moved = diesel::sql_query(format!("UPDATE associations SET account_id = 'rd-nosuchmember' WHERE contact_id = '{bound}'")).execute(c);
        assert!(refused(&moved), "an association's member does not change: {moved:?}");
        let gone = diesel::sql_query(format!("DELETE FROM accounts WHERE id = '{member}'")).execute(c);
        assert!(refused(&gone), "a member with associations stays: {gone:?}");

        diesel::sql_query(format!("DELETE FROM bindings WHERE contact_id = '{bound}'")).execute(c).unwrap();
        diesel::sql_query(format!("DELETE FROM contacts WHERE id = '{bound}'")).execute(c).unwrap();
        assert_eq!(associations_of(c, &bound), (0, -1), "the contact's associations went with it");
        assert_eq!(associations_of(c, &other), (1, 1), "another contact's stay");
    })
    .await;
}
