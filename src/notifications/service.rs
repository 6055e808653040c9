use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};
use time::PrimitiveDateTime;

use super::NotifyError;
use crate::contacts::propagation::{Scope, covered_count};
use crate::db::schema::{accounts, deliveries, delivery_attempts, folders, notifications};
use crate::db::{AnyConnection, insert_ignoring_conflicts, now_utc};
use crate::directory;
use crate::domain::{MessageType, Page, PageRequest, TargetId};
use crate::jobs;

pub const FAN_OUT_JOB: &str = "notification_fan_out";
pub const SEND_JOB: &str = "notification_send";
/// Attempts per delivery before it is given up.
pub const MAX_ATTEMPTS: i32 = 5;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: i64,
    pub message_type: String,
    pub subject: String,
    pub content: String,
    pub target_id: String,
    pub members: i64,
    pub requested_by: String,
    pub created_at: PrimitiveDateTime,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FanOut {
    pub notification_id: i64,
    pub bit: i32,
    pub scope: Scope,
    pub cursor: String,
    pub done: i64,
    pub total: i64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Send {
    pub notification_id: i64,
}

/// What a notification is, checked.
pub struct NewNotification {
    pub message_type: MessageType,
    pub subject: String,
    pub content: String,
}

impl NewNotification {
    pub fn parse(message_type: MessageType, subject: &str, content: &str) -> Result<NewNotification, NotifyError> {
        let subject = subject.trim();
        if subject.is_empty() || subject.chars().count() > 200 || subject.chars().any(char::is_control) {
            return Err(NotifyError::Invalid("The subject must be 1 to 200 characters on one line".into()));
        }
        if content.trim().is_empty() || content.chars().count() > 20_000 {
            return Err(NotifyError::Invalid("The content must be 1 to 20000 characters".into()));
        }
        Ok(NewNotification { message_type, subject: subject.to_owned(), content: content.to_owned() })
    }
}

/// Publishes a notification to one member, a folder's subtree or (no target) the whole
/// directory, and queues its delivery. Returns the notification and how many members it reaches.
pub fn publish(conn: &mut AnyConnection, new: &NewNotification, target: Option<&TargetId>, requested_by: &str) -> Result<(Notification, i64), NotifyError> {
    conn.transaction(|conn| {
        let rd = directory::get_directory(conn)?;
        let (scope, target_id) = match target {
            None | Some(TargetId::Directory(_)) => {
                let path: String = folders::table.find(&rd.root_folder_id).select(folders::path).first(conn)?;
                (Scope::Subtree { path }, rd.id.clone())
            }
            Some(TargetId::Folder(f)) => {
                let path: Option<String> = folders::table.find(f.as_str()).select(folders::path).first(conn).optional()?;
                (Scope::Subtree { path: path.ok_or_else(|| NotifyError::InvalidTarget(f.to_string()))? }, f.to_string())
            }
            Some(TargetId::Account(a)) => {
                let removed: Option<Option<PrimitiveDateTime>> = accounts::table.find(a.as_str()).select(accounts::removed_at).first(conn).optional()?;
                if !matches!(removed, Some(None)) {
                    return Err(NotifyError::InvalidTarget(a.to_string()));
                }
                (Scope::Account { id: a.to_string() }, a.to_string())
            }
        };
        let members = covered_count(conn, &scope)?;
        let id: i64 = diesel::insert_into(notifications::table)
            .values((
                notifications::message_type.eq(new.message_type.api_name()),
                notifications::subject.eq(&new.subject),
                notifications::content.eq(&new.content),
                notifications::target_id.eq(&target_id),
                notifications::members.eq(members),
                notifications::requested_by.eq(requested_by),
                notifications::created_at.eq(now_utc()),
            ))
            .returning(notifications::id)
            .get_result(conn)?;
        jobs::enqueue(conn, FAN_OUT_JOB, &FanOut { notification_id: id, bit: new.message_type.bit(), scope, cursor: String::new(), done: 0, total: members })?;
        let n = notifications::table.find(id).select(Notification::as_select()).first(conn)?;
        tracing::info!(notification.id = id, members, "notification published");
        Ok((n, members))
    })
}

#[derive(QueryableByName)]
struct Upper {
    #[diesel(sql_type = Nullable<Text>)]
    upper: Option<String>,
}

/// One batch of members: their recipients of the type become deliveries (one per
/// distinct address per member). The last batch queues the sending.
pub fn fan_out_step(conn: &mut AnyConnection, job_id: i64, state: &FanOut, batch: i64) -> Result<Option<FanOut>, NotifyError> {
    conn.transaction(|conn| {
        let (pred, value) = state.scope.predicate(1);
        let upper = diesel::sql_query(format!(
            "SELECT MAX(id) AS upper FROM (SELECT m.id FROM accounts m LEFT JOIN folders f ON f.id = m.folder_id WHERE {pred} AND m.id > $2 ORDER BY m.id LIMIT $3) s"
        ))
        .bind::<Text, _>(&value)
        .bind::<Text, _>(&state.cursor)
        .bind::<BigInt, _>(batch)
        .get_result::<Upper>(conn)?
        .upper;
        let Some(upper) = upper else {
            jobs::enqueue(conn, SEND_JOB, &Send { notification_id: state.notification_id })?;
            jobs::checkpoint(conn, job_id, state, state.total, state.total)?;
            return Ok(None);
        };
        let (pred, _) = state.scope.predicate(3);
        let insert = insert_ignoring_conflicts(
            conn,
            &format!(
                "INSERT INTO deliveries (notification_id, account_id, address, address_key, status, attempts, updated_at) \
                 SELECT $1, x.account_id, x.email, lower(x.email), 'pending', 0, $2 FROM ( \
                   SELECT r.account_id AS account_id, r.email AS email FROM mc_recipients r JOIN accounts m ON m.id = r.account_id LEFT JOIN folders f ON f.id = m.folder_id \
                   WHERE {pred} AND m.id > $4 AND m.id <= $5 AND (r.message_types & $6) <> 0 \
                   UNION ALL \
                   SELECT a.account_id AS account_id, c.email AS email FROM associations a JOIN contacts c ON c.id = a.contact_id \
                     JOIN accounts m ON m.id = a.account_id LEFT JOIN folders f ON f.id = m.folder_id \
                   WHERE {pred} AND m.id > $4 AND m.id <= $5 AND a.mc_removed_at IS NULL AND c.verified_at IS NOT NULL \
                     AND (c.message_types & $6) <> 0 AND (a.mc_opt_out & $6) = 0 \
                 ) x ORDER BY x.account_id"
            ),
            "notification_id, account_id, address_key",
        );
        let n = diesel::sql_query(insert)
            .bind::<BigInt, _>(state.notification_id)
            .bind::<Timestamp, _>(now_utc())
            .bind::<Text, _>(&value)
            .bind::<Text, _>(&state.cursor)
            .bind::<Text, _>(&upper)
            .bind::<Integer, _>(state.bit)
            .execute(conn)?;
        let next = FanOut { cursor: upper, done: (state.done + batch).min(state.total), ..state.clone() };
        jobs::checkpoint(conn, job_id, &next, next.done, next.total)?;
        tracing::debug!(notification.id = state.notification_id, deliveries = n, "notification fan-out batch");
        Ok(Some(next))
    })
}

/// A delivery waiting to go, with what its email needs.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
    pub account_id: String,
    pub account_name: String,
    pub address: String,
    pub attempts: i32,
}

