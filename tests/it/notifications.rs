//! Delivering notifications through each member's Message Center: rule M5.

use actix_web::http::StatusCode;
use rd_contacts::config::MailSetting;
use rd_contacts::directory::{self, JoinMethod, NewAccount};
use rd_contacts::domain::{DisplayName, EmailAddress, FolderId, FolderName, MessageTypes, RecipientName};
use rd_contacts::jobs::{self, JobContext};
use rd_contacts::mail::Mailer;
use rd_contacts::message_center;

use crate::support::TestApp;

async fn setup_folder(app: &TestApp) -> String {
    app.with_conn(|c| {
        let root = directory::get_directory(c).unwrap().root_folder_id;
        directory::create_folder(c, &FolderId::parse(&root).unwrap(), &FolderName::parse("ops").unwrap()).unwrap().id
    })
    .await
}

async fn member(app: &TestApp, folder: &str, name: &'static str, email: Option<&'static str>) -> String {
    let f = folder.to_owned();
    app.with_conn(move |c| {
        let new = NewAccount {
            display_name: DisplayName::parse(name).unwrap(),
            folder: FolderId::parse(&f).unwrap(),
            security_email: email.map(|e| EmailAddress::parse(e).unwrap()),
            account_name_prefix: None,
            join_method: JoinMethod::Created,
        };
        directory::create_account(c, &new).unwrap().id
    })
    .await
}

/// Who got which subject, sorted.
fn received(app: &TestApp, subject_part: &str) -> Vec<String> {
    let mut to: Vec<String> = app.sent_emails().into_iter().filter(|e| e.subject.contains(subject_part)).map(|e| e.to).collect();
    to.sort();
    to
}

#[actix_web::test]
async fn m5_a_notification_reaches_each_members_recipients_of_its_type_once_per_address() {
    let mut app = TestApp::spawn().await;
    let folder = setup_folder(&app).await;
    let a = member(&app, &folder, "member a", Some("shared@example.com")).await;
    let b = member(&app, &folder, "member b", None).await;
    let _outside = member(&app, &directory_root(&app).await, "outside", Some("outside@example.com")).await;
    let tom = app.active_contact("tom", "shared@example.com").await;
    let ann = app.active_contact("ann", "ann@example.com").await;
    app.api("UpdateMessageContact", &[("ContactId", &ann), ("MessageTypes.1", "ProductMessage")]).await;
    app.api("AssociateMembers", &[("ContactId", &tom), ("Members.1", &folder)]).await;
    app.api("AssociateMembers", &[("ContactId", &ann), ("Members.1", &folder)]).await;
    let before = app.sent_emails().len();

    let resp = app.api("PublishNotification", &[("MessageType", "SecurityMessage"), ("Subject", "Unusual logon"), ("Content", "Someone signed in."), ("FolderId", &folder)]).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    assert_eq!(resp.json()["Members"], 2);
    assert!(resp.json()["NotificationId"].is_string());
    app.run_pending_jobs().await;
    let sent = received(&app, "Unusual logon");
    // Member a: its own security email and Tom share one address: one email. Member b: Tom.
    assert_eq!(sent, ["shared@example.com", "shared@example.com"], "one per member, Ann (Product only) and the outsider get none");
    assert_eq!(app.sent_emails().len() - before, 2);
    let mail = app.sent_emails().into_iter().find(|e| e.subject.contains("member a")).unwrap();
    assert!(mail.subject.starts_with("[Security]") && mail.text.contains(&a));
    let _ = b;
}

async fn directory_root(app: &TestApp) -> String {
    app.with_conn(|c| directory::get_directory(c).unwrap().root_folder_id).await
}

#[actix_web::test]
async fn m5_a_pending_email_change_still_delivers_to_the_old_verified_address() {
    let mut app = TestApp::spawn().await;
    let folder = setup_folder(&app).await;
    let m = member(&app, &folder, "member", None).await;
    let tom = app.active_contact("tom", "old@example.com").await;
    app.api("AssociateMembers", &[("ContactId", &tom), ("Members.1", &m)]).await;
    app.api("UpdateMessageContact", &[("ContactId", &tom), ("EmailAddress", "new@example.com")]).await;
    app.api("PublishNotification", &[("MessageType", "FaultMessage"), ("Subject", "Disk failure"), ("Content", "x"), ("AccountId", &m)]).await;
    app.run_pending_jobs().await;
    assert_eq!(received(&app, "Disk failure"), ["old@example.com"]);
}

