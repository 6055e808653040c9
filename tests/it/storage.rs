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