/// The next deliveries of a notification to attempt, after `after` (ids ascending).
pub fn pending(conn: &mut AnyConnection, notification: i64, after: i64, limit: i64) -> QueryResult<(Notification, Vec<Pending>)> {
    let n = notifications::table.find(notification).select(Notification::as_select()).first(conn)?;
    let rows: Vec<(i64, String, String, String, i32)> = deliveries::table
        .inner_join(accounts::table.on(accounts::id.eq(deliveries::account_id)))
        .filter(deliveries::notification_id.eq(notification))
        .filter(deliveries::status.eq_any(["pending", "retrying"]))
        .filter(deliveries::id.gt(after))
        .order(deliveries::id)
        .limit(limit)
        .select((deliveries::id, deliveries::account_id, accounts::display_name, deliveries::address, deliveries::attempts))
        .load(conn)?;
    Ok((n, rows.into_iter().map(|(id, account_id, account_name, address, attempts)| Pending { id, account_id, account_name, address, attempts }).collect()))
}

/// The outcome of one attempt.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub delivery: i64,
    pub attempts: i32,
    pub error: Option<(String, bool)>,
}

/// Records a batch of attempts: sent, retrying (transient failure, attempts left) or failed.
pub fn record(conn: &mut AnyConnection, outcomes: &[Outcome]) -> QueryResult<()> {
    conn.transaction(|conn| {
        let now = now_utc();
        for o in outcomes {
            let attempts = o.attempts + 1;
            let (status, error) = match &o.error {
                None => ("sent", None),
                Some((e, true)) if attempts < MAX_ATTEMPTS => ("retrying", Some(e.clone())),
                Some((e, _)) => ("failed", Some(e.clone())),
            };
            diesel::update(deliveries::table.find(o.delivery))
                .set((deliveries::status.eq(status), deliveries::attempts.eq(attempts), deliveries::last_error.eq(&error), deliveries::updated_at.eq(now)))
                .execute(conn)?;
            diesel::insert_into(delivery_attempts::table)
                .values((
                    delivery_attempts::delivery_id.eq(o.delivery),
                    delivery_attempts::attempted_at.eq(now),
                    delivery_attempts::outcome.eq(status),
                    delivery_attempts::error.eq(&error),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

pub fn retrying_count(conn: &mut AnyConnection, notification: i64) -> QueryResult<i64> {
    deliveries::table.filter(deliveries::notification_id.eq(notification)).filter(deliveries::status.eq("retrying")).count().get_result(conn)
}

/// One line of the delivery log.
#[derive(Debug, Clone)]
pub struct LogLine {
    pub notification_id: i64,
    pub message_type: String,
    pub subject: String,
    pub account_id: String,
    pub account_name: String,
    pub address: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub updated_at: PrimitiveDateTime,
}

/// The filters of the Notifications page.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub notification: Option<i64>,
    pub account: Option<String>,
    pub message_type: Option<MessageType>,
    pub status: Option<String>,
}

type LogRow = (i64, String, String, String, String, String, String, i32, Option<String>, PrimitiveDateTime);

/// The delivery log, newest first, filtered; two queries.
pub fn log(conn: &mut AnyConnection, filter: &LogFilter, page: PageRequest) -> QueryResult<Page<LogLine>> {
    let build = || {
        let mut q = deliveries::table.inner_join(notifications::table).inner_join(accounts::table.on(accounts::id.eq(deliveries::account_id))).into_boxed();
        if let Some(n) = filter.notification {
            q = q.filter(deliveries::notification_id.eq(n));
        }
        if let Some(a) = &filter.account {
            q = q.filter(deliveries::account_id.eq(a.clone()));
        }
        if let Some(t) = filter.message_type {
            q = q.filter(notifications::message_type.eq(t.api_name()));
        }
        if let Some(s) = &filter.status {
            q = q.filter(deliveries::status.eq(s.clone()));
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let rows: Vec<LogRow> = build()
        .order(deliveries::id.desc())
        .limit(page.size)
        .offset(page.offset())
        .select((
            deliveries::notification_id,
            notifications::message_type,
            notifications::subject,
            deliveries::account_id,
            accounts::display_name,
            deliveries::address,
            deliveries::status,
            deliveries::attempts,
            deliveries::last_error,
            deliveries::updated_at,
        ))
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|(notification_id, message_type, subject, account_id, account_name, address, status, attempts, last_error, updated_at)| LogLine {
            notification_id,
            message_type,
            subject,
            account_id,
            account_name,
            address,
            status,
            attempts,
            last_error,
            updated_at,
        })
        .collect();
    Ok(Page { items, total, request: page })
}

/// The notification's fan-out or sending has not finished.
pub fn in_progress(conn: &mut AnyConnection, notification: i64) -> QueryResult<bool> {
    use crate::db::schema::jobs as jobs_table;
    let n: i64 = jobs_table::table
        .filter(jobs_table::kind.eq_any([FAN_OUT_JOB, SEND_JOB]))
        .filter(jobs_table::status.eq_any([jobs::QUEUED, jobs::RUNNING]))
        .filter(jobs_table::payload.like(format!("%\"notification_id\":{notification},%")).or(jobs_table::payload.like(format!("%\"notification_id\":{notification}}}"))))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
