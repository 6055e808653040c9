//! The durable job queue: a `jobs` table that workers inside `serve` claim from.
//!
//! A job is enqueued in the same transaction as the change that causes it. Workers claim
//! with `FOR UPDATE SKIP LOCKED` on PostgreSQL (several servers can share the queue) and
//! with one atomic `UPDATE … RETURNING` on SQLite, hold a lease that a crashed worker's
//! job outlives, and retry failures with exponential backoff. Every job kind is
//! idempotent: running it twice has the effect of running it once.

pub mod notify;
mod queue;
pub mod send_email;
pub mod worker;

pub use queue::*;
pub use worker::{JobContext, run_pending_jobs, spawn_workers};

/// Why a job did not finish; transient failures are retried with backoff.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{message}")]
    Failed { message: String, transient: bool },
    #[error("bad job payload: {0}")]
    Payload(#[from] serde_json::Error),
    #[error("unknown job kind {0:?}")]
    UnknownKind(String),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Pool(#[from] crate::db::PoolError),
}

impl JobError {
    pub fn is_transient(&self) -> bool {
        match self {
            JobError::Failed { transient, .. } => *transient,
            JobError::Db(_) | JobError::Pool(_) => true,
            JobError::Payload(_) | JobError::UnknownKind(_) => false,
        }
    }
}
