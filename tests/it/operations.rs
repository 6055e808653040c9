//! A server you can watch and keep: health and readiness probes, and backups of the
//! embedded database that restore to the same directory.

use actix_web::http::StatusCode;
use diesel::prelude::*;
use rd_contacts::db::schema::{accounts, contacts, folders};
use rd_contacts::db::{self, backup};

use crate::support::TestApp;

#[actix_web::test]
async fn healthz_answers_and_readyz_says_what_it_checked() {
    let mut app = TestApp::spawn().await;
    let health = app.get("/healthz").await;
    assert_eq!((health.status, health.body.trim()), (StatusCode::OK, "ok"));
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    let v = ready.json();
    assert_eq!((v["status"].as_str(), v["database"].as_str()), (Some("ready"), Some("ok")));
    assert_eq!(v["workers"], "none in this process");
}

#[actix_web::test]
async fn readyz_fails_when_the_database_is_gone_and_healthz_still_answers() {
    let mut app = TestApp::spawn().await;
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
    app.lose_database();
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{}", ready.body);
    let v = ready.json();
    assert_eq!(v["status"], "not ready");
    assert!(v["database"].as_str().unwrap().starts_with("the database"), "{v}");
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK, "the process itself still answers");
}

type Snapshot = (Vec<(String, String)>, Vec<(String, String)>, Vec<(String, String)>);

fn snapshot(c: &mut db::AnyConnection) -> Snapshot {
    (
        folders::table.order(folders::id).select((folders::id, folders::name)).load(c).unwrap(),
        accounts::table.order(accounts::id).select((accounts::id, accounts::display_name)).load(c).unwrap(),
        contacts::table.order(contacts::id).select((contacts::id, contacts::email)).load(c).unwrap(),
    )
}

#[actix_web::test]
async fn a_backup_restores_to_an_identical_directory() {
    let mut app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rdc-backup.db");
    let url = app.database_url().to_owned();
    if db::is_postgres_url(&url) {
        let refused = backup::backup(&url, &file).unwrap_err();
        assert!(refused.to_string().contains("pg_dump"), "{refused}");
        return;
    }
    let folder = app.api("CreateFolder", &[("FolderName", "kept")]).await.json()["Folder"]["FolderId"].as_str().unwrap().to_owned();
    app.api("CreateResourceAccount", &[("DisplayName", "kept member"), ("ParentFolderId", &folder)]).await;
    app.add_contact("tom", "tom@example.com").await;
    app.run_pending_jobs().await;
    let before = app.with_conn(snapshot).await;
    // Taken while the app has the database open.
    assert!(backup::backup(&url, &file).unwrap() > 0);
    #[cfg(unix)]
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions()) & 0o777, 0o600);
    assert!(matches!(backup::backup(&url, &file), Err(backup::BackupError::Exists(_))), "a backup never overwrites");

    // Changes after the backup, then the restore brings the directory back as it was.
    app.api("CreateFolder", &[("FolderName", "lost")]).await;
    app.add_contact("ann", "ann@example.com").await;
    app.run_pending_jobs().await;
    assert_ne!(app.with_conn(snapshot).await, before);
    let held = backup::hold_in_use(&url).unwrap();
    let busy = backup::restore(&url, &file).unwrap_err();
    assert!(busy.to_string().contains("stop it"), "{busy}");
    drop(held);
    backup::restore(&url, &file).unwrap();
    let pool = db::connect(&url, 1).unwrap();
    let after = snapshot(&mut pool.get().unwrap());
    assert_eq!(after, before);
    assert_eq!(rd_contacts::audit::verify(&mut pool.get().unwrap()).unwrap().broken, None, "its audit trail still holds");
    app.leftover_jobs_ok.set(true);
}

#[actix_web::test]
async fn restore_refuses_a_file_that_is_not_an_rd_contacts_backup() {
    let app = TestApp::spawn().await;
    let url = app.database_url().to_owned();
    if db::is_postgres_url(&url) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database").unwrap();
    let refused = backup::restore(&url, &text).unwrap_err().to_string();
    assert!(refused.contains("is not an rd-contacts backup"), "{refused}");
    let missing = backup::restore(&url, &dir.path().join("nothing.db")).unwrap_err().to_string();
    assert!(missing.contains("no such file"), "{missing}");
    // The database itself is untouched.
    assert!(app.with_conn(|c| rd_contacts::directory::get_directory(c).is_ok()).await);
}

#[actix_web::test]
async fn metrics_answer_only_the_token_when_one_is_set() {
    let token = "a-metrics-token-long-enough-to-guess-never-0123";
    let mut app = TestApp::spawn_with(|s| s.metrics_token = Some(secrecy::SecretSlice::from(token.as_bytes().to_vec()))).await;
    let without = app.get("/metrics").await;
    assert_eq!(without.status, StatusCode::UNAUTHORIZED);
    let wrong = app.send(actix_web::test::TestRequest::get().uri("/metrics").insert_header(("Authorization", "Bearer not-it"))).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    app.get("/readyz").await;
    let right = app.send(actix_web::test::TestRequest::get().uri("/metrics").insert_header(("Authorization", format!("Bearer {token}")))).await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.body);
    assert!(right.body.contains("rdc_http_requests_total{route=\"/readyz\",status=\"200\"}"), "{}", right.body);
    assert!(right.body.contains("rdc_verification_emails_daily_limit 100"), "{}", right.body);
}

#[actix_web::test]
async fn without_a_token_metrics_are_for_this_machine_only_and_never_through_a_proxy() {
    let mut app = TestApp::spawn().await;
    let local: std::net::SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let direct = app.send(actix_web::test::TestRequest::get().uri("/metrics").peer_addr(local)).await;
    assert_eq!(direct.status, StatusCode::OK);
    let proxied = app.send(actix_web::test::TestRequest::get().uri("/metrics").peer_addr(local).insert_header(("X-Forwarded-For", "203.0.113.9"))).await;
    assert_eq!(proxied.status, StatusCode::FORBIDDEN);
    let remote: std::net::SocketAddr = "203.0.113.9:40000".parse().unwrap();
    assert_eq!(app.send(actix_web::test::TestRequest::get().uri("/metrics").peer_addr(remote)).await.status, StatusCode::FORBIDDEN);
}
