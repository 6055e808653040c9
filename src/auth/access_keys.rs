use diesel::prelude::*;
use time::{Duration, PrimitiveDateTime};

use super::{AuthError, SecretBox};
use crate::audit::{self, Actor};
use crate::db::schema::{access_keys, api_nonces};
use crate::db::{AnyConnection, is_unique_violation, now_utc};
use crate::domain::random_alphanumeric;

/// A new access key; the secret is shown once and stored only sealed.
#[derive(Debug, Clone)]
pub struct NewAccessKey {
    pub id: String,
    pub secret: String,
}

pub fn create_access_key(conn: &mut AnyConnection, secrets: &SecretBox, actor: &Actor) -> Result<NewAccessKey, AuthError> {
    let key = NewAccessKey { id: format!("LTAI{}", random_alphanumeric(20)), secret: random_alphanumeric(30) };
    crate::db::transaction(conn, |conn| {
        diesel::insert_into(access_keys::table)
            .values((access_keys::id.eq(&key.id), access_keys::secret_sealed.eq(secrets.seal(&key.secret)), access_keys::created_at.eq(now_utc())))
            .execute(conn)?;
        // The id only: the secret is shown once, to whoever created the key, and kept nowhere else.
        audit::record(conn, actor, crate::audit::Event::new("access_key.create", &key.id))
    })?;
    Ok(key)
}

/// The secret of an access key, or `None` for an unknown id.
pub fn secret_for(conn: &mut AnyConnection, secrets: &SecretBox, id: &str) -> Result<Option<String>, AuthError> {
    let sealed: Option<String> = access_keys::table.find(id).select(access_keys::secret_sealed).first(conn).optional()?;
    sealed.map(|s| secrets.open(&s).ok_or(AuthError::Unseal)).transpose()
}

/// How long a signed request stays valid, either side of now; a nonce is remembered
/// for twice that, so a replay inside the window is always caught.
pub const REQUEST_WINDOW: Duration = Duration::minutes(15);

/// Records a request nonce. False when it was seen before (a replay).
pub fn record_nonce(conn: &mut AnyConnection, nonce: &str) -> Result<bool, AuthError> {
    let now = now_utc();
    let inserted = crate::db::transaction(conn, |conn| {
        diesel::insert_into(api_nonces::table).values((api_nonces::nonce.eq(nonce), api_nonces::seen_at.eq(now))).execute(conn)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Forgets nonces older than twice the request window.
pub fn purge_nonces(conn: &mut AnyConnection, now: PrimitiveDateTime) -> QueryResult<usize> {
    diesel::delete(api_nonces::table.filter(api_nonces::seen_at.lt(now - REQUEST_WINDOW * 2))).execute(conn)
}
