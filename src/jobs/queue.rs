use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};
use serde::Serialize;
use time::{Duration, PrimitiveDateTime};

use super::{Job, Lane};
use crate::db::paged::PagedDsl;
use crate::db::schema::jobs;
use crate::db::{AnyConnection, now_utc};

/// Where a job is; stored as its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

pub const QUEUED: JobStatus = JobStatus::Queued;
pub const RUNNING: JobStatus = JobStatus::Running;
pub const DONE: JobStatus = JobStatus::Done;
pub const FAILED: JobStatus = JobStatus::Failed;

impl JobStatus {
    pub const ALL: [JobStatus; 4] = [QUEUED, RUNNING, DONE, FAILED];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }
}

crate::stored_as_text!(JobStatus, "job status");

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    #[diesel(deserialize_as = String)]
    pub status: JobStatus,
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
    pub priority: i32,
    pub finished_at: Option<PrimitiveDateTime>,
    pub about: Option<String>,
}

impl JobRow {
    /// Progress in whole percent (0 when the total is not known yet).
    pub fn percent(&self) -> i64 {
        if self.progress_total <= 0 { if self.status == DONE { 100 } else { 0 } } else { (self.progress_done * 100 / self.progress_total).clamp(0, 100) }
    }
    pub fn is_finished(&self) -> bool {
        self.status == DONE || self.status == FAILED
    }
}

/// A finished job's payload: erased, since it may have carried a sealed link or personal
/// data that nothing needs any more (rule T3).
pub const ERASED: &str = "{}";

/// Attempts a job gets unless the settings say otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 8;

/// Adds a job to run as soon as a worker of its lane is free. Call it inside the
/// transaction of the change that causes the job, so that both happen or neither does.
pub fn enqueue<J: Job>(conn: &mut AnyConnection, job: &J) -> QueryResult<i64> {
    enqueue_with(conn, J::KIND, J::LANE, job, job.about())
}

/// [`enqueue`] by kind name, for kinds the caller cannot name as a type (tests, tools).
pub fn enqueue_raw(conn: &mut AnyConnection, kind: &str, lane: Lane, payload: &impl Serialize) -> QueryResult<i64> {
    enqueue_with(conn, kind, lane, payload, None)
}

