use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};
use time::PrimitiveDateTime;

use super::NotifyError;
use crate::audit::{self, Actor, Changes, Event};
use crate::contacts::propagation::{Scope, covered_count};
use crate::db::paged::PagedDsl;
use crate::db::schema::{accounts, deliveries, folders, notifications};
use crate::db::{AnyConnection, now_utc};
use crate::directory;
use crate::domain::{MessageType, Page, PageRequest, TargetId};
use crate::jobs;
use crate::limits::Limit;

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
    pub finished_at: Option<PrimitiveDateTime>,
    pub gave_up: Option<String>,
}

/// The first job of a notification: its members' recipients become deliveries, batch by batch.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FanOut {
    pub notification_id: i64,
    pub bit: i32,
    pub scope: Scope,
    pub cursor: String,
    pub done: i64,
    pub total: i64,
}

/// The second job of a notification: its deliveries are sent (see `delivery`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SendNotification {
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
            return Err(NotifyError::InvalidSubject("The subject must be 1 to 200 characters on one line".into()));
        }
        if content.trim().is_empty() || content.chars().count() > 20_000 {
            return Err(NotifyError::InvalidContent("The content must be 1 to 20000 characters".into()));
        }
        if content.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(NotifyError::InvalidContent("The content may hold line breaks and tabs, but no other control characters".into()));
        }
        Ok(NewNotification { message_type, subject: subject.to_owned(), content: content.to_owned() })
    }
}

/// Publishes a notification to one member, a folder's subtree or (no target) the whole
/// directory, and queues its delivery. Returns the notification and how many members it reaches.
/// `limit`: the scope and limit this publication counts against (rule T4), if any.
pub fn publish(
    conn: &mut AnyConnection,
    new: &NewNotification,
    target: Option<&TargetId>,
    actor: &Actor,
    limit: Option<(&str, Limit)>,
) -> Result<(Notification, i64), NotifyError> {
    crate::db::transaction(conn, |conn| {
        if let Some((scope, limit)) = limit {
            crate::limits::take(conn, scope, limit)?.map_err(NotifyError::Throttled)?;
        }
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
                notifications::requested_by.eq(actor.to_string()),
                notifications::created_at.eq(now_utc()),
            ))
            .returning(notifications::id)
            .get_result(conn)?;
        jobs::enqueue(conn, &FanOut { notification_id: id, bit: new.message_type.bit(), scope, cursor: String::new(), done: 0, total: members })?;
        let n = notifications::table.find(id).select(Notification::as_select()).first(conn)?;
        let changes = Changes::new().set("message_type", new.message_type.api_name()).set("subject", new.subject.clone()).set("members", members);
        audit::record(conn, actor, Event::new("notification.publish", format!("notification:{id}")).related(target_id).changes(changes))?;
        tracing::info!(notification.id = id, members, "notification published");
        Ok((n, members))
    })
}