#[actix_web::test]
async fn m5_delete_with_keep_still_delivers_and_remove_stops_delivery() {
    let mut app = TestApp::spawn().await;
    let folder = setup_folder(&app).await;
    let m = member(&app, &folder, "member", Some("own@example.com")).await;
    let keep = app.active_contact("keeper", "keeper@example.com").await;
    let gone = app.active_contact("goner", "goner@example.com").await;
    for c in [&keep, &gone] {
        app.api("AssociateMembers", &[("ContactId", c), ("Members.1", &folder)]).await;
    }
    app.api("DeleteMessageContact", &[("ContactId", &keep), ("RetainContactInMembers", "true")]).await;
    app.api("DeleteMessageContact", &[("ContactId", &gone), ("RetainContactInMembers", "false")]).await;
    app.run_pending_jobs().await;
    app.api("PublishNotification", &[("MessageType", "SecurityMessage"), ("Subject", "After deletion"), ("Content", "x"), ("AccountId", &m)]).await;
    app.run_pending_jobs().await;
    assert_eq!(received(&app, "After deletion"), ["keeper@example.com", "own@example.com"]);
}

#[actix_web::test]
async fn m5_every_attempt_is_logged_and_a_transient_failure_is_retried() {
    let mut app = TestApp::spawn().await;
    let folder = setup_folder(&app).await;
    let m = member(&app, &folder, "member", Some("own@example.com")).await;
    let m2 = m.clone();
    app.with_conn(move |c| {
        message_center::add_recipient(c, &m2, &RecipientName::parse("night").unwrap(), &EmailAddress::parse("night@example.com").unwrap(), MessageTypes::parse(&["FaultMessage"]).unwrap()).unwrap()
    })
    .await;
    app.api("PublishNotification", &[("MessageType", "FaultMessage"), ("Subject", "Outage"), ("Content", "x"), ("AccountId", &m)]).await;
    // A mail server that refuses connections: a transient failure.
    let broken = Mailer::from_setting(&MailSetting::Smtp("smtp://127.0.0.1:9".into()), "x <x@example.com>").unwrap();
    let ctx = JobContext { mailer: broken, ..app.state.jobs() };
    jobs::run_pending_jobs(&ctx).await.unwrap();
    app.sign_in().await;
    let log = app.get("/notifications?outcome=retrying").await;
    assert!(log.body.contains("own@example.com") && log.body.contains("night@example.com"), "{}", log.body);
    let waiting_job = app.with_conn(|c| jobs::recent(c, 1).unwrap()[0].clone()).await;
    assert_eq!(waiting_job.status, jobs::QUEUED, "the sending job waits for the retries");
    assert_eq!(waiting_job.attempts, 0, "waiting for a delivery's retry costs the job no attempt");
    assert!(waiting_job.run_at > rd_contacts::db::now_utc());
    // Due again: now the mail server works.
    app.with_conn(move |c| {
        use diesel::prelude::*;
        use rd_contacts::db::schema::{deliveries, jobs as jobs_table};
        let now = rd_contacts::db::now_utc();
        diesel::update(jobs_table::table.find(waiting_job.id)).set(jobs_table::run_at.eq(now)).execute(c).unwrap();
        diesel::update(deliveries::table).set(deliveries::next_attempt_at.eq(Some(now))).execute(c).unwrap();
    })
    .await;
    app.run_pending_jobs().await;
    assert_eq!(received(&app, "Outage"), ["night@example.com", "own@example.com"]);
    let log = app.get(&format!("/notifications?member={m}&outcome=sent")).await;
    assert!(log.body.contains("night@example.com") && log.body.contains("<td>2</td>"), "two attempts each");
    let test = app.post(&format!("/members/{m}/test-notification"), &[("message_type", "SecurityMessage")]).await;
    assert_eq!(test.status, StatusCode::SEE_OTHER);
    let waiting = app.get(test.location.as_deref().unwrap()).await;
    assert!(waiting.body.contains("sending…"), "the page follows the delivery");
    app.run_pending_jobs().await;
    let page = app.get(test.location.as_deref().unwrap()).await;
    assert!(page.body.contains("own@example.com") && page.body.contains("status-sent") && !page.body.contains("sending…"));
}

#[actix_web::test]
async fn m5_bad_notifications_get_clear_codes() {
    let mut app = TestApp::spawn().await;
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("Subject", "s"), ("Content", "c")], "MissingParameter.MessageType"),
        (&[("MessageType", "Spam"), ("Subject", "s"), ("Content", "c")], "InvalidParameter.MessageType"),
        (&[("MessageType", "FaultMessage"), ("Content", "c")], "MissingParameter.Subject"),
        (&[("MessageType", "FaultMessage"), ("Subject", "s"), ("Content", "c"), ("AccountId", "1234567890123456")], "InvalidMember"),
        (&[("MessageType", "FaultMessage"), ("Subject", "s"), ("Content", "c"), ("FolderId", "fd-0000000000")], "InvalidMember"),
    ];
    for (params, code) in cases {
        assert_eq!(app.api("PublishNotification", params).await.json()["Code"], *code, "{params:?}");
    }
}