fn enqueue_with(conn: &mut AnyConnection, kind: &str, lane: Lane, payload: &impl Serialize, about: Option<String>) -> QueryResult<i64> {
    let payload = serde_json::to_string(payload).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let now = now_utc();
    diesel::insert_into(jobs::table)
        .values((
            jobs::kind.eq(kind),
            jobs::payload.eq(payload),
            jobs::status.eq(QUEUED.as_str()),
            jobs::attempts.eq(0),
            jobs::max_attempts.eq(DEFAULT_MAX_ATTEMPTS),
            jobs::run_at.eq(now),
            jobs::progress_done.eq(0i64),
            jobs::progress_total.eq(0i64),
            jobs::created_at.eq(now),
            jobs::updated_at.eq(now),
            jobs::priority.eq(lane.priority()),
            jobs::about.eq(about),
        ))
        .returning(jobs::id)
        .get_result(conn)
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Takes the most urgent due job of the lanes up to `max_priority` (or one whose
/// worker's lease ran out) and leases it under `token` until `now + lease`. Each claim
/// counts an attempt, so a job that keeps killing its worker is given up in the end.
pub fn claim(conn: &mut AnyConnection, token: &str, lease: Duration, max_priority: i32, max_attempts: i32) -> QueryResult<Option<JobRow>> {
    let now = now_utc();
    let lock = if crate::db::is_postgres(conn) { "FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, max_attempts = $1, locked_until = $2, locked_by = $3, updated_at = $4 \
         WHERE id = (SELECT id FROM jobs \
                     WHERE ((status = 'queued' AND run_at <= $4) OR (status = 'running' AND locked_until < $4)) AND priority <= $5 \
                     ORDER BY priority, run_at, id LIMIT 1 {lock}) \
         RETURNING id"
    );
    let claimed = crate::db::prepared::sql(sql)
        .bind::<Integer, _>(max_attempts)
        .bind::<Timestamp, _>(now + lease)
        .bind::<Text, _>(token)
        .bind::<Timestamp, _>(now)
        .bind::<Integer, _>(max_priority)
        .get_result::<Claimed>(conn)
        .optional()?;
    match claimed {
        Some(c) => get(conn, c.id),
        None => Ok(None),
    }
}

/// A worker's hold on a job: the job's id and the token of this claim. Every write about
/// the job goes through it and changes nothing once another claim has taken the job.
#[derive(Debug, Clone)]
pub struct Lease {
    pub job_id: i64,
    pub token: String,
    pub duration: Duration,
}

/// The job's row while `token` holds it (running, leased to that token).
type Owned = diesel::dsl::Filter<
    diesel::dsl::Find<jobs::table, i64>,
    diesel::dsl::And<diesel::dsl::Eq<jobs::locked_by, String>, diesel::dsl::Eq<jobs::status, &'static str>>,
>;

fn owned(id: i64, token: &str) -> Owned {
    jobs::table.find(id).filter(jobs::locked_by.eq(token.to_owned()).and(jobs::status.eq(RUNNING.as_str())))
}

impl Lease {
    /// Takes one queued job by id (benchmarks drive a job's steps themselves).
    pub fn take(conn: &mut AnyConnection, job_id: i64, token: &str, duration: Duration) -> QueryResult<Option<Lease>> {
        let now = now_utc();
        let n = diesel::update(jobs::table.find(job_id).filter(jobs::status.eq(QUEUED.as_str())))
            .set((
                jobs::status.eq(RUNNING.as_str()),
                jobs::attempts.eq(jobs::attempts + 1),
                jobs::locked_by.eq(token),
                jobs::locked_until.eq(now + duration),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok((n == 1).then(|| Lease { job_id, token: token.to_owned(), duration }))
    }

    /// Extends the lease; `false` when another worker holds the job now.
    pub fn renew(&self, conn: &mut AnyConnection) -> QueryResult<bool> {
        let now = now_utc();
        let n = diesel::update(owned(self.job_id, &self.token)).set(jobs::locked_until.eq(now + self.duration)).execute(conn)?;
        Ok(n == 1)
    }

    /// Saves a long job's state and progress and extends the lease, inside the
    /// transaction of the batch it describes. When this worker no longer holds the job,
    /// it fails with `RollbackTransaction`, so the batch is undone and the job's new
    /// holder does it instead.
    pub fn checkpoint(&self, conn: &mut AnyConnection, state: &impl Serialize, done: i64, total: i64) -> QueryResult<()> {
        let payload = serde_json::to_string(state).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        let now = now_utc();
        let n = diesel::update(owned(self.job_id, &self.token))
            .set((
                jobs::payload.eq(payload),
                jobs::progress_done.eq(done),
                jobs::progress_total.eq(total),
                jobs::locked_until.eq(now + self.duration),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?;
        if n == 1 { Ok(()) } else { Err(diesel::result::Error::RollbackTransaction) }
    }

    /// Records progress only (jobs whose state lives in their own tables).
    pub fn progress(&self, conn: &mut AnyConnection, done: i64, total: i64) -> QueryResult<bool> {
        let now = now_utc();
        let n = diesel::update(owned(self.job_id, &self.token))
            .set((jobs::progress_done.eq(done), jobs::progress_total.eq(total), jobs::updated_at.eq(now)))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// The job is done. `false` when another worker holds it now (nothing changed).
    pub fn complete(&self, conn: &mut AnyConnection) -> QueryResult<bool> {
        let now = now_utc();
        let n = diesel::update(owned(self.job_id, &self.token))
            .set((
                jobs::status.eq(DONE.as_str()),
                jobs::payload.eq(ERASED),
                jobs::locked_until.eq(None::<PrimitiveDateTime>),
                jobs::locked_by.eq(None::<String>),
                jobs::last_error.eq(None::<String>),
                jobs::updated_at.eq(now),
                jobs::finished_at.eq(Some(now)),
            ))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Queues the job again for `at`. A failure counts the attempt it used; a job that
    /// only waits ([`super::Step::RunAgainAt`]) gives its attempt back.
    pub fn requeue(&self, conn: &mut AnyConnection, at: PrimitiveDateTime, error: Option<&str>) -> QueryResult<bool> {
        let now = now_utc();
        let attempts_back = if error.is_none() { 1 } else { 0 };
        let n = diesel::update(owned(self.job_id, &self.token))
            .set((
                jobs::status.eq(QUEUED.as_str()),
                jobs::attempts.eq(jobs::attempts - attempts_back),
                jobs::run_at.eq(at),
                jobs::locked_until.eq(None::<PrimitiveDateTime>),
                jobs::locked_by.eq(None::<String>),
                jobs::last_error.eq(error),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// The job will not be tried again. Fails with `RollbackTransaction` when another
    /// worker holds it now, so that the give-up work done in the same transaction is undone.
    pub fn fail(&self, conn: &mut AnyConnection, error: &str) -> QueryResult<()> {
        let now = now_utc();
        let n = diesel::update(owned(self.job_id, &self.token))
            .set((
                jobs::status.eq(FAILED.as_str()),
                jobs::payload.eq(ERASED),
                jobs::locked_until.eq(None::<PrimitiveDateTime>),
                jobs::locked_by.eq(None::<String>),
                jobs::last_error.eq(error),
                jobs::updated_at.eq(now),
                jobs::finished_at.eq(Some(now)),
            ))
            .execute(conn)?;
        if n == 1 { Ok(()) } else { Err(diesel::result::Error::RollbackTransaction) }
    }
}

/// Backoff before attempt `n + 1`: 5 s, 10 s, 20 s … capped at 10 minutes.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 8) as u32 - 1;
    Duration::seconds((5i64 << exp).min(600))
}

pub fn get(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<JobRow>> {
    jobs::table.find(id).select(JobRow::as_select()).first(conn).optional()
}

/// Jobs newest first, optionally of one status and one kind, a page at a time; kept under
/// the read version (migration 000028).
pub fn list(
    conn: &mut AnyConnection,
    status: Option<JobStatus>,
    kind: Option<&str>,
    page: crate::domain::PageRequest,
) -> QueryResult<crate::domain::Page<JobRow>> {
    let key = format!("{status:?}/{kind:?}/{page:?}");
    JOB_PAGES.copy_or_read(conn, &key, |conn| read_list(conn, status, kind, page))
}

/// Pages of the task list, by status, kind and page.
static JOB_PAGES: crate::directory::KeptByVersion<std::sync::Arc<crate::domain::Page<JobRow>>> = crate::directory::KeptByVersion::of_anything();

fn read_list(
    conn: &mut AnyConnection,
    status: Option<JobStatus>,
    kind: Option<&str>,
    page: crate::domain::PageRequest,
) -> QueryResult<crate::domain::Page<JobRow>> {
    let build = || {
        let mut q = jobs::table.into_boxed();
        if let Some(s) = status {
            q = q.filter(jobs::status.eq(s.as_str()));
        }
        if let Some(k) = kind {
            q = q.filter(jobs::kind.eq(k.to_owned()));
        }
        q
    };
    let total: i64 = build().count().get_result(conn)?;
    let page = page.within(total);
    let items = build().order(jobs::id.desc()).select(JobRow::as_select()).paged(&page).load(conn)?;
    Ok(crate::domain::Page { items, total, request: page })
}

pub fn recent(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<JobRow>> {
    jobs::table.order(jobs::id.desc()).select(JobRow::as_select()).limited(limit).load(conn)
}

/// Jobs not finished yet, by status (queued or running).
/// The queue at a glance, for `/metrics`.
#[derive(Debug, Clone)]
pub struct Census {
    /// (kind, status, jobs).
    pub counts: Vec<(String, String, i64)>,
    /// When the oldest queued job was due.
    pub oldest_queued: Option<PrimitiveDateTime>,
}

/// Jobs by kind and status, and the oldest queued one. Two queries.
pub fn census(conn: &mut AnyConnection) -> QueryResult<Census> {
    let counts = jobs::table.group_by((jobs::kind, jobs::status)).select((jobs::kind, jobs::status, diesel::dsl::count_star())).load(conn)?;
    let oldest_queued = jobs::table.filter(jobs::status.eq(QUEUED.as_str())).select(diesel::dsl::min(jobs::run_at)).first(conn)?;
    Ok(Census { counts, oldest_queued })
}

/// Jobs queued or running; kept under the read version (migration 000028).
pub fn unfinished_count(conn: &mut AnyConnection) -> QueryResult<i64> {
    UNFINISHED.kept_or_read(conn, "", |conn| jobs::table.filter(jobs::status.eq_any([QUEUED.as_str(), RUNNING.as_str()])).count().get_result(conn))
}

/// How many jobs are queued or running.
static UNFINISHED: crate::directory::KeptByVersion<i64> = crate::directory::KeptByVersion::of_anything();

/// The jobs about one thing (see [`Job::about`]) that are unfinished, or finished since
/// `since`, oldest first.
pub fn tasks_about(conn: &mut AnyConnection, about: &str, since: PrimitiveDateTime) -> QueryResult<Vec<JobRow>> {
    jobs::table
        .filter(jobs::about.eq(about))
        .filter(jobs::finished_at.is_null().or(jobs::finished_at.ge(since)))
        .order(jobs::id)
        .select(JobRow::as_select())
        .load(conn)
}

/// Deletes finished jobs (done or failed) that finished before `before`; returns how many.
pub fn purge_finished(conn: &mut AnyConnection, before: PrimitiveDateTime) -> QueryResult<usize> {
    crate::db::prepared::sql("DELETE FROM jobs WHERE status IN ('done', 'failed') AND finished_at < $1").bind::<Timestamp, _>(before).execute(conn)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many jobs of a lane wait or run (for the Tasks page and tests).
pub fn waiting_in_lane(conn: &mut AnyConnection, lane: Lane) -> QueryResult<i64> {
    Ok(crate::db::prepared::sql("SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running') AND priority = $1")
        .bind::<Integer, _>(lane.priority())
        .get_result::<Count>(conn)?
        .n)
}