/// One batch of members: their recipients of the type become deliveries (one per
/// distinct address per member). The last batch queues the sending.
pub fn fan_out_step(conn: &mut AnyConnection, lease: &jobs::Lease, state: &FanOut, batch: i64) -> Result<Option<FanOut>, NotifyError> {
    crate::db::transaction(conn, |conn| {
        let value = state.scope.predicate(1).1;
        let Some(upper) = crate::contacts::propagation::next_batch_upper(conn, &state.scope, &state.cursor, batch)? else {
            jobs::enqueue(conn, &SendNotification { notification_id: state.notification_id })?;
            lease.checkpoint(conn, state, state.total, state.total)?;
            return Ok(None);
        };
        let (pred, _) = state.scope.predicate(3);
        // The same upsert on both engines (SQLite has taken ON CONFLICT since 3.24; its
        // parser wants the WHERE before it).
        let insert = format!(
            "INSERT INTO deliveries (notification_id, account_id, address, address_key, status, attempts, updated_at) \
                 SELECT $1, x.account_id, x.email, lower(x.email), 'pending', 0, $2 FROM ( \
                   SELECT r.account_id AS account_id, r.email AS email FROM mc_recipients r JOIN accounts m ON m.id = r.account_id LEFT JOIN folders f ON f.id = m.folder_id \
                   WHERE {pred} AND m.id > $4 AND m.id <= $5 AND (r.message_types & $6) <> 0 AND r.verified_at IS NOT NULL \
                   UNION ALL \
                   SELECT a.account_id AS account_id, c.email AS email FROM associations a JOIN contacts c ON c.id = a.contact_id \
                     JOIN accounts m ON m.id = a.account_id LEFT JOIN folders f ON f.id = m.folder_id \
                   WHERE {pred} AND m.id > $4 AND m.id <= $5 AND a.mc_removed_at IS NULL AND c.verified_at IS NOT NULL \
                     AND (c.message_types & $6) <> 0 AND (a.mc_opt_out & $6) = 0 \
                 ) x WHERE true ORDER BY x.account_id \
                 ON CONFLICT (notification_id, account_id, address_key) DO NOTHING"
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
        lease.checkpoint(conn, &next, next.done, next.total)?;
        tracing::debug!(notification.id = state.notification_id, deliveries = n, "notification fan-out batch");
        Ok(Some(next))
    })
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
    pub status: super::delivery::DeliveryStatus,
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
    pub status: Option<super::delivery::DeliveryStatus>,
}

type LogRow = (i64, String, String, String, String, String, String, i32, Option<String>, PrimitiveDateTime);

/// How many deliveries the log holds for a filter without a member, from the counts
/// kept per notification (migration 000020).
fn kept_total(conn: &mut AnyConnection, filter: &LogFilter) -> QueryResult<i64> {
    use crate::db::schema::delivery_counts as dc;
    let mut q = dc::table.inner_join(notifications::table).into_boxed();
    if let Some(n) = filter.notification {
        q = q.filter(dc::notification_id.eq(n));
    }
    if let Some(t) = filter.message_type {
        q = q.filter(notifications::message_type.eq(t.api_name()));
    }
    let rows: Vec<(i64, i64, i64, i64, i64, i64)> = q.select((dc::pending, dc::sending, dc::sent, dc::retrying, dc::failed, dc::skipped)).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(pending, sending, sent, retrying, failed, skipped)| {
            let counts = super::delivery::Counts { pending, sending, sent, retrying, failed, skipped };
            filter.status.as_ref().map_or(counts.total(), |s| counts.of(s))
        })
        .sum())
}

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
            q = q.filter(deliveries::status.eq(s.as_str()));
        }
        q
    };
    // Without a member, the total is a sum of the notifications' kept counts (counting
    // the log's 300,000 rows took 60 ms a view).
    let total = match &filter.account {
        None => kept_total(conn, filter)?,
        Some(_) => build().count().get_result(conn)?,
    };
    let page = page.within(total);
    let rows: Vec<LogRow> = build()
        .order(deliveries::id.desc())
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
        .paged(&page)
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|(notification_id, message_type, subject, account_id, account_name, address, status, attempts, last_error, updated_at)| {
            Ok(LogLine {
                notification_id,
                message_type,
                subject,
                account_id,
                account_name,
                address,
                status: status.try_into().map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?,
                attempts,
                last_error,
                updated_at,
            })
        })
        .collect::<QueryResult<Vec<LogLine>>>()?;
    Ok(Page { items, total, request: page })
}

/// The notification's fan-out or sending has not finished.
pub fn in_progress(conn: &mut AnyConnection, notification: i64) -> QueryResult<bool> {
    let finished: Option<Option<PrimitiveDateTime>> = notifications::table.find(notification).select(notifications::finished_at).first(conn).optional()?;
    Ok(matches!(finished, Some(None)))
}

pub fn get(conn: &mut AnyConnection, id: i64) -> QueryResult<Notification> {
    notifications::table.find(id).select(Notification::as_select()).first(conn)
}

/// What the Notifications page shows: a page of the log, and the latest notifications
/// (the filtered one only, when there is one) with how their deliveries stand.
pub struct LogView {
    pub lines: Page<LogLine>,
    pub summaries: Vec<Summary>,
}

static LOG_PAGES: crate::directory::KeptByVersion<std::sync::Arc<LogView>> = crate::directory::KeptByVersion::of_everything();

/// The Notifications page's reads, kept while nothing they read changes: deliveries,
/// their attempts and counts move a number of their own on (migration 000029), which the
/// page's request reads with its session, so a view while nothing is sent is answered on
/// the request's own thread, and one while sending reads it all again.
pub async fn log_page(pool: &crate::db::DbPool, filter: LogFilter, page: PageRequest, latest: i64) -> Result<std::sync::Arc<LogView>, super::NotifyError> {
    let key = format!("{filter:?} {page:?} {latest}");
    LOG_PAGES
        .run_kept(pool, key, move |c| {
            let (lines, summaries) = (log(c, &filter, page)?, summaries(c, filter.notification, latest)?);
            Ok::<_, super::NotifyError>(std::sync::Arc::new(LogView { lines, summaries }))
        })
        .await
}

/// A notification with how its deliveries stand.
#[derive(Debug, Clone)]
pub struct Summary {
    pub notification: Notification,
    pub counts: super::delivery::Counts,
}

/// The most recent notifications (or one), newest first, with their counts: two queries.
pub fn summaries(conn: &mut AnyConnection, only: Option<i64>, limit: i64) -> QueryResult<Vec<Summary>> {
    let mut q = notifications::table.order(notifications::id.desc()).select(Notification::as_select()).into_boxed();
    if let Some(id) = only {
        q = q.filter(notifications::id.eq(id));
    }
    let list: Vec<Notification> = q.limited(limit).load(conn)?;
    let ids: Vec<i64> = list.iter().map(|n| n.id).collect();
    let mut counts = super::delivery::counts(conn, &ids)?;
    Ok(list.into_iter().map(|n| Summary { counts: counts.remove(&n.id).unwrap_or_default(), notification: n }).collect())
}
