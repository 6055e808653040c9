//! Delivering notifications through each member's Message Center: rule M5.

use actix_web::http::StatusCode;
use rd_contacts::config::MailSetting;
use rd_contacts::directory::{self, JoinMethod, NewAccount};
use rd_contacts::domain::{DisplayName, EmailAddress, FolderId, FolderName, MessageTypes, RecipientName};
use rd_contacts::jobs::{self, JobContext};
use rd_contacts::mail::Mailer;
use rd_contacts::notifications;

use crate::support::TestApp;

async fn setup_folder(app: &TestApp) -> String {
    app.with_conn(|c| {
        let root = directory::get_directory(c).unwrap().root_folder_id;
        directory::create_folder(c, &FolderId::parse(&root).unwrap(), &FolderName::parse("ops").unwrap(), &rd_contacts::audit::Actor::cli()).unwrap().id
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
        rd_contacts::membership::create_account(c, &new, &rd_contacts::audit::Actor::cli()).unwrap().id
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

    let resp = app
        .api(
            "PublishNotification",
            &[("MessageType", "SecurityMessage"), ("Subject", "Unusual logon"), ("Content", "Someone signed in."), ("FolderId", &folder)],
        )
        .await;
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
        crate::support::add_confirmed_recipient(
            c,
            &m2,
            &RecipientName::parse("night").unwrap(),
            &EmailAddress::parse("night@example.com").unwrap(),
            MessageTypes::parse(&["FaultMessage"]).unwrap(),
        )
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
    // The queue is left as it is: the test notification's retry is not due yet.
    app.leftover_jobs_ok.set(true);
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

/// `n` members in `folder`, each with its own security email `<tag><i>@example.com`.
/// A notification's deliveries by status as the database keeps them, and as counted.
async fn kept_and_counted(app: &TestApp, notification: i64) -> (Vec<i64>, Vec<i64>) {
    app.with_conn(move |c| {
        use diesel::prelude::*;
        use rd_contacts::db::schema::deliveries as d;
        let k = rd_contacts::notifications::delivery::counts(c, &[notification]).unwrap().remove(&notification).unwrap();
        let count = |status: &str| -> i64 { d::table.filter(d::notification_id.eq(notification)).filter(d::status.eq(status)).count().get_result(c).unwrap() };
        let counted = ["pending", "sending", "sent", "retrying", "failed", "skipped"].map(count).to_vec();
        (vec![k.pending, k.sending, k.sent, k.retrying, k.failed, k.skipped], counted)
    })
    .await
}

#[actix_web::test]
async fn m5_the_counts_a_notification_shows_follow_every_change_to_its_deliveries_even_in_plain_sql() {
    let mut app = TestApp::spawn().await;
    let folder = setup_folder(&app).await;
    members_with_emails(&app, &folder, "counted", 5).await;
    let n = publish(&mut app, "Counted", ("TargetId", &folder)).await;
    let (kept, counted) = kept_and_counted(&app, n).await;
    assert_eq!(kept, counted);
    assert_eq!(kept, vec![0, 0, 0, 0, 0, 0], "nothing fanned out yet");
    // A mail server that refuses connections: every delivery waits for a retry.
    let broken = Mailer::from_setting(&MailSetting::Smtp("smtp://127.0.0.1:9".into()), "x <x@example.com>").unwrap();
    jobs::run_pending_jobs(&JobContext { mailer: broken, ..app.state.jobs() }).await.unwrap();
    let (kept, counted) = kept_and_counted(&app, n).await;
    assert_eq!((kept.clone(), kept[3]), (counted, 5), "five retrying");
    app.with_conn(move |c| {
        use diesel::prelude::*;
        use rd_contacts::db::schema::deliveries as d;
        let first: i64 = d::table.filter(d::notification_id.eq(n)).order(d::id).select(d::id).first(c).unwrap();
        diesel::update(d::table.find(first)).set(d::status.eq("failed")).execute(c).unwrap();
        diesel::update(d::table.filter(d::notification_id.eq(n))).set(d::updated_at.eq(rd_contacts::db::now_utc())).execute(c).unwrap();
        diesel::delete(d::table.find(first + 1)).execute(c).unwrap();
    })
    .await;
    let (kept, counted) = kept_and_counted(&app, n).await;
    assert_eq!(kept, counted, "a status changed, a row touched without one, a delivery deleted");
    assert_eq!((kept[3], kept[4]), (3, 1));
    let totals = app
        .with_conn(move |c| {
            use rd_contacts::notifications::{LogFilter, delivery::DeliveryStatus, log};
            let page = rd_contacts::domain::PageRequest::new(None, Some(1));
            let all = log(c, &LogFilter::default(), page).unwrap().total;
            let of_this = log(c, &LogFilter { notification: Some(n), ..LogFilter::default() }, page).unwrap().total;
            let retrying = log(c, &LogFilter { status: Some(DeliveryStatus::Retrying), ..LogFilter::default() }, page).unwrap().total;
            (all, of_this, retrying)
        })
        .await;
    assert_eq!(totals, (4, 4, 3), "the log's totals, from the kept counts");
    app.sign_in().await;
    let page = app.get("/notifications").await;
    assert!(page.body.contains("Counted"), "{}", page.body);
    app.leftover_jobs_ok.set(true);
}

async fn members_with_emails(app: &TestApp, folder: &str, tag: &'static str, n: usize) -> Vec<String> {
    let f = folder.to_owned();
    app.with_conn(move |c| {
        (0..n)
            .map(|i| {
                let new = NewAccount {
                    display_name: DisplayName::parse(&format!("{tag} {i}")).unwrap(),
                    folder: FolderId::parse(&f).unwrap(),
                    security_email: Some(EmailAddress::parse(&format!("{tag}{i}@example.com")).unwrap()),
                    account_name_prefix: None,
                    join_method: JoinMethod::Created,
                };
                rd_contacts::membership::create_account(c, &new, &rd_contacts::audit::Actor::cli()).unwrap().id
            })
            .collect()
    })
    .await
}

async fn publish(app: &mut TestApp, subject: &str, target: (&str, &str)) -> i64 {
    let resp = app.api("PublishNotification", &[("MessageType", "SecurityMessage"), ("Subject", subject), ("Content", "Check your account."), target]).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    resp.json()["NotificationId"].as_str().unwrap().parse().unwrap()
}

/// Each delivery's (status, attempts) and each attempt's outcome, by delivery id.
async fn log_of(app: &TestApp, notification: i64) -> Vec<(String, String, i32, Vec<String>)> {
    app.with_conn(move |c| {
        use diesel::prelude::*;
        use rd_contacts::db::schema::{deliveries as d, delivery_attempts as a};
        let rows: Vec<(i64, String, String, i32)> =
            d::table.filter(d::notification_id.eq(notification)).order(d::id).select((d::id, d::address, d::status, d::attempts)).load(c).unwrap();
        rows.into_iter()
            .map(|(id, address, status, attempts)| {
                let outcomes: Vec<String> = a::table.filter(a::delivery_id.eq(id)).order(a::id).select(a::outcome).load(c).unwrap();
                (address, status, attempts, outcomes)
            })
            .collect()
    })
    .await
}

async fn finished(app: &TestApp, notification: i64) -> bool {
    !app.with_conn(move |c| notifications::in_progress(c, notification).unwrap()).await
}

#[actix_web::test]
async fn t2_with_two_servers_sending_and_a_lease_far_shorter_than_the_sending_every_recipient_gets_exactly_one_email() {
    let slow = Mailer::memory_with_delay(std::time::Duration::from_millis(40));
    let mut app = TestApp::spawn_with_mailer(
        |s| {
            s.jobs.lease = time::Duration::milliseconds(300);
            s.jobs.send_concurrency = 4;
        },
        Some(slow.clone()),
    )
    .await;
    let folder = setup_folder(&app).await;
    members_with_emails(&app, &folder, "two", 120).await;
    let id = publish(&mut app, "Two servers", ("FolderId", &folder)).await;
    // Two servers on one database, each with its own pool and two workers; sending takes
    // 120 × 40 ms / 4 ≈ 1.2 s, four lease lengths.
    let other = rd_contacts::jobs::JobContext { pool: rd_contacts::db::open(app.database_url(), 6).unwrap(), ..app.state.jobs() };
    rd_contacts::jobs::spawn_workers(app.state.jobs(), 2);
    rd_contacts::jobs::spawn_workers(other, 2);
    let started = std::time::Instant::now();
    while !finished(&app, id).await {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "the notification was not sent within 30 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut got = received(&app, "Two servers");
    assert_eq!(got.len(), 120, "one email per recipient, none twice");
    got.dedup();
    assert_eq!(got.len(), 120);
    let log = log_of(&app, id).await;
    assert_eq!(log.len(), 120);
    assert!(
        log.iter().all(|(_, status, attempts, outcomes)| status == "sent" && *attempts == 1 && outcomes == &["sent"]),
        "the log shows one attempt each: {log:?}"
    );
}

#[actix_web::test]
async fn t2_a_delivery_claimed_by_a_live_sender_is_neither_taken_nor_written_by_another() {
    let mut app = TestApp::spawn().await;
    let folder = setup_folder(&app).await;
    members_with_emails(&app, &folder, "claim", 3).await;
    let id = publish(&mut app, "Claimed", ("FolderId", &folder)).await;
    let ctx = app.state.jobs();
    assert!(jobs::run_one(&ctx, "fan-out", jobs::Lane::Bulk).await.unwrap(), "the fan-out runs");
    let (mine, theirs, written, released) = app
        .with_conn(move |c| {
            use diesel::prelude::*;
            use notifications::delivery;
            // The sending job is running on server A, whose lease is alive.
            let job = jobs::claim(c, "server-a", time::Duration::minutes(1), 1, 8).unwrap().unwrap();
            assert_eq!(job.kind, "notification_send");
            let mine = delivery::claim(c, id, "server-a", 2).unwrap();
            let theirs = delivery::claim(c, id, "server-b", 10).unwrap();
            let outcome = delivery::Outcome { delivery: mine[0].id, attempts: 0, error: None, bounced: None };
            let written = delivery::record(c, "server-b", &[outcome]).unwrap();
            let released = delivery::release_orphans(c, id).unwrap();
            let status: String =
                rd_contacts::db::schema::deliveries::table.find(mine[0].id).select(rd_contacts::db::schema::deliveries::status).first(c).unwrap();
            assert_eq!(status, "sending", "still A's");
            (mine.len(), theirs.len(), written, released)
        })
        .await;
    assert_eq!((mine, theirs), (2, 1), "B gets only what A did not claim");
    assert_eq!(written, 0, "B cannot write the outcome of A's claim");
    assert_eq!(released, 1, "only B's claim, which no live lease holds, is an orphan; A's stays A's");
    // The queue is left as it is: server A's sending job is the test.
    app.leftover_jobs_ok.set(true);
}

#[actix_web::test]
async fn t2_emails_in_flight_when_their_server_died_are_logged_interrupted_and_sent_again_once() {
    let mut app = TestApp::spawn().await;
    let folder = setup_folder(&app).await;
    members_with_emails(&app, &folder, "died", 3).await;
    let id = publish(&mut app, "After a crash", ("FolderId", &folder)).await;
    let ctx = app.state.jobs();
    assert!(jobs::run_one(&ctx, "fan-out", jobs::Lane::Bulk).await.unwrap());
    // A server claimed two deliveries and was killed before it recorded anything.
    let claimed = app.with_conn(move |c| notifications::delivery::claim(c, id, "killed-server.x", 2).unwrap()).await;
    let mut in_flight: Vec<String> = claimed.into_iter().map(|d| d.address).collect();
    in_flight.sort();
    app.run_pending_jobs().await;
    assert!(finished(&app, id).await);
    assert_eq!(received(&app, "After a crash"), ["died0@example.com", "died1@example.com", "died2@example.com"]);
    let log = log_of(&app, id).await;
    let mut summary: Vec<(String, i32, Vec<String>)> = log.into_iter().map(|(a, s, n, o)| (format!("{a} {s}"), n, o)).collect();
    summary.sort();
    assert_eq!(
        summary,
        ["died0@example.com", "died1@example.com", "died2@example.com"]
            .map(|a| {
                let twice = in_flight.iter().any(|x| x == a);
                (
                    format!("{a} sent"),
                    if twice { 2 } else { 1 },
                    if twice { vec!["interrupted".to_owned(), "sent".to_owned()] } else { vec!["sent".to_owned()] },
                )
            })
            .to_vec()
    );
}

#[actix_web::test]
async fn t2_a_sending_job_that_gives_up_leaves_no_delivery_pending_and_the_notifications_page_says_so() {
    let mut app = TestApp::spawn_with(|s| s.jobs.max_attempts = 3).await;
    let folder = setup_folder(&app).await;
    members_with_emails(&app, &folder, "lost", 4).await;
    let id = publish(&mut app, "Given up", ("FolderId", &folder)).await;
    // The mail server refuses connections: every delivery waits for its retry.
    let broken = Mailer::from_setting(&MailSetting::Smtp("smtp://127.0.0.1:9".into()), "x <x@example.com>").unwrap();
    let ctx = JobContext { mailer: broken, ..app.state.jobs() };
    jobs::run_pending_jobs(&ctx).await.unwrap();
    // One delivery is back to pending, one was in flight on a server that died, and the
    // sending job itself has used its attempts crashing (as kill -9 would).
    app.with_conn(move |c| {
        use diesel::prelude::*;
        use rd_contacts::db::schema::{deliveries as d, jobs as j};
        let ids: Vec<i64> = d::table.filter(d::notification_id.eq(id)).order(d::id).select(d::id).load(c).unwrap();
        diesel::update(d::table.find(ids[0])).set(d::status.eq("pending")).execute(c).unwrap();
        diesel::update(d::table.find(ids[1]))
            .set((d::status.eq("sending"), d::claimed_by.eq("dead"), d::claimed_at.eq(rd_contacts::db::now_utc())))
            .execute(c)
            .unwrap();
        diesel::update(j::table.filter(j::kind.eq("notification_send")))
            .set((
                j::status.eq("running"),
                j::attempts.eq(3),
                j::locked_by.eq("dead"),
                j::locked_until.eq(rd_contacts::db::now_utc() - time::Duration::seconds(1)),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
    app.run_pending_jobs().await;
    let log = log_of(&app, id).await;
    assert_eq!(log.len(), 4);
    assert!(log.iter().all(|(_, status, _, _)| status == "failed"), "nothing left pending: {log:?}");
    assert_eq!(log[1].3.last().map(String::as_str), Some("interrupted"), "the email in flight is logged as such");
    assert!(finished(&app, id).await);
    app.sign_in().await;
    let page = app.get(&format!("/notifications?notification={id}")).await;
    assert!(page.body.contains("4 failed"), "{}", page.body);
    assert!(page.body.contains("gave up after 3 attempts"), "{}", page.body);
    let failed = app.get(&format!("/notifications?notification={id}&outcome=failed")).await;
    assert_eq!(failed.body.matches("not sent: the sending was given up").count(), 4, "{}", failed.body);
}

#[actix_web::test]
async fn m5_an_administrator_publishes_from_the_console_and_sees_what_was_sent() {
    let mut app = TestApp::spawn().await;
    let folder = setup_folder(&app).await;
    member(&app, &folder, "with email", Some("owner@example.com")).await;
    let lonely = member(&app, &folder, "without email", None).await;
    app.sign_in().await;
    let form = app.get(&format!("/notifications/new?folder={folder}")).await;
    assert!(form.body.contains(&format!(r#"<option value="{folder}" selected>"#)), "the folder asked for is chosen");
    let refused =
        app.post("/notifications", &[("message_type", "SecurityMessage"), ("subject", ""), ("content", "Body"), ("scope", "member"), ("member", "123")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("A member account id is 16 digits") && refused.body.contains(">Body</textarea>"), "what was typed stays: {}", refused.body);
    let refused = app
        .post("/notifications", &[("message_type", "SecurityMessage"), ("subject", " "), ("content", "Body"), ("scope", "folder"), ("folder", &folder)])
        .await;
    assert!(refused.body.contains("The subject must be 1 to 200 characters"), "{}", refused.body);

    let published = app
        .post(
            "/notifications",
            &[("message_type", "SecurityMessage"), ("subject", "Rotate keys"), ("content", "Line one\nLine two"), ("scope", "folder"), ("folder", &folder)],
        )
        .await;
    assert_eq!(published.status, StatusCode::SEE_OTHER, "{}", published.body);
    let location = published.location.unwrap();
    app.run_pending_jobs().await;
    assert_eq!(received(&app, "Rotate keys"), ["owner@example.com"]);
    let page = app.get(&location).await.body;
    assert!(page.contains("is published to 2 members") && page.contains("Rotate keys") && page.contains("Line one\nLine two"), "{page}");

    // A test notification that reaches nobody says so.
    let test = app.post(&format!("/members/{lonely}/test-notification"), &[("message_type", "FaultMessage")]).await;
    app.run_pending_jobs().await;
    let page = app.get(test.location.as_deref().unwrap()).await.body;
    assert!(page.contains("This notification reached nobody") && page.contains("has a confirmed recipient of Fault messages"), "{page}");
}

#[actix_web::test]
async fn m5_a_large_fan_out_leaves_the_planner_statistics_counting_its_deliveries_and_each_is_sent_once() {
    // Statistics that counted a handful of pending deliveries for a new notification had
    // PostgreSQL read and sort every one of them for each claim of a few dozen (6.4 ms a
    // claim half way through 32,000). The fan-out refreshes them once it wrote many.
    let mut app = TestApp::spawn().await;
    let folder = setup_folder(&app).await;
    members_with_emails(&app, &folder, "many", 1_200).await;
    let n = publish(&mut app, "Many", ("TargetId", &folder)).await;
    app.run_pending_jobs().await;
    let (rows, counted) = app
        .with_conn(|c| {
            use diesel::prelude::*;
            let rows: i64 = rd_contacts::db::schema::deliveries::table.count().get_result(c).unwrap();
            (rows as f64, rd_contacts::db::estimated_rows(c, "deliveries").unwrap())
        })
        .await;
    assert!(rows >= 1_200.0 && (counted - rows).abs() <= rows * 0.25, "(deliveries, statistics) = {:?}", (rows, counted));
    let log = log_of(&app, n).await;
    assert_eq!(log.len(), 1_200);
    assert!(log.iter().all(|(_, status, attempts, outcomes)| status == "sent" && *attempts == 1 && outcomes == &["sent"]), "each sent once, logged once");
    assert_eq!(received(&app, "Many").len(), 1_200);
}
