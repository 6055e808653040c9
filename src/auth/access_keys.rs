use diesel::prelude::*;
use time::{Duration, PrimitiveDateTime};

use super::{AuthError, Role, SecretBox};
use crate::audit::{self, Actor, Changes, Event};
use crate::db::schema::{access_keys, api_nonces};
use crate::db::{AnyConnection, now_utc};
use crate::domain::random_alphanumeric;

/// A new access key; the secret is shown once and stored only sealed.
#[derive(Debug, Clone)]
pub struct NewAccessKey {
    pub id: String,
    pub secret: String,
}

/// An access key as its list shows it (never its secret).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = access_keys)]
pub struct AccessKey {
    pub id: String,
    pub description: String,
    pub created_by: String,
    pub role: String,
    pub status: String,
    pub created_at: PrimitiveDateTime,
    pub last_used_at: Option<PrimitiveDateTime>,
}

pub const ENABLED: &str = "Enabled";
pub const DISABLED: &str = "Disabled";

impl AccessKey {
    pub fn role(&self) -> Role {
        Role::stored(&self.role)
    }
    pub fn is_enabled(&self) -> bool {
        self.status == ENABLED
    }
}

/// A description a person gives a key: at most 200 characters, no control characters.
pub fn parse_description(s: &str) -> Result<String, crate::domain::ParseError> {
    let s = s.trim();
    if s.chars().count() > 200 || s.chars().any(char::is_control) {
        return Err(crate::domain::ParseError::new("Describe the key in at most 200 characters, on one line."));
    }
    Ok(s.to_owned())
}

pub fn create_access_key(conn: &mut AnyConnection, secrets: &SecretBox, description: &str, role: Role, actor: &Actor) -> Result<NewAccessKey, AuthError> {
    let key = NewAccessKey { id: format!("LTAI{}", random_alphanumeric(20)), secret: random_alphanumeric(30) };
    crate::db::transaction(conn, |conn| {
        diesel::insert_into(access_keys::table)
            .values((
                access_keys::id.eq(&key.id),
                access_keys::secret_sealed.eq(secrets.seal(&key.secret)),
                access_keys::created_at.eq(now_utc()),
                access_keys::description.eq(description),
                access_keys::created_by.eq(actor.to_string()),
                access_keys::role.eq(role.as_str()),
            ))
            .execute(conn)?;
        // The id only: the secret is shown once, to whoever created the key, and kept nowhere else.
        let changes = Changes::new().set("description", description).set("role", role.as_str());
        audit::record(conn, actor, Event::new("access_key.create", &key.id).changes(changes))
    })?;
    Ok(key)
}

/// Every access key, newest first.
pub fn list_access_keys(conn: &mut AnyConnection) -> QueryResult<Vec<AccessKey>> {
    access_keys::table.order((access_keys::created_at.desc(), access_keys::id.asc())).select(AccessKey::as_select()).load(conn)
}

fn get_key(conn: &mut AnyConnection, id: &str) -> Result<AccessKey, AuthError> {
    access_keys::table.find(id).select(AccessKey::as_select()).first(conn).optional()?.ok_or_else(|| AuthError::KeyNotFound(id.to_owned()))
}

/// Enables or disables a key; a disabled key's calls are refused (`InvalidAccessKeyId.Inactive`).
pub fn set_enabled(conn: &mut AnyConnection, id: &str, enabled: bool, actor: &Actor) -> Result<AccessKey, AuthError> {
    crate::db::transaction(conn, |conn| {
        let mut key = get_key(conn, id)?;
        let status = if enabled { ENABLED } else { DISABLED };
        if key.status != status {
            diesel::update(access_keys::table.find(&key.id)).set(access_keys::status.eq(status)).execute(conn)?;
            let action = if enabled { "access_key.enable" } else { "access_key.disable" };
            audit::record(conn, actor, Event::new(action, &key.id).changes(Changes::new().field("status", key.status.clone(), status)))?;
            key.status = status.to_owned();
        }
        Ok(key)
    })
}

