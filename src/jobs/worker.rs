use std::time::Duration as StdDuration;

use time::Duration;
use tracing::{error, info, warn};

use super::{JobError, claim, complete, fail, notify, send_email};
use crate::notifications;
use crate::contacts::{bindings, deletion};
use crate::db::{self, DbPool};
use crate::mail::Mailer;

/// What jobs may use: the pool and the mailer.
#[derive(Clone, Debug)]
pub struct JobContext {
    pub pool: DbPool,
    pub mailer: Mailer,
}

const LEASE: Duration = Duration::minutes(2);

async fn execute(ctx: &JobContext, id: i64, kind: &str, payload: &str) -> Result<(), JobError> {
    match kind {
        send_email::KIND => send_email::run(ctx, payload).await,
        notifications::FAN_OUT_JOB => notify::fan_out(ctx, id, payload).await,
        notifications::SEND_JOB => notify::send(ctx, payload).await,
        bindings::BIND_JOB | bindings::UNBIND_JOB | deletion::DELETE_JOB => propagate(ctx, id, kind, payload).await,
        other => Err(JobError::UnknownKind(other.to_owned())),
    }
}

/// Members per batch of a propagation job: each batch is one short transaction.
pub const PROPAGATION_BATCH: i64 = 5_000;

/// Works through a binding's or unbinding's members batch by batch, each batch with its
/// checkpoint, so that a crashed worker's successor resumes where it stopped.
async fn propagate(ctx: &JobContext, id: i64, kind: &str, payload: &str) -> Result<(), JobError> {
    let mut state: bindings::Propagation = serde_json::from_str(payload)?;
    loop {
        let (k, s) = (kind.to_owned(), state.clone());
        let next = db::run(&ctx.pool, move |c| {
            let step = if k == deletion::DELETE_JOB {
                deletion::deletion_step(c, id, &s, PROPAGATION_BATCH)
            } else {
                bindings::propagation_step(c, id, &k, &s, PROPAGATION_BATCH)
            };
            step.map_err(|e| JobError::Failed { message: e.to_string(), transient: true })
        })
        .await?;
        match next {
            Some(n) => state = n,
            None => return Ok(()),
        }
    }
}

/// Claims and runs one due job. `Ok(false)` when none was due.
pub async fn run_one(ctx: &JobContext, worker: &str) -> Result<bool, JobError> {
    let me = worker.to_owned();
    let Some(job) = db::run(&ctx.pool, move |c| Ok::<_, JobError>(claim(c, &me, LEASE)?)).await? else {
        return Ok(false);
    };
    let outcome = if job.attempts > job.max_attempts {
        Err(JobError::Failed { message: format!("gave up after {} attempts", job.max_attempts), transient: false })
    } else {
        execute(ctx, job.id, &job.kind, &job.payload).await
    };
    let id = job.id;
    match outcome {
        Ok(()) => {
            db::run(&ctx.pool, move |c| Ok::<_, JobError>(complete(c, id)?)).await?;
            info!(job.id = id, job.kind = %job.kind, "job done");
        }
        Err(e) => {
            let transient = e.is_transient();
            warn!(job.id = id, job.kind = %job.kind, attempt = job.attempts, transient, error = %e, "job failed");
            let message = e.to_string();
            db::run(&ctx.pool, move |c| Ok::<_, JobError>(fail(c, &job, &message, transient)?)).await?;
        }
    }
    Ok(true)
}

/// Runs due jobs until none is left; returns how many ran. For tests and the CLI.
pub async fn run_pending_jobs(ctx: &JobContext) -> Result<usize, JobError> {
    let mut ran = 0;
    while run_one(ctx, "inline").await? {
        ran += 1;
    }
    Ok(ran)
}

/// Starts `n` workers on the current runtime. Each polls the queue, sleeping briefly
/// when it is empty; the first also forgets old API nonces now and then.
pub fn spawn_workers(ctx: JobContext, n: usize) {
    for i in 0..n {
        let ctx = ctx.clone();
        let name = format!("{}-{}", std::process::id(), i);
        tokio::spawn(async move {
            let mut idle_rounds = 0u32;
            loop {
                match run_one(&ctx, &name).await {
                    Ok(true) => {
                        idle_rounds = 0;
                        continue;
                    }
                    Ok(false) => {}
                    Err(e) => error!(worker = %name, error = %e, "the job worker could not reach the queue"),
                }
                idle_rounds += 1;
                if i == 0 && idle_rounds % 600 == 1 {
                    let purged = db::run(&ctx.pool, |c| Ok::<_, JobError>(crate::auth::access_keys::purge_nonces(c, db::now_utc())?)).await;
                    if let Err(e) = purged {
                        warn!(error = %e, "could not purge old API nonces");
                    }
                }
                tokio::time::sleep(StdDuration::from_millis(300)).await;
            }
        });
    }
}
