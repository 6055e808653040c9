//! Signing in to the console, throttled: at most `PER_USER` failed attempts per user name
//! and `PER_CLIENT` per client address within their windows, counted in the database so
//! that the limits hold across servers. Each attempt counts before its password is
//! checked (so simultaneous attempts cannot slip past the limit) and is taken back when it
//! succeeds. Passwords are checked outside any database connection, a few at a time.

use time::Duration;

use super::admins::{self, Admin};
use super::member_users::{self, MemberUser};
use super::passwords::Hasher;
use crate::audit::{self, Actor, Changes, Event};
use crate::db::{self, DbPool};
use crate::limits::{self, Exceeded, Limit};

pub const PER_USER: Limit = Limit { max: 10, window: Duration::minutes(15) };
pub const PER_CLIENT: Limit = Limit { max: 20, window: Duration::minutes(15) };

/// Who signed in.
#[derive(Debug, Clone)]
pub enum Principal {
    Admin(Admin),
    Member(MemberUser),
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("The user name or password is not correct")]
    BadCredentials,
    #[error("Too many failed sign-ins: wait {} seconds and try again", .0.retry_after_seconds())]
    Throttled(Exceeded),
    #[error("could not hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Storage(#[from] crate::errors::StorageError),
}

crate::errors::storage_errors!(LoginError);

/// The event an attempt counted against its client, to take back when it succeeds (the
/// user's events are cleared whole).
struct Counted {
    client: i64,
}

/// Checks a sign-in: administrators use their user name, member users their email (one
/// with `@`). `client` is the caller's address.
pub async fn sign_in(pool: &DbPool, hasher: &Hasher, name: &str, password: &str, client: &str, request_id: String) -> Result<Principal, LoginError> {
    let name = name.trim().to_owned();
    let user_scope = format!("login-user:{}", name.to_lowercase());
    let client_scope = format!("login-client:{client}");
    let is_member = name.contains('@');
    let (counted, found) = {
        let (name, user_scope, client_scope) = (name.clone(), user_scope.clone(), client_scope.clone());
        db::run(pool, move |c| {
            db::transaction(c, |c| {
                let user = limits::take(c, &user_scope, PER_USER)?;
                let client = limits::take(c, &client_scope, PER_CLIENT)?;
                let client = match (user, client) {
                    (Ok(_), Ok(client)) => client,
                    (Err(e), _) | (_, Err(e)) => return Err(LoginError::Throttled(e)),
                };
                let found = if is_member {
                    member_users::find_for_login(c, &name)?.map(Principal::Member)
                } else {
                    admins::find_by_username(c, &name)?.map(Principal::Admin)
                };
                Ok((Counted { client }, found))
            })
        })
        .await?
    };
    let hash = match &found {
        // An invited administrator without a password yet is checked like an unknown user.
        Some(Principal::Admin(a)) => Some(a.password_hash.as_str()).filter(|h| !h.is_empty()),
        Some(Principal::Member(m)) => m.password_hash.as_deref(),
        None => None,
    };
    let client = client.to_owned();
    if !hasher.verify(password, hash).await {
        tracing::info!(failed_sign_in = true, "a sign-in failed");
        // The name typed is kept only when it is a user's: text typed into the name field
        // may be a password.
        let (actor, action) = match &found {
            Some(Principal::Admin(a)) => (Actor::anonymous(&a.username, request_id), "admin.sign_in_failed"),
            Some(Principal::Member(m)) => (Actor::anonymous(&m.email, request_id), "member_user.sign_in_failed"),
            None => (Actor::anonymous("(unknown user name)", request_id), if is_member { "member_user.sign_in_failed" } else { "admin.sign_in_failed" }),
        };
        let event = Event::new(action, actor.name.clone()).changes(Changes::new().set("client", client));
        db::run(pool, move |c| audit::record_alone(c, &actor, event).map_err(LoginError::from)).await?;
        return Err(LoginError::BadCredentials);
    }
    let found = found.ok_or(LoginError::BadCredentials)?;
    let (actor, action) = match &found {
        Principal::Admin(a) => (Actor::admin(a.id, &a.username, request_id), "admin.sign_in"),
        Principal::Member(m) => (Actor::member_user(m.id, &m.email, request_id), "member_user.sign_in"),
    };
    let event = Event::new(action, actor.id.clone()).changes(Changes::new().set("client", client));
    db::run(pool, move |c| {
        db::transaction(c, |c| {
            // The user's own events all go with the clear (its counted one too): taking
            // them row by row as well let two sign-ins of one user lock each other's rows
            // in opposite orders (a deadlock under load).
            limits::forget(c, counted.client)?;
            limits::clear(c, &user_scope)?;
            audit::record(c, &actor, event)
        })
        .map_err(LoginError::from)
    })
    .await?;
    Ok(found)
}

/// Whose password changes.
#[derive(Debug, Clone, Copy)]
pub enum Who {
    Admin(i32),
    Member(i64),
}

/// Changes a signed-in user's own password. The current one must be given (and wrong
/// ones count against the user's sign-in limit); every other session of the user ends.
/// Returns the user's new session epoch, for the session that asked to keep.
pub async fn change_password(
    pool: &DbPool,
    hasher: &Hasher,
    who: Who,
    name: &str,
    current: &str,
    new: &crate::domain::Password,
    actor: &Actor,
) -> Result<i32, LoginError> {
    let scope = format!("login-user:{}", name.trim().to_lowercase());
    let (counted, hash) = {
        let scope = scope.clone();
        db::run(pool, move |c| {
            db::transaction(c, |c| {
                let counted = limits::take(c, &scope, PER_USER)?.map_err(LoginError::Throttled)?;
                let hash = match who {
                    Who::Admin(id) => admins::find_by_id(c, id)?.map(|a| a.password_hash),
                    Who::Member(id) => member_users::find(c, id)?.and_then(|u| u.password_hash),
                };
                Ok::<_, LoginError>((counted, hash))
            })
        })
        .await?
    };
    if !hasher.verify(current, hash.as_deref()).await {
        return Err(LoginError::BadCredentials);
    }
    let new_hash = hasher.hash(new.expose()).await.map_err(|e| LoginError::Hash(e.to_string()))?;
    let actor = actor.clone();
    db::run(pool, move |c| {
        db::transaction(c, |c| {
            limits::forget(c, counted)?;
            limits::clear(c, &scope)?;
            let epoch = match who {
                Who::Admin(id) => admins::set_password_hash(c, id, &new_hash)?,
                Who::Member(id) => member_users::set_password_hash(c, id, &new_hash)?,
            };
            let action = match who {
                Who::Admin(_) => "admin.password_change",
                Who::Member(_) => "member_user.password_change",
            };
            audit::record(c, &actor, Event::new(action, actor.id.clone()).changes(Changes::new().set("other_sessions", "ended")))?;
            tracing::info!(?who, "password changed; the user's other sessions ended");
            Ok::<_, LoginError>(epoch)
        })
    })
    .await
}