pub fn delete_access_key(conn: &mut AnyConnection, id: &str, actor: &Actor) -> Result<AccessKey, AuthError> {
    crate::db::transaction(conn, |conn| {
        let key = get_key(conn, id)?;
        diesel::delete(access_keys::table.find(&key.id)).execute(conn)?;
        let changes = Changes::new().field("description", key.description.clone(), serde_json::Value::Null);
        audit::record(conn, actor, Event::new("access_key.delete", &key.id).changes(changes))?;
        Ok(key)
    })
}

/// What a signed call needs of its key: the secret to check the signature, then whether
/// the key may be used and what for.
#[derive(Debug, Clone)]
pub struct KeyCheck {
    pub secret: String,
    pub role: Role,
    pub enabled: bool,
}

#[derive(diesel::QueryableByName)]
struct KeyAndVersion {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    sealed: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    role: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    status: Option<String>,
    #[diesel(embed)]
    version: crate::directory::Version,
    /// 1 when this statement recorded the call's nonce, else 0.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    fresh: i64,
}

/// What a signed call reads before its signature is checked: its key (`None` for an
/// unknown id), the directory's search version for a read action's views to start from
/// (as a signed-in page's start from the one read with its session), and whether its
/// nonce was new and is now recorded.
pub(crate) struct CheckIn {
    pub key: Option<KeyCheck>,
    pub version: crate::directory::Version,
    pub fresh: bool,
}

/// Reads a signed call's key and the version and, when `nonce` is given and the key
/// exists, records the nonce ([`record_nonce`]): on PostgreSQL in one statement, so that
/// a call makes one round trip before its own reads (on SQLite, in-process, two).
///
/// The nonce is recorded before the signature is checked, so the caller must
/// [`forget_nonce`] when the signature turns out wrong: a forged request then leaves no
/// nonce behind, and cannot use up one that its sender did not sign. The caller passes
/// `None` for a nonce that is malformed or a call whose time is off, and says why only
/// after the signature checks (as before any nonce is touched).
pub(crate) fn check_in(conn: &mut AnyConnection, secrets: &SecretBox, id: &str, nonce: Option<&str>, for_a_read: bool) -> Result<CheckIn, AuthError> {
    let columns = crate::directory::version_columns(conn);
    let select = |fresh: &str| {
        format!(
            "SELECT {columns}, k.secret_sealed AS sealed, k.role AS role, k.status AS status, {fresh} AS fresh \
             FROM search_version v LEFT JOIN access_keys k ON k.id = $1 WHERE v.id = 1"
        )
    };
    let read: KeyAndVersion = match nonce {
        Some(nonce) if crate::db::is_postgres(conn) => {
            // The same statement as record_nonce's, inside this one (see there why a read's
            // nonce is committed without waiting for the disk).
            let (unflushed, from) = if for_a_read { (format!("{UNFLUSHED}, "), "FROM unflushed ") } else { (String::new(), "") };
            let sql = format!(
                "WITH {unflushed}seen AS (INSERT INTO api_nonces (nonce, seen_at) SELECT $2, $3 {from}\
                 WHERE EXISTS (SELECT 1 FROM access_keys WHERE id = $1) ON CONFLICT (nonce) DO NOTHING RETURNING 1) {}",
                select("(SELECT COUNT(*) FROM seen)")
            );
            crate::db::prepared::sql(sql)
                .bind::<diesel::sql_types::Text, _>(id)
                .bind::<diesel::sql_types::Text, _>(nonce)
                .bind::<diesel::sql_types::Timestamp, _>(now_utc())
                .get_result(conn)?
        }
        _ => {
            let mut read: KeyAndVersion = crate::db::prepared::sql(select("CAST(0 AS BIGINT)")).bind::<diesel::sql_types::Text, _>(id).get_result(conn)?;
            if let (Some(nonce), Some(_)) = (nonce, &read.sealed) {
                read.fresh = i64::from(record_nonce(conn, nonce, for_a_read)?);
            }
            read
        }
    };
    let key = match (read.sealed, read.role, read.status) {
        (Some(sealed), Some(role), Some(status)) => {
            let secret = secrets.open(&sealed).ok_or(AuthError::Unseal)?;
            Some(KeyCheck { secret, role: Role::stored(&role), enabled: status == ENABLED })
        }
        _ => None,
    };
    Ok(CheckIn { key, version: read.version, fresh: read.fresh == 1 })
}

