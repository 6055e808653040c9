use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};
use serde::Serialize;
use time::{Duration, PrimitiveDateTime};

use crate::db::schema::jobs;
use crate::db::{AnyConnection, now_utc};

pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const DONE: &str = "done";
pub const FAILED: &str = "failed";

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: PrimitiveDateTime,
    pub locked_until: Option<PrimitiveDateTime>,
    pub locked_by: Option<String>,
    pub progress_done: i64,
    pub progress_total: i64,
    pub last_error: Option<String>,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
}

impl Job {
    /// Progress in whole percent (0 when the total is not known yet).
    pub fn percent(&self) -> i64 {
        if self.progress_total <= 0 { if self.status == DONE { 100 } else { 0 } } else { (self.progress_done * 100 / self.progress_total).clamp(0, 100) }
    }
    pub fn is_finished(&self) -> bool {
        self.status == DONE || self.status == FAILED
    }
}

/// Adds a job to run as soon as a worker is free. Call it inside the transaction of the
/// change that causes the job, so that both happen or neither does.
pub fn enqueue(conn: &mut AnyConnection, kind: &str, payload: &impl Serialize) -> QueryResult<i64> {
    let payload = serde_json::to_string(payload).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let now = now_utc();
    diesel::insert_into(jobs::table)
        .values((
            jobs::kind.eq(kind),
            jobs::payload.eq(payload),
            jobs::status.eq(QUEUED),
            jobs::attempts.eq(0),
            jobs::max_attempts.eq(8),
            jobs::run_at.eq(now),
            jobs::progress_done.eq(0i64),
            jobs::progress_total.eq(0i64),
            jobs::created_at.eq(now),
            jobs::updated_at.eq(now),
        ))
        .returning(jobs::id)
        .get_result(conn)
}

const JOB_COLUMNS: &str = "id, kind, payload, status, attempts, max_attempts, run_at, locked_until, locked_by, \
     progress_done, progress_total, last_error, created_at, updated_at";

/// Takes the oldest due job (or one whose worker's lease ran out) and leases it to
/// `worker` for `lease`.
pub fn claim(conn: &mut AnyConnection, worker: &str, lease: Duration) -> QueryResult<Option<Job>> {
    let now = now_utc();
    let lock = if crate::db::is_postgres(conn) { "FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = $1, locked_by = $2, updated_at = $3 \
         WHERE id = (SELECT id FROM jobs \
                     WHERE (status = 'queued' AND run_at <= $3) OR (status = 'running' AND locked_until < $3) \
                     ORDER BY run_at, id LIMIT 1 {lock}) \
         RETURNING {JOB_COLUMNS}"
    );
    diesel::sql_query(sql)
        .bind::<Timestamp, _>(now + lease)
        .bind::<Text, _>(worker)
        .bind::<Timestamp, _>(now)
        .get_result::<Job>(conn)
        .optional()
}

/// Extends the lease of a long job and records its progress.
pub fn heartbeat(conn: &mut AnyConnection, id: i64, lease: Duration, done: i64, total: i64) -> QueryResult<()> {
    let now = now_utc();
    diesel::update(jobs::table.find(id))
        .set((jobs::locked_until.eq(now + lease), jobs::progress_done.eq(done), jobs::progress_total.eq(total), jobs::updated_at.eq(now)))
        .execute(conn)
        .map(|_| ())
}

/// Saves a long job's state and progress, and extends its lease, inside the
/// transaction of the batch it describes.
pub fn checkpoint(conn: &mut AnyConnection, id: i64, state: &impl Serialize, done: i64, total: i64) -> QueryResult<()> {
    let payload = serde_json::to_string(state).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let now = now_utc();
    diesel::update(jobs::table.find(id))
        .set((
            jobs::payload.eq(payload),
            jobs::progress_done.eq(done),
            jobs::progress_total.eq(total),
            jobs::locked_until.eq(now + Duration::minutes(2)),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn complete(conn: &mut AnyConnection, id: i64) -> QueryResult<()> {
    let now = now_utc();
    diesel::update(jobs::table.find(id))
        .set((
            jobs::status.eq(DONE),
            jobs::locked_until.eq(None::<PrimitiveDateTime>),
            jobs::locked_by.eq(None::<String>),
            jobs::last_error.eq(None::<String>),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Backoff before attempt `n + 1`: 5 s, 10 s, 20 s … capped at 10 minutes.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 8) as u32 - 1;
    Duration::seconds((5i64 << exp).min(600))
}

/// Records a failure: the job is queued again after a backoff while it may still
/// succeed, and marked failed otherwise.
pub fn fail(conn: &mut AnyConnection, job: &Job, error: &str, transient: bool) -> QueryResult<()> {
    let now = now_utc();
    let give_up = !transient || job.attempts >= job.max_attempts;
    diesel::update(jobs::table.find(job.id))
        .set((
            jobs::status.eq(if give_up { FAILED } else { QUEUED }),
            jobs::run_at.eq(now + backoff(job.attempts)),
            jobs::locked_until.eq(None::<PrimitiveDateTime>),
            jobs::locked_by.eq(None::<String>),
            jobs::last_error.eq(error),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn get(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<Job>> {
    jobs::table.find(id).select(Job::as_select()).first(conn).optional()
}

/// The most recent jobs, newest first.
pub fn recent(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<Job>> {
    jobs::table.order(jobs::id.desc()).limit(limit).select(Job::as_select()).load(conn)
}

/// Jobs not finished yet, by status (queued or running).
pub fn unfinished_count(conn: &mut AnyConnection) -> QueryResult<i64> {
    jobs::table.filter(jobs::status.eq_any([QUEUED, RUNNING])).count().get_result(conn)
}
