//! Console sessions kept on the server (rule T1). The cookie carries a random key; the
//! table keeps its SHA-256, the session's state, who signed in and until when.
//!
//! A session is valid only while its user is: loading it checks that the administrator
//! or member user still exists, that the member account was not removed, and that the
//! user's `session_epoch` is the one the session started with (a password change raises
//! it). So sign-out, a password change and a removal end sessions at once, on every server.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Timestamp};
use sha2::{Digest, Sha256};
use time::{Duration, PrimitiveDateTime};

use crate::db::schema::{admins, member_users, sessions};
use crate::db::{AnyConnection, now_utc};

/// The state keys that name the session's user (written by the console's sign-in).
pub const ADMIN_ID: &str = "admin_id";
pub const MEMBER_USER_ID: &str = "member_user_id";
pub const EPOCH: &str = "epoch";
pub const SIGNED_IN_AT: &str = "signed_in_at";
pub const SEEN_AT: &str = "seen_at";

/// Sign out after this long without a request…
pub const IDLE: Duration = Duration::minutes(30);
/// …and after this long in any case.
pub const ABSOLUTE: Duration = Duration::hours(12);
/// A session nobody signed in to (it only carries the sign-in form's CSRF token).
pub const ANONYMOUS: Duration = Duration::hours(1);

/// What is stored for a cookie's key: only its hash.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A session's state: each value is JSON, as actix-session writes it.
pub type State = HashMap<String, String>;

fn number(state: &State, key: &str) -> Option<i64> {
    state.get(key).and_then(|v| serde_json::from_str::<i64>(v).ok())
}

fn at(seconds: i64) -> Option<PrimitiveDateTime> {
    let t = time::OffsetDateTime::from_unix_timestamp(seconds).ok()?;
    Some(PrimitiveDateTime::new(t.date(), t.time()))
}

/// When a session with this state ends: idle or absolute expiry for a signed-in one.
pub fn expires_at(state: &State, now: PrimitiveDateTime) -> PrimitiveDateTime {
    match (number(state, SIGNED_IN_AT).and_then(at), number(state, SEEN_AT).and_then(at)) {
        (Some(signed_in), Some(seen)) => (seen + IDLE).min(signed_in + ABSOLUTE),
        _ => now + ANONYMOUS,
    }
}

#[derive(QueryableByName)]
struct StateAndVersion {
    #[diesel(sql_type = Nullable<diesel::sql_types::Text>)]
    state: Option<String>,
    #[diesel(embed)]
    version: crate::directory::Version,
}

/// The state of a live session, or `None` (unknown, expired, or its user is gone or
/// changed their password since), and the directory's search version, read by the same
/// statement: every console request runs it, and a page that keeps values under the
/// version then needs no round trip of its own to read it ([`crate::directory::offer`]).
/// With `with_deliveries`, the version carries the deliveries' number too (a view that
/// reads them). Prepared once a connection.
pub(crate) fn load_with_version(conn: &mut AnyConnection, key: &str, with_deliveries: bool) -> QueryResult<(Option<State>, crate::directory::Version)> {
    let sql = format!(
        "SELECT {}, s.state AS state FROM search_version v LEFT JOIN ( \
             SELECT s.state AS state FROM sessions s \
             LEFT JOIN admins a ON a.id = s.admin_id \
             LEFT JOIN member_users u ON u.id = s.member_user_id \
             LEFT JOIN accounts m ON m.id = u.account_id \
             WHERE s.id = $1 AND s.expires_at > $2 \
               AND (s.admin_id IS NULL OR a.session_epoch = s.epoch) \
               AND (s.member_user_id IS NULL OR (u.session_epoch = s.epoch AND m.removed_at IS NULL)) \
         ) s ON 1 = 1 WHERE v.id = 1",
        crate::directory::version_columns_with(conn, with_deliveries)
    );
    let read: StateAndVersion =
        crate::db::prepared::sql(sql).bind::<diesel::sql_types::Text, _>(key_hash(key)).bind::<Timestamp, _>(now_utc()).get_result(conn)?;
    Ok((read.state.and_then(|s| serde_json::from_str(&s).ok()), read.version))
}

