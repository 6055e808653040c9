//! The durable job queue: a `jobs` table that workers inside `serve` claim from.
//!
//! A job is enqueued in the same transaction as the change that causes it. Each kind is a
//! type implementing [`Job`], registered once in [`Registry`] (by `startup::job_registry`),
//! so the queue knows no service. Workers claim with `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL (several servers share the queue) and with one atomic `UPDATE … RETURNING`
//! on SQLite. A claim is a lease with a token of its own: a heartbeat renews it while the
//! job runs, and every write a job makes about itself (checkpoint, completion, failure)
//! checks that token, so a worker that lost its lease can change nothing. A job whose
//! worker died is taken over once the lease runs out, a few seconds later. Every kind is
//! idempotent: running it twice has the effect of running it once.
//!
//! Failures are retried with backoff; a job that runs out of attempts is given up, and
//! its kind's [`Job::give_up`] runs in the same transaction, so that nothing it was
//! meant to do is left waiting silently.

mod pace;
mod queue;
mod registry;
pub mod send_email;
mod worker;

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::PrimitiveDateTime;

pub use pace::Pace;
pub use queue::*;
pub use registry::{Periodic, Registry, Upkeep};
pub use worker::{JobContext, WorkerWatch, run_one, run_pending_jobs, spawn_workers};

use crate::config::JobSettings;
use crate::db::{AnyConnection, DbPool};
use crate::mail::Mailer;

/// Which workers may take a job: the express lane is for email a person is waiting for
/// (verification links, invitations, test emails), which a busy bulk lane must not delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Express,
    Bulk,
}

impl Lane {
    /// Stored in `jobs.priority`: lower is claimed first.
    pub fn priority(self) -> i32 {
        match self {
            Lane::Express => 0,
            Lane::Bulk => 1,
        }
    }
}

/// One kind of background work. Its value is the job's payload (JSON).
pub trait Job: Serialize + DeserializeOwned + Send + 'static {
    /// The stable name stored in `jobs.kind`.
    const KIND: &'static str;
    /// What the Tasks page calls it ("Binding a contact").
    const LABEL: &'static str;
    const LANE: Lane = Lane::Bulk;

    /// Does the work, or the next part of it. Long jobs save their progress with
    /// [`Lease::checkpoint`] inside the transaction of each batch.
    fn run(self, run: &JobRun) -> impl Future<Output = Result<Step, JobError>> + Send;

    /// What the job works on (`contact:c-…`, `notification:12`), stored beside it and kept
    /// after its payload is erased: the console finds a thing's tasks by it.
    fn about(&self) -> Option<String> {
        None
    }

    /// The job will not be tried again: make what it leaves undone visible (deliveries
    /// failed, a deletion failed…). Runs in the transaction that marks the job failed.
    fn give_up(self, conn: &mut AnyConnection, job_id: i64, reason: &str) -> diesel::QueryResult<()> {
        let _ = (conn, job_id, reason);
        Ok(())
    }
}

/// How a run ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Done,
    /// Nothing to do before this time (a delivery's retry is due then): run again at
    /// that time, without counting an attempt.
    RunAgainAt(PrimitiveDateTime),
}

/// What a running job may use.
#[derive(Clone, Debug)]
pub struct JobRun {
    pub pool: DbPool,
    pub mailer: Mailer,
    pub secrets: crate::secrets::SecretBox,
    pub settings: JobSettings,
    pub lease: Lease,
}

/// Why a job did not finish; transient failures are retried with backoff.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{message}")]
    Failed { message: String, transient: bool },
    #[error("bad job payload: {0}")]
    Payload(#[from] serde_json::Error),
    #[error("unknown job kind {0:?}")]
    UnknownKind(String),
    #[error("the job panicked: {0}")]
    Panicked(String),
    #[error(transparent)]
    Storage(#[from] crate::errors::StorageError),
}

crate::errors::storage_errors!(JobError);

impl JobError {
    /// A failure worth another try (the database or the mail server may be back).
    pub fn transient(e: impl std::fmt::Display) -> JobError {
        JobError::Failed { message: e.to_string(), transient: true }
    }

    pub fn is_transient(&self) -> bool {
        match self {
            JobError::Failed { transient, .. } => *transient,
            JobError::Storage(_) | JobError::Panicked(_) => true,
            JobError::Payload(_) | JobError::UnknownKind(_) => false,
        }
    }
}