/// PostgreSQL: the `WITH` part that commits a read's nonce without waiting for the disk
/// ([`record_nonce`] says why).
const UNFLUSHED: &str = "unflushed AS (SELECT set_config('synchronous_commit', 'off', true))";

/// Forgets a nonce that [`check_in`] recorded for a call whose signature was wrong.
pub fn forget_nonce(conn: &mut AnyConnection, nonce: &str) -> QueryResult<usize> {
    diesel::delete(api_nonces::table.find(nonce)).execute(conn)
}

/// Whether [`touch`] would write: false while this process wrote the key's use less than
/// a minute ago, so a busy key's calls need no statement (nor a database thread) for it.
pub fn touch_due(id: &str) -> bool {
    touched().get(id).is_none_or(|at| at.elapsed() >= std::time::Duration::from_secs(60))
}

fn touched() -> std::sync::MutexGuard<'static, std::collections::HashMap<String, std::time::Instant>> {
    static TOUCHED: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>> = std::sync::LazyLock::new(Default::default);
    TOUCHED.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Notes that a key was used now; written at most once a minute a key. This process
/// remembers when it last wrote each key's use, so a busy key costs no statement at all
/// in between (other servers write theirs, and the row's own time still holds each to
/// once a minute).
pub fn touch(conn: &mut AnyConnection, id: &str) -> QueryResult<()> {
    if !touch_due(id) {
        return Ok(());
    }
    let now = now_utc();
    diesel::update(access_keys::table.find(id))
        .filter(access_keys::last_used_at.is_null().or(access_keys::last_used_at.lt(now - Duration::minutes(1))))
        .set(access_keys::last_used_at.eq(Some(now)))
        .execute(conn)?;
    let mut touched = touched();
    if touched.len() >= 10_000 {
        touched.clear();
    }
    touched.insert(id.to_owned(), std::time::Instant::now());
    Ok(())
}

/// How long a signed request stays valid, either side of now; a nonce is remembered
/// for twice that, so a replay inside the window is always caught.
pub const REQUEST_WINDOW: Duration = Duration::minutes(15);

/// Records a request nonce. False when it was seen before (a replay). One statement and
/// no transaction around it: every signed call makes it, and a transaction had cost
/// three more round trips (its begin, the audit seal's check, its commit).
///
/// The nonce of an action that only reads (`for_a_read`) is committed on PostgreSQL
/// without waiting for the write-ahead log to reach the disk (`synchronous_commit` off for
/// that statement's own transaction): its call waits for no disk flush, and a crash can
/// lose at most the last fraction of a second of such nonces, which lets a read captured
/// in that fraction be sent again after the restart; it changes nothing. The nonce of an
/// action that writes is flushed before its call goes on.
fn record_nonce(conn: &mut AnyConnection, nonce: &str, for_a_read: bool) -> Result<bool, AuthError> {
    let sql = if for_a_read && crate::db::is_postgres(conn) {
        format!("WITH {UNFLUSHED} INSERT INTO api_nonces (nonce, seen_at) SELECT $1, $2 FROM unflushed ON CONFLICT (nonce) DO NOTHING")
    } else {
        "INSERT INTO api_nonces (nonce, seen_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING".to_owned()
    };
    let inserted = crate::db::prepared::sql(sql).bind::<diesel::sql_types::Text, _>(nonce).bind::<diesel::sql_types::Timestamp, _>(now_utc()).execute(conn)?;
    Ok(inserted == 1)
}

/// Forgets nonces older than twice the request window.
pub fn purge_nonces(conn: &mut AnyConnection, now: PrimitiveDateTime) -> QueryResult<usize> {
    diesel::delete(api_nonces::table.filter(api_nonces::seen_at.lt(now - REQUEST_WINDOW * 2))).execute(conn)
}