/// Writes a session's state under its key (new or existing).
pub fn store(conn: &mut AnyConnection, key: &str, state: &State) -> QueryResult<()> {
    let now = now_utc();
    let json = serde_json::to_string(state).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let admin = number(state, ADMIN_ID).and_then(|n| i32::try_from(n).ok());
    let member = number(state, MEMBER_USER_ID);
    let epoch = number(state, EPOCH).and_then(|n| i32::try_from(n).ok()).unwrap_or(0);
    let expires = expires_at(state, now);
    let id = key_hash(key);
    crate::db::transaction(conn, |conn| {
        let updated = diesel::update(sessions::table.find(&id))
            .set((
                sessions::state.eq(&json),
                sessions::admin_id.eq(admin),
                sessions::member_user_id.eq(member),
                sessions::epoch.eq(epoch),
                sessions::expires_at.eq(expires),
            ))
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(sessions::table)
                .values((
                    sessions::id.eq(&id),
                    sessions::state.eq(&json),
                    sessions::admin_id.eq(admin),
                    sessions::member_user_id.eq(member),
                    sessions::epoch.eq(epoch),
                    sessions::created_at.eq(now),
                    sessions::expires_at.eq(expires),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

pub fn delete(conn: &mut AnyConnection, key: &str) -> QueryResult<()> {
    diesel::delete(sessions::table.find(key_hash(key))).execute(conn).map(|_| ())
}

/// Removes sessions that have ended; returns how many.
pub fn purge_expired(conn: &mut AnyConnection, now: PrimitiveDateTime) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)
}

/// Ends every session of an administrator (a new epoch) and returns the new epoch, which
/// the session that asked keeps.
pub fn new_admin_epoch(conn: &mut AnyConnection, admin_id: i32) -> QueryResult<i32> {
    diesel::update(admins::table.find(admin_id)).set(admins::session_epoch.eq(admins::session_epoch + 1)).execute(conn)?;
    admins::table.find(admin_id).select(admins::session_epoch).first(conn)
}

/// The same for a member user.
pub fn new_member_user_epoch(conn: &mut AnyConnection, user_id: i64) -> QueryResult<i32> {
    diesel::update(member_users::table.find(user_id)).set(member_users::session_epoch.eq(member_users::session_epoch + 1)).execute(conn)?;
    member_users::table.find(user_id).select(member_users::session_epoch).first(conn)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// How many live sessions a user has (for tests and the console).
pub fn live_count(conn: &mut AnyConnection, admin_id: Option<i32>, member_user_id: Option<i64>) -> QueryResult<i64> {
    Ok(diesel::sql_query("SELECT COUNT(*) AS n FROM sessions s WHERE s.expires_at > $1 AND (s.admin_id = $2 OR s.member_user_id = $3)")
        .bind::<Timestamp, _>(now_utc())
        .bind::<Nullable<diesel::sql_types::Integer>, _>(admin_id)
        .bind::<Nullable<diesel::sql_types::BigInt>, _>(member_user_id)
        .get_result::<Count>(conn)?
        .n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t1_a_signed_in_session_ends_when_idle_or_too_old_whichever_is_first() {
        let now = now_utc();
        let secs = |t: PrimitiveDateTime| t.assume_utc().unix_timestamp().to_string();
        let mut state = State::new();
        state.insert(SIGNED_IN_AT.into(), secs(now - Duration::hours(1)));
        state.insert(SEEN_AT.into(), secs(now - Duration::minutes(1)));
        let idle_end = expires_at(&state, now);
        assert!(idle_end > now && idle_end <= now + IDLE, "idle expiry counts from the last request");
        state.insert(SIGNED_IN_AT.into(), secs(now - ABSOLUTE + Duration::minutes(5)));
        assert!(expires_at(&state, now) <= now + Duration::minutes(5), "never past twelve hours after sign-in");
        assert_eq!(expires_at(&State::new(), now), now + ANONYMOUS);
    }

    #[test]
    fn t3_only_a_hash_of_the_session_key_is_stored() {
        let key = "k".repeat(64);
        assert_eq!(key_hash(&key).len(), 64);
        assert!(!key_hash(&key).contains(&key));
    }
}
