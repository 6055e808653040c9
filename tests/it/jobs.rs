//! The durable queue: enqueue with the change, claim once, retry with backoff.

use rd_contacts::db::now_utc;
use rd_contacts::jobs::{self, send_email};
use rd_contacts::mail::Email;

use crate::support::TestApp;

fn email(to: &str) -> Email {
    Email { to: to.into(), subject: "hello".into(), text: "text".into(), html: "<p>html</p>".into() }
}

#[actix_web::test]
async fn a_queued_email_is_sent_once_by_the_worker() {
    let app = TestApp::spawn().await;
    app.with_conn(|c| send_email::enqueue_email(c, &email("a@example.com")).unwrap()).await;
    assert!(app.sent_emails().is_empty(), "nothing is sent inside the change");
    assert_eq!(app.run_pending_jobs().await, 1);
    assert_eq!(app.run_pending_jobs().await, 0, "a finished job is not run again");
    assert_eq!(app.sent_emails(), vec![email("a@example.com")]);
}

#[actix_web::test]
async fn a_job_enqueued_in_a_rolled_back_transaction_never_runs() {
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        use diesel::Connection;
        let _ = c.transaction::<(), diesel::result::Error, _>(|c| {
            send_email::enqueue_email(c, &email("a@example.com"))?;
            Err(diesel::result::Error::RollbackTransaction)
        });
    })
    .await;
    assert_eq!(app.run_pending_jobs().await, 0);
}

#[actix_web::test]
async fn a_job_is_claimed_by_one_worker_at_a_time_and_retaken_after_its_lease() {
    let app = TestApp::spawn().await;
    let (first, second, after_lease) = app
        .with_conn(|c| {
            jobs::enqueue(c, "send_email", &email("a@example.com")).unwrap();
            let first = jobs::claim(c, "w1", time::Duration::minutes(2)).unwrap();
            let second = jobs::claim(c, "w2", time::Duration::minutes(2)).unwrap();
            // A worker that died: its lease has run out.
            let job = first.clone().unwrap();
            diesel::RunQueryDsl::execute(
                diesel::update(diesel::QueryDsl::find(rd_contacts::db::schema::jobs::table, job.id))
                    .set(rd_contacts::db::schema::jobs::locked_until.eq(Some(now_utc() - time::Duration::seconds(1)))),
                c,
            )
            .unwrap();
            let after = jobs::claim(c, "w2", time::Duration::minutes(2)).unwrap();
            (first, second, after)
        })
        .await;
    assert!(first.is_some());
    assert!(second.is_none(), "a leased job is not handed out twice");
    let retaken = after_lease.expect("an expired lease frees the job");
    assert_eq!(retaken.attempts, 2);
    assert_eq!(retaken.locked_by.as_deref(), Some("w2"));
}

use diesel::ExpressionMethods;

#[actix_web::test]
async fn a_failed_job_is_retried_later_with_backoff() {
    let app = TestApp::spawn().await;
    let job = app
        .with_conn(|c| {
            let id = jobs::enqueue(c, "no_such_kind_but_transient", &email("a@example.com")).unwrap();
            let job = jobs::claim(c, "w", time::Duration::minutes(1)).unwrap().unwrap();
            jobs::fail(c, &job, "connection refused", true).unwrap();
            jobs::get(c, id).unwrap().unwrap()
        })
        .await;
    assert_eq!(job.status, jobs::QUEUED);
    assert!(job.run_at > now_utc(), "the retry waits");
    assert_eq!(job.last_error.as_deref(), Some("connection refused"));
    assert_eq!(app.run_pending_jobs().await, 0, "not due yet");
    assert_eq!(jobs::backoff(1), time::Duration::seconds(5));
    assert_eq!(jobs::backoff(3), time::Duration::seconds(20));
    assert_eq!(jobs::backoff(20), time::Duration::seconds(600));
}

#[actix_web::test]
async fn an_unknown_job_kind_fails_for_good() {
    let app = TestApp::spawn().await;
    let id = app.with_conn(|c| jobs::enqueue(c, "no_such_kind", &email("a@example.com")).unwrap()).await;
    assert_eq!(app.run_pending_jobs().await, 1);
    let job = app.with_conn(move |c| jobs::get(c, id).unwrap().unwrap()).await;
    assert_eq!(job.status, jobs::FAILED);
}

#[actix_web::test]
async fn the_console_test_email_goes_out_through_the_queue() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let bad = app.post("/outbox/test", &[("to", "nobody")]).await;
    assert_eq!(bad.status, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("is not an email address"));
    let ok = app.post("/outbox/test", &[("to", "admin@example.com")]).await;
    assert_eq!(ok.status, actix_web::http::StatusCode::SEE_OTHER);
    assert!(app.sent_emails().is_empty());
    app.run_pending_jobs().await;
    let sent = app.sent_emails();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "admin@example.com");
    assert!(sent[0].text.contains("http://rdc.test"));
    let tasks = app.get("/jobs").await;
    assert!(tasks.body.contains("send_email") && tasks.body.contains("done"));
}
