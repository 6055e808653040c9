//! The durable queue: enqueue with the change, claim once, a lease renewed while the job
//! runs and checked on every write, retries with backoff, panics caught, upkeep (rule T2).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use diesel::prelude::*;
use rd_contacts::db::schema::jobs as jobs_table;
use rd_contacts::db::{self, now_utc};
use rd_contacts::jobs::{self, Job, JobContext, JobError, JobRun, Lane, Lease, Step, send_email};
use rd_contacts::mail::Email;
use rd_contacts::startup;
use serde::{Deserialize, Serialize};

use crate::support::TestApp;

fn email(to: &str) -> Email {
    Email { to: to.into(), subject: "hello".into(), text: "text".into(), html: "<p>html</p>".into() }
}

/// How often each test job (by tag) started and finished.
static RUNS: Mutex<Vec<(String, &'static str)>> = Mutex::new(Vec::new());

fn runs(tag: &str, what: &str) -> usize {
    RUNS.lock().unwrap().iter().filter(|(t, w)| t == tag && *w == what).count()
}

/// A job for these tests: waits, then panics, fails or finishes, as told.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Probe {
    tag: String,
    sleep_ms: u64,
    then: String,
}

impl Job for Probe {
    const KIND: &'static str = "test_probe";
    const LABEL: &'static str = "Probing the queue";

    async fn run(self, _run: &JobRun) -> Result<Step, JobError> {
        RUNS.lock().unwrap().push((self.tag.clone(), "started"));
        tokio::time::sleep(StdDuration::from_millis(self.sleep_ms)).await;
        match self.then.as_str() {
            "panic" => panic!("probe {} panics on purpose", self.tag),
            "fail" => Err(JobError::transient("the probe's server refused the connection")),
            _ => {
                RUNS.lock().unwrap().push((self.tag.clone(), "finished"));
                Ok(Step::Done)
            }
        }
    }
}

fn probe(tag: &str, sleep_ms: u64, then: &str) -> Probe {
    Probe { tag: format!("{tag}-{}", rd_contacts::domain::random_alphanumeric(8)), sleep_ms, then: then.into() }
}

/// The app's job context with the probe registered too.
fn context(app: &TestApp) -> JobContext {
    let mut registry = startup::job_registry();
    registry.register::<Probe>();
    JobContext { registry: Arc::new(registry), ..app.state.jobs() }
}

async fn job(app: &TestApp, id: i64) -> jobs::JobRow {
    app.with_conn(move |c| jobs::get(c, id).unwrap().unwrap()).await
}

async fn wait_until(what: &str, timeout: StdDuration, mut done: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < timeout, "{what}: not within {timeout:?}");
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
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
        let _ = db::transaction::<(), diesel::result::Error, _>(c, |c| {
            send_email::enqueue_email(c, &email("a@example.com"))?;
            Err(diesel::result::Error::RollbackTransaction)
        });
    })
    .await;
    assert_eq!(app.run_pending_jobs().await, 0);
}

#[actix_web::test]
async fn t2_a_job_is_claimed_by_one_worker_at_a_time_and_retaken_after_its_lease() {
    let app = TestApp::spawn().await;
    let (first, second, after_lease) = app
        .with_conn(|c| {
            send_email::enqueue_email(c, &email("a@example.com")).unwrap();
            let first = jobs::claim(c, "w1", time::Duration::minutes(2), 1, 8).unwrap();
            let second = jobs::claim(c, "w2", time::Duration::minutes(2), 1, 8).unwrap();
            // A worker that died: its lease has run out.
            let job = first.clone().unwrap();
            diesel::update(jobs_table::table.find(job.id)).set(jobs_table::locked_until.eq(Some(now_utc() - time::Duration::seconds(1)))).execute(c).unwrap();
            let after = jobs::claim(c, "w2", time::Duration::minutes(2), 1, 8).unwrap();
            (first, second, after)
        })
        .await;
    assert!(first.is_some());
    assert!(second.is_none(), "a leased job is not handed out twice");
    let retaken = after_lease.expect("an expired lease frees the job");
    assert_eq!(retaken.attempts, 2, "the lost run counts as an attempt");
    assert_eq!(retaken.locked_by.as_deref(), Some("w2"));
    // The queue is left as it is: its claims are the test.
    app.leftover_jobs_ok.set(true);
}

