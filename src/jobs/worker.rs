//! Workers: claim a job, run it under a renewed lease, write how it ended.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use futures_util::FutureExt;
use tracing::{error, info, warn};

use super::registry::{Kind, Upkeep};
use super::{JobError, JobRow, JobRun, Lane, Lease, Registry, Step, backoff, claim};
use crate::config::JobSettings;
use crate::db::{self, DbPool, now_utc};
use crate::domain::random_alphanumeric;
use crate::mail::Mailer;

/// What workers need: the pool, the mailer, the settings and the kinds they can run.
#[derive(Clone, Debug)]
pub struct JobContext {
    pub pool: DbPool,
    pub mailer: Mailer,
    pub secrets: crate::secrets::SecretBox,
    pub settings: JobSettings,
    pub registry: Arc<Registry>,
    /// Where links in the emails that upkeep sends point.
    pub public_url: String,
}

/// How long an idle worker waits before it looks at the queue again.
const IDLE_POLL: StdDuration = StdDuration::from_millis(300);

fn std_duration(d: time::Duration) -> StdDuration {
    StdDuration::from_secs_f64(d.as_seconds_f64().max(0.0))
}

/// Renews the lease every third of its length while the job runs. Returns (and so stops
/// the job, which `select!` then drops) only when the lease is lost: another worker took
/// the job, or the lease could not be renewed before it ran out.
async fn keep_lease(pool: DbPool, lease: Lease) -> &'static str {
    let length = std_duration(lease.duration);
    let every = (length / 3).max(StdDuration::from_millis(50));
    let mut held_until = Instant::now() + length;
    loop {
        tokio::time::sleep(every).await;
        let asked = Instant::now();
        let l = lease.clone();
        match db::run(&pool, move |c| Ok::<_, JobError>(l.renew(c)?)).await {
            Ok(true) => held_until = asked + length,
            Ok(false) => return "another worker holds it now",
            Err(e) => {
                warn!(job.id = lease.job_id, error = %e, "could not renew a job's lease");
                if Instant::now() >= held_until {
                    return "its lease ran out before it could be renewed";
                }
            }
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// How a claimed job ends, as written to the queue.
#[derive(Debug, Clone)]
enum Finish {
    Complete,
    Requeue { at: time::PrimitiveDateTime, error: Option<String> },
    GiveUp(String),
}

/// Claims and runs one due job of `lane` (the bulk lane takes express jobs too, first).
/// `Ok(false)` when none was due.
pub async fn run_one(ctx: &JobContext, worker: &str, lane: Lane) -> Result<bool, JobError> {
    let token = format!("{worker}.{}", random_alphanumeric(8));
    let (t, length, max_attempts) = (token.clone(), ctx.settings.lease, ctx.settings.max_attempts);
    let Some(job) = db::run(&ctx.pool, move |c| Ok::<_, JobError>(claim(c, &t, length, lane.priority(), max_attempts)?)).await? else {
        return Ok(false);
    };
    let lease = Lease { job_id: job.id, token, duration: ctx.settings.lease };
    let kind = ctx.registry.kind(&job.kind);
    let outcome = match kind {
        None => Err(JobError::UnknownKind(job.kind.clone())),
        Some(_) if job.attempts > job.max_attempts => Err(JobError::Failed {
            message: format!(
                "gave up after {} attempt{}; the last one: {}",
                job.max_attempts,
                if job.max_attempts == 1 { "" } else { "s" },
                job.last_error.as_deref().unwrap_or("its worker stopped before it finished")
            ),
            transient: false,
        }),
        Some(k) => {
            let run = JobRun {
                pool: ctx.pool.clone(),
                mailer: ctx.mailer.clone(),
                secrets: ctx.secrets.clone(),
                settings: ctx.settings.clone(),
                lease: lease.clone(),
            };
            let work = AssertUnwindSafe((k.run)(run, job.payload.clone())).catch_unwind();
            tokio::select! {
                result = work => result.unwrap_or_else(|panic| Err(JobError::Panicked(panic_message(panic.as_ref())))),
                why = keep_lease(ctx.pool.clone(), lease.clone()) => {
                    warn!(job.id = job.id, job.kind = %job.kind, why, "job stopped: its lease was lost, and its new holder goes on");
                    return Ok(true);
                }
            }
        }
    };
    let finish = match outcome {
        Ok(Step::Done) => {
            info!(job.id = job.id, job.kind = %job.kind, "job done");
            Finish::Complete
        }
        Ok(Step::RunAgainAt(at)) => Finish::Requeue { at, error: None },
        Err(e) if e.is_transient() && job.attempts < job.max_attempts => {
            warn!(job.id = job.id, job.kind = %job.kind, attempt = job.attempts, error = %e, "job failed; it will be tried again");
            Finish::Requeue { at: now_utc() + backoff(job.attempts), error: Some(e.to_string()) }
        }
        Err(e) => {
            error!(job.id = job.id, job.kind = %job.kind, attempt = job.attempts, error = %e, "job given up");
            Finish::GiveUp(e.to_string())
        }
    };
    write_finish(ctx, &job, &lease, kind, finish).await;
    Ok(true)
}

/// Writes how a job ended, trying a few times: a database that is away for a moment must
/// not leave the job `running` until its lease runs out.
async fn write_finish(ctx: &JobContext, job: &JobRow, lease: &Lease, kind: Option<Kind>, finish: Finish) {
    for attempt in 1..=3 {
        let (lease, finish, payload) = (lease.clone(), finish.clone(), job.payload.clone());
        let written = db::run(&ctx.pool, move |c| {
            let held = match &finish {
                Finish::Complete => lease.complete(c)?,
                Finish::Requeue { at, error } => lease.requeue(c, *at, error.as_deref())?,
                Finish::GiveUp(reason) => match db::transaction(c, |c| {
                    if let Some(k) = kind {
                        (k.give_up)(c, lease.job_id, &payload, reason)?;
                    }
                    lease.fail(c, reason)
                }) {
                    Ok(()) => true,
                    Err(diesel::result::Error::RollbackTransaction) => false,
                    Err(e) => return Err(e.into()),
                },
            };
            Ok::<_, JobError>(held)
        })
        .await;
        match written {
            Ok(true) => return,
            Ok(false) => {
                warn!(job.id = job.id, job.kind = %job.kind, "job ended after another worker took it over: its outcome is that worker's to write");
                return;
            }
            Err(e) => {
                warn!(job.id = job.id, job.kind = %job.kind, attempt, error = %e, "could not record how a job ended");
                tokio::time::sleep(StdDuration::from_secs(1)).await;
            }
        }
    }
}

/// Runs due jobs until none is left; returns how many ran. For tests and the CLI.
pub async fn run_pending_jobs(ctx: &JobContext) -> Result<usize, JobError> {
    let mut ran = 0;
    while run_one(ctx, "inline", Lane::Bulk).await? {
        ran += 1;
    }
    Ok(ran)
}

/// The job workers this process started, for `/readyz`: they loop forever, so one that
/// ended has died.
#[derive(Clone, Debug, Default)]
pub struct WorkerWatch(std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>);

impl WorkerWatch {
    pub fn watch(&self, handles: Vec<tokio::task::JoinHandle<()>>) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(handles);
    }

    /// "3 running", or which ended; a process that runs none (`RDC_WORKERS=0`, the work done
    /// by other servers) is ready too.
    pub fn status(&self) -> Result<String, String> {
        let handles = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let ended = handles.iter().filter(|h| h.is_finished()).count();
        match (handles.len(), ended) {
            (0, _) => Ok("none in this process".into()),
            (n, 0) => Ok(format!("{n} running")),
            (n, e) => Err(format!("{e} of {n} stopped")),
        }
    }
}

/// Starts `n` workers for every lane and one more for the express lane only, so that a
/// verification link never waits behind a large notification; and the periodic upkeep.
/// Returns their tasks, for [`WorkerWatch`].
pub fn spawn_workers(ctx: JobContext, n: usize) -> Vec<tokio::task::JoinHandle<()>> {
    if n == 0 {
        return Vec::new();
    }
    let mut handles = Vec::new();
    let pid = std::process::id();
    for i in 0..=n {
        let ctx = ctx.clone();
        let (lane, name) = if i == n { (Lane::Express, format!("{pid}-express")) } else { (Lane::Bulk, format!("{pid}-w{i}")) };
        handles.push(tokio::spawn(async move {
            loop {
                match run_one(&ctx, &name, lane).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => error!(worker = %name, error = %e, "the job worker could not reach the queue"),
                }
                tokio::time::sleep(IDLE_POLL).await;
            }
        }));
    }
    handles.push(tokio::spawn(upkeep(ctx)));
    handles
}

/// Runs each periodic task when it is due, forever.
async fn upkeep(ctx: JobContext) {
    let tasks = ctx.registry.periodic().to_vec();
    let mut last: Vec<Option<Instant>> = vec![None; tasks.len()];
    loop {
        for (task, last) in tasks.iter().zip(last.iter_mut()) {
            if last.is_some_and(|t| t.elapsed() < std_duration(task.every)) {
                continue;
            }
            *last = Some(Instant::now());
            let run = task.run;
            let upkeep = Upkeep {
                settings: ctx.settings.clone(),
                sender: crate::mail::Sender { requested_by: "rd-contacts".into(), public_url: ctx.public_url.clone(), secrets: ctx.secrets.clone() },
            };
            match db::run(&ctx.pool, move |c| run(c, &upkeep)).await {
                Ok(n) if n > 0 => info!(task = task.name, removed = n, "upkeep"),
                Ok(_) => {}
                Err(e) => warn!(task = task.name, error = %e, "upkeep failed; it will be tried again"),
            }
        }
        tokio::time::sleep(StdDuration::from_secs(5)).await;
    }
}
