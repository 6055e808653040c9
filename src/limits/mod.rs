//! Counted limits that hold across servers (rule T4 and sign-in throttling): each event
//! is a row in `rate_events` under a scope (`login-user:admin`, `mail:someone@example.com`,
//! `publish:LTAI…`), and a limit is "at most N events of a scope within a window".
//! Checks and records run inside the caller's write transaction; on PostgreSQL an
//! advisory lock per scope makes concurrent checks of one scope take turns (SQLite's
//! write transactions already do).

use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};
use time::{Duration, PrimitiveDateTime};

use crate::db::schema::rate_events;
use crate::db::{AnyConnection, is_postgres, now_utc};

/// Mail anyone can make the server send to one address (invitations, test emails,
/// recipients' confirmation links): at most this many a minute (rule T4). Contacts'
/// verification emails have their own limits (rule C4).
pub const MAIL_PER_ADDRESS: Limit = Limit { max: 10, window: Duration::minutes(1) };

/// The scope of mail to one address.
pub fn mail_scope(address: &str) -> String {
    format!("mail:{}", address.trim().to_lowercase())
}

/// PublishNotification through one access key (rule T4): beyond it, `Throttling.User`.
pub const PUBLISH_PER_KEY: Limit = Limit { max: 20, window: Duration::minutes(1) };

/// Test notifications to one member from the console.
pub const TEST_NOTIFICATIONS_PER_MEMBER: Limit = Limit { max: 10, window: Duration::minutes(1) };

/// A limit: at most `max` events per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: i64,
    pub window: Duration,
}

/// A limit reached: when the next event will be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    pub retry_at: PrimitiveDateTime,
}

impl Exceeded {
    /// Whole seconds to wait, at least one (for `Retry-After`).
    pub fn retry_after_seconds(&self) -> i64 {
        (self.retry_at - now_utc()).whole_seconds().max(1)
    }
}

fn lock_scope(conn: &mut AnyConnection, scope: &str) -> QueryResult<()> {
    if is_postgres(conn) {
        crate::db::prepared::sql("SELECT pg_advisory_xact_lock(hashtext($1)) IS NULL").bind::<Text, _>(scope).execute(conn)?;
    }
    Ok(())
}

/// Whether one more event of `scope` fits in `limit`; `Err` says when it will.
pub fn check(conn: &mut AnyConnection, scope: &str, limit: Limit) -> QueryResult<Result<(), Exceeded>> {
    lock_scope(conn, scope)?;
    let since = now_utc() - limit.window;
    let recent: Vec<PrimitiveDateTime> = rate_events::table
        .filter(rate_events::scope.eq(scope))
        .filter(rate_events::at.gt(since))
        .order(rate_events::at.desc())
        .limit(limit.max)
        .select(rate_events::at)
        .load(conn)?;
    if (recent.len() as i64) < limit.max {
        return Ok(Ok(()));
    }
    let oldest_counted = *recent.last().expect("max is at least one");
    Ok(Err(Exceeded { retry_at: oldest_counted + limit.window }))
}

/// Records one event of `scope`; returns its id.
pub fn record(conn: &mut AnyConnection, scope: &str) -> QueryResult<i64> {
    diesel::insert_into(rate_events::table).values((rate_events::scope.eq(scope), rate_events::at.eq(now_utc()))).returning(rate_events::id).get_result(conn)
}

/// `check`, then `record` when it fits: one event that counts against the limit (its id).
pub fn take(conn: &mut AnyConnection, scope: &str, limit: Limit) -> QueryResult<Result<i64, Exceeded>> {
    Ok(match check(conn, scope, limit)? {
        Ok(()) => Ok(record(conn, scope)?),
        Err(e) => Err(e),
    })
}

/// Takes back one event (it turned out not to count, such as a sign-in that succeeded).
pub fn forget(conn: &mut AnyConnection, id: i64) -> QueryResult<()> {
    diesel::delete(rate_events::table.find(id)).execute(conn).map(|_| ())
}

/// Forgets the events of a scope (a successful sign-in clears its user name's failures).
pub fn clear(conn: &mut AnyConnection, scope: &str) -> QueryResult<()> {
    diesel::delete(rate_events::table.filter(rate_events::scope.eq(scope))).execute(conn).map(|_| ())
}

/// Removes events older than any window (a day); returns how many.
pub fn purge(conn: &mut AnyConnection, now: PrimitiveDateTime) -> QueryResult<usize> {
    crate::db::prepared::sql("DELETE FROM rate_events WHERE at < $1").bind::<Timestamp, _>(now - Duration::days(1)).execute(conn)
}