#[actix_web::test]
async fn t2_a_worker_that_lost_its_lease_can_neither_checkpoint_nor_finish_the_job() {
    let app = TestApp::spawn().await;
    let (checkpoint, renewed, completed, failed, requeued, now_held_by) = app
        .with_conn(|c| {
            let id = send_email::enqueue_email(c, &email("a@example.com")).unwrap();
            let lease = time::Duration::seconds(10);
            let a = jobs::claim(c, "a", lease, 1, 8).unwrap().unwrap();
            diesel::update(jobs_table::table.find(id)).set(jobs_table::locked_until.eq(Some(now_utc() - time::Duration::seconds(1)))).execute(c).unwrap();
            let b = jobs::claim(c, "b", lease, 1, 8).unwrap().unwrap();
            let stale = Lease { job_id: a.id, token: "a".into(), duration: lease };
            let checkpoint = db::transaction(c, |c| stale.checkpoint(c, &"state of a", 1, 2));
            (
                checkpoint,
                stale.renew(c).unwrap(),
                stale.complete(c).unwrap(),
                db::transaction(c, |c| stale.fail(c, "a failed")),
                stale.requeue(c, now_utc(), Some("a retries")).unwrap(),
                jobs::get(c, b.id).unwrap().unwrap(),
            )
        })
        .await;
    assert!(matches!(checkpoint, Err(diesel::result::Error::RollbackTransaction)), "its batch is rolled back");
    assert!(!renewed && !completed && !requeued);
    assert!(failed.is_err());
    assert_eq!(now_held_by.status, jobs::RUNNING);
    assert_eq!(now_held_by.locked_by.as_deref(), Some("b"));
    assert_ne!(now_held_by.payload, "\"state of a\"");
    // The queue is left as it is: its claims are the test.
    app.leftover_jobs_ok.set(true);
}

#[actix_web::test]
async fn t2_a_running_job_renews_its_lease_so_that_no_other_worker_takes_it() {
    let app = TestApp::spawn_with(|s| s.jobs.lease = time::Duration::milliseconds(300)).await;
    let ctx = context(&app);
    let p = probe("long", 1_500, "finish");
    let id = app
        .with_conn({
            let p = p.clone();
            move |c| jobs::enqueue(c, &p).unwrap()
        })
        .await;
    // Two workers compete while the job runs for five lease lengths.
    let (a, b) = (ctx.clone(), ctx.clone());
    let first = actix_web::rt::spawn(async move { jobs::run_one(&a, "one", Lane::Bulk).await.unwrap() });
    wait_until("the first worker has the job", StdDuration::from_secs(5), async || job(&app, id).await.status == jobs::RUNNING).await;
    let mut second_ran = 0;
    let started = Instant::now();
    while started.elapsed() < StdDuration::from_millis(1_400) {
        if jobs::run_one(&b, "two", Lane::Bulk).await.unwrap() {
            second_ran += 1;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    assert!(first.await.unwrap());
    assert_eq!(second_ran, 0, "the second worker never got the job");
    assert_eq!((runs(&p.tag, "started"), runs(&p.tag, "finished")), (1, 1));
    let row = job(&app, id).await;
    assert_eq!((row.status, row.attempts), (jobs::DONE, 1));
}

#[actix_web::test]
async fn t2_a_job_whose_server_died_is_taken_over_within_seconds() {
    let app = TestApp::spawn_with(|s| s.jobs.lease = time::Duration::seconds(1)).await;
    let ctx = context(&app);
    let p = probe("orphan", 0, "finish");
    let id = app
        .with_conn({
            let p = p.clone();
            move |c| {
                let id = jobs::enqueue(c, &p).unwrap();
                // A server claims it and is killed: nobody renews the lease.
                jobs::claim(c, "dead-server", time::Duration::seconds(1), 1, 8).unwrap().unwrap();
                id
            }
        })
        .await;
    let started = Instant::now();
    wait_until("the job is taken over", StdDuration::from_secs(5), async || jobs::run_one(&ctx, "alive", Lane::Bulk).await.unwrap()).await;
    assert!(started.elapsed() >= StdDuration::from_millis(700), "not before the lease ran out");
    assert_eq!(job(&app, id).await.status, jobs::DONE);
    assert_eq!(runs(&p.tag, "finished"), 1);
}

#[actix_web::test]
async fn t2_a_panic_inside_a_job_fails_that_attempt_and_the_worker_goes_on() {
    let app = TestApp::spawn().await;
    let mut ctx = context(&app);
    ctx.settings.lease = time::Duration::seconds(2);
    let (panics, after) = (probe("panics", 0, "panic"), probe("after", 0, "finish"));
    let (panicked, fine) = app
        .with_conn({
            let (panics, after) = (panics.clone(), after.clone());
            move |c| (jobs::enqueue(c, &panics).unwrap(), jobs::enqueue(c, &after).unwrap())
        })
        .await;
    jobs::spawn_workers(ctx, 1);
    wait_until("the job after the panic ran", StdDuration::from_secs(10), async || runs(&after.tag, "finished") == 1).await;
    let row = job(&app, panicked).await;
    assert_eq!(row.status, jobs::QUEUED, "a panic is a failed attempt, tried again later");
    assert!(row.last_error.as_deref().unwrap_or("").contains(&format!("probe {} panics on purpose", panics.tag)), "{:?}", row.last_error);
    wait_until("the second job is recorded done", StdDuration::from_secs(5), async || job(&app, fine).await.status == jobs::DONE).await;
    // The queue is left as it is: the panicking job waits for its retry.
    app.leftover_jobs_ok.set(true);
}

#[actix_web::test]
async fn t2_a_failed_job_is_retried_later_with_backoff_and_given_up_after_its_attempts() {
    let app = TestApp::spawn_with(|s| s.jobs.max_attempts = 2).await;
    let ctx = context(&app);
    let p = probe("fails", 0, "fail");
    let id = app.with_conn(move |c| jobs::enqueue(c, &p).unwrap()).await;
    assert!(jobs::run_one(&ctx, "w", Lane::Bulk).await.unwrap());
    let row = job(&app, id).await;
    assert_eq!(row.status, jobs::QUEUED);
    assert!(row.run_at > now_utc(), "the retry waits");
    assert_eq!(row.last_error.as_deref(), Some("the probe's server refused the connection"));
    assert!(!jobs::run_one(&ctx, "w", Lane::Bulk).await.unwrap(), "not due yet");
    app.with_conn(move |c| diesel::update(jobs_table::table.find(id)).set(jobs_table::run_at.eq(now_utc())).execute(c).unwrap()).await;
    assert!(jobs::run_one(&ctx, "w", Lane::Bulk).await.unwrap());
    let row = job(&app, id).await;
    assert_eq!((row.status, row.attempts), (jobs::FAILED, 2), "given up after its last attempt");
    assert_eq!(jobs::backoff(1), time::Duration::seconds(5));
    assert_eq!(jobs::backoff(3), time::Duration::seconds(20));
    assert_eq!(jobs::backoff(20), time::Duration::seconds(600));
}

#[actix_web::test]
async fn an_unknown_job_kind_fails_for_good() {
    let app = TestApp::spawn().await;
    let id = app.with_conn(|c| jobs::enqueue_raw(c, "no_such_kind", Lane::Bulk, &email("a@example.com")).unwrap()).await;
    assert_eq!(app.run_pending_jobs().await, 1);
    let row = job(&app, id).await;
    assert_eq!(row.status, jobs::FAILED);
    assert!(row.finished_at.is_some());
}

#[actix_web::test]
async fn t2_finished_jobs_are_purged_after_the_retention_and_unfinished_ones_never() {
    let app = TestApp::spawn().await;
    let ids: HashMap<&str, i64> = app
        .with_conn(|c| {
            let mut ids = HashMap::new();
            for (name, status, age_days) in [("old done", "done", 15), ("old failed", "failed", 15), ("recent done", "done", 13), ("old queued", "queued", 15)]
            {
                let id = send_email::enqueue_email(c, &email("a@example.com")).unwrap();
                let finished = (status != "queued").then(|| now_utc() - time::Duration::days(age_days));
                diesel::update(jobs_table::table.find(id))
                    .set((
                        jobs_table::status.eq(status),
                        jobs_table::finished_at.eq(finished),
                        jobs_table::created_at.eq(now_utc() - time::Duration::days(age_days)),
                    ))
                    .execute(c)
                    .unwrap();
                ids.insert(name, id);
            }
            ids
        })
        .await;
    let registry = startup::job_registry();
    let purge = registry.periodic().iter().find(|p| p.name == "purge finished jobs").expect("the purge is registered").run;
    let upkeep = rd_contacts::jobs::Upkeep { settings: app.state.settings.jobs.clone(), sender: app.state.sender("test") };
    let purged = app.with_conn(move |c| purge(c, &upkeep).unwrap()).await;
    assert_eq!(purged, 2);
    for (name, kept) in [("old done", false), ("old failed", false), ("recent done", true), ("old queued", true)] {
        let id = ids[name];
        assert_eq!(app.with_conn(move |c| jobs::get(c, id).unwrap().is_some()).await, kept, "{name}");
    }
    // The queue is left as it is: an unfinished job is what it keeps.
    app.leftover_jobs_ok.set(true);
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

#[actix_web::test]
async fn t2_a_verification_link_does_not_wait_behind_large_notifications() {
    let slow = rd_contacts::mail::Mailer::memory_with_delay(StdDuration::from_millis(150));
    let mut app = TestApp::spawn_with_mailer(|s| s.jobs.send_concurrency = 4, Some(slow)).await;
    let folder = app
        .with_conn(|c| {
            use rd_contacts::directory::{self, JoinMethod, NewAccount};
            use rd_contacts::domain::{DisplayName, EmailAddress, FolderId, FolderName};
            let root = FolderId::parse(&directory::get_directory(c).unwrap().root_folder_id).unwrap();
            let folder = directory::create_folder(c, &root, &FolderName::parse("busy").unwrap(), &rd_contacts::audit::Actor::cli()).unwrap().id;
            for i in 0..60 {
                let new = NewAccount {
                    display_name: DisplayName::parse(&format!("busy {i}")).unwrap(),
                    folder: FolderId::parse(&folder).unwrap(),
                    security_email: Some(EmailAddress::parse(&format!("busy{i}@example.com")).unwrap()),
                    account_name_prefix: None,
                    join_method: JoinMethod::Created,
                };
                rd_contacts::membership::create_account(c, &new, &rd_contacts::audit::Actor::cli()).unwrap();
            }
            folder
        })
        .await;
    // Four notifications of 60 emails at 150 ms each, 4 at a time: 2.25 s each, both bulk workers busy.
    for n in 0..4 {
        let sent = app
            .api("PublishNotification", &[("MessageType", "SecurityMessage"), ("Subject", &format!("Bulk {n}")), ("Content", "x"), ("FolderId", &folder)])
            .await;
        assert_eq!(sent.status, actix_web::http::StatusCode::OK, "{}", sent.body);
    }
    jobs::spawn_workers(app.state.jobs(), 2);
    wait_until("both bulk workers send", StdDuration::from_secs(10), async || {
        app.with_conn(|c| {
            jobs_table::table.filter(jobs_table::kind.eq("notification_send")).filter(jobs_table::status.eq("running")).count().get_result::<i64>(c).unwrap()
        })
        .await
            == 2
    })
    .await;
    let asked = Instant::now();
    app.add_contact("waiting", "waiting@example.com").await;
    wait_until("the verification email is sent", StdDuration::from_secs(10), async || app.sent_emails().iter().any(|e| e.to == "waiting@example.com")).await;
    let waited = asked.elapsed();
    let unsent: i64 = app
        .with_conn(|c| {
            use rd_contacts::db::schema::deliveries as d;
            d::table.filter(d::status.ne("sent")).count().get_result(c).unwrap()
        })
        .await;
    assert!(unsent > 60, "the notifications were still sending when the link went out ({unsent} unsent)");
    assert!(waited < StdDuration::from_millis(1_200), "the link waited {waited:?}, about as long as a notification takes (2.25 s) would be too long");
    // The queue is left as it is: the notifications are still sending when it ends.
    app.leftover_jobs_ok.set(true);
}
