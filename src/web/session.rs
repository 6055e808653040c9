//! Console sign-in state and CSRF protection.
//!
//! The session lives on the server (`auth::sessions`, through [`DbSessionStore`]); the
//! cookie carries only its random key. It holds who signed in, when (absolute expiry), when
//! they were last seen (idle expiry), the user's session epoch, and a random CSRF token
//! that every state-changing form or htmx request must echo back.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use serde::de::DeserializeOwned;

use crate::audit::Actor;
use crate::auth::Role;
use crate::auth::sessions::{self, ADMIN_ID, EPOCH, MEMBER_USER_ID, SEEN_AT, SIGNED_IN_AT};
use crate::db::{self, DbPool};
use crate::state::RequestId;
use crate::web::AppError;

const KIND: &str = "kind";
const ADMIN_NAME: &str = "admin_name";
const MEMBER_ACCOUNT: &str = "member_account";
const CSRF: &str = "csrf";
/// An administrator's role, as it was at sign-in (a change of role ends their sessions).
const ROLE: &str = "role";
const FLASH: &str = "flash";

/// Sign out after this long without a request…
pub const IDLE_SECONDS: i64 = sessions::IDLE.whole_seconds();
/// …and after this long in any case.
pub const ABSOLUTE_SECONDS: i64 = sessions::ABSOLUTE.whole_seconds();

/// actix-session's storage, in our database.
#[derive(Clone, Debug)]
pub struct DbSessionStore {
    pool: DbPool,
}

impl DbSessionStore {
    pub fn new(pool: DbPool) -> DbSessionStore {
        DbSessionStore { pool }
    }
}

#[derive(Debug, thiserror::Error)]
enum StoreError {
    #[error(transparent)]
    Storage(#[from] crate::errors::StorageError),
}

crate::errors::storage_errors!(StoreError);

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        let key = key.as_ref().to_owned();
        let with_deliveries = crate::directory::offer_with_deliveries();
        let (state, version) = db::run(&self.pool, move |c| Ok::<_, StoreError>(sessions::load_with_version(c, &key, with_deliveries)?))
            .await
            .map_err(|e| LoadError::Other(e.into()))?;
        crate::directory::offer(version);
        Ok(state)
    }

    async fn save(&self, state: HashMap<String, String>, _ttl: &actix_web::cookie::time::Duration) -> Result<SessionKey, SaveError> {
        let key = crate::domain::random_alphanumeric(64);
        let k = key.clone();
        db::run(&self.pool, move |c| Ok::<_, StoreError>(sessions::store(c, &k, &state)?)).await.map_err(|e| SaveError::Other(e.into()))?;
        SessionKey::try_from(key).map_err(|e| SaveError::Other(e.into()))
    }

    async fn update(&self, key: SessionKey, state: HashMap<String, String>, _ttl: &actix_web::cookie::time::Duration) -> Result<SessionKey, UpdateError> {
        let k = key.as_ref().to_owned();
        db::run(&self.pool, move |c| Ok::<_, StoreError>(sessions::store(c, &k, &state)?)).await.map_err(|e| UpdateError::Other(e.into()))?;
        Ok(key)
    }

    /// A session's end follows its state (idle and absolute expiry), not the cookie's.
    async fn update_ttl(&self, _key: &SessionKey, _ttl: &actix_web::cookie::time::Duration) -> Result<(), anyhow::Error> {
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        let key = key.as_ref().to_owned();
        Ok(db::run(&self.pool, move |c| Ok::<_, StoreError>(sessions::delete(c, &key)?)).await?)
    }
}

/// A session ends after `IDLE_SECONDS` without a request, or `ABSOLUTE_SECONDS` after
/// sign-in, whichever comes first.
fn expired(now: i64, signed_in_at: i64, seen_at: i64) -> bool {
    now - signed_in_at > ABSOLUTE_SECONDS || now - seen_at > IDLE_SECONDS
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn session_err(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("session: {e}"))
}

/// The session's CSRF token, created on first use.
pub fn csrf_token(session: &Session) -> Result<String, AppError> {
    if let Some(t) = session.get::<String>(CSRF).map_err(session_err)? {
        return Ok(t);
    }
    let bytes: [u8; 32] = rand::rng().random();
    let token = URL_SAFE_NO_PAD.encode(bytes);
    session.insert(CSRF, &token).map_err(session_err)?;
    Ok(token)
}

/// Compares secrets (a CSRF token, the metrics token) in time that does not depend on where they differ.
pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Starts a fresh session for someone who just proved their password: a new cookie
/// (renewed, so a planted session id is useless) and a new CSRF token, stored with it (made
/// on the first page instead, every page opened at once after sign-in wrote the session:
/// fifty writes of one row, 2 ms each, waiting on each other).
fn fresh(session: &Session, kind: &str, name: &str, epoch: i32) -> Result<(), AppError> {
    session.renew();
    session.clear();
    csrf_token(session)?;
    session.insert(KIND, kind).map_err(session_err)?;
    session.insert(ADMIN_NAME, name).map_err(session_err)?;
    session.insert(SIGNED_IN_AT, now()).map_err(session_err)?;
    session.insert(SEEN_AT, now()).map_err(session_err)?;
    session.insert(EPOCH, epoch).map_err(session_err)?;
    Ok(())
}

pub fn sign_in(session: &Session, admin_id: i32, username: &str, role: Role, epoch: i32) -> Result<(), AppError> {
    fresh(session, "admin", username, epoch)?;
    session.insert(ROLE, role.as_str()).map_err(session_err)?;
    session.insert(ADMIN_ID, admin_id).map_err(session_err)
}

/// The role of the administrator signed in to this session. Sessions from before roles
/// existed carry none: every administrator then had the `admin` role.
fn session_role(session: &Session) -> Result<Role, AppError> {
    Ok(session.get::<String>(ROLE).map_err(session_err)?.map_or(Role::Admin, |r| Role::stored(&r)))
}

/// Forms a viewer may still send: signing in and out, their own password, and the pages
/// of emailed links (those act for whoever holds the link, not for the session).
fn viewer_may_post(path: &str) -> bool {
    ["/login", "/logout", "/password"].contains(&path) || ["/verify/", "/confirm/", "/invite/", "/admin-invite/"].iter().any(|p| path.starts_with(p))
}

/// A viewer changes nothing: every state-changing console request of theirs answers 403,
/// whatever the route (the API's `POST /` checks its key's role itself).
pub async fn read_only_guard(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let reads = matches!(*req.method(), actix_web::http::Method::GET | actix_web::http::Method::HEAD);
    if !reads && req.path() != "/" && !viewer_may_post(req.path()) {
        let session = req.get_session();
        let is_admin = session.get::<String>(KIND).ok().flatten().as_deref() == Some("admin");
        if is_admin && !session_role(&session)?.can_change() {
            let refused =
                AppError::Forbidden("Your role is viewer: you can read everything here but change nothing. Ask an administrator to make the change.".into());
            return Ok(req.error_response(refused));
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

pub fn sign_in_member(session: &Session, user_id: i64, account_id: &str, email: &str, epoch: i32) -> Result<(), AppError> {
    fresh(session, "member", email, epoch)?;
    session.insert(MEMBER_USER_ID, user_id).map_err(session_err)?;
    session.insert(MEMBER_ACCOUNT, account_id).map_err(session_err)
}

/// The user changed their password: every other session of theirs ended (a new epoch),
/// this one goes on with it.
pub fn keep_after_password_change(session: &Session, epoch: i32) -> Result<(), AppError> {
    session.renew();
    session.insert(EPOCH, epoch).map_err(session_err)
}

pub fn sign_out(session: &Session) {
    session.purge();
}

/// The one-time message the next page shows ("Contact created."): kept in the session
/// between an action and the page it redirects to, never carried in the address, where
/// anyone could write a link that shows their text as ours.
#[derive(Clone)]
pub struct Flash(Session);

impl Flash {
    pub fn of(req: &HttpRequest) -> Flash {
        Flash(req.get_session())
    }

    /// Says `message` on the next page this user sees.
    pub fn say(&self, message: impl Into<String>) {
        if let Err(e) = self.0.insert(FLASH, message.into()) {
            tracing::warn!(error = %e, "flash message not kept");
        }
    }

    /// The message waiting to be shown, if any; it is shown once. Without one the session
    /// is left as it was: a removal marks it changed, and a changed session is written back.
    pub fn take(&self) -> Option<String> {
        if !self.0.contains_key(FLASH) {
            return None;
        }
        self.0.remove_as::<String>(FLASH).and_then(Result::ok)
    }
}

impl std::fmt::Debug for Flash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Flash")
    }
}

/// A signed-in administrator; extracting it refuses (redirect to sign-in) when the
/// session is missing or expired.
#[derive(Debug, Clone)]
pub struct CurrentAdmin {
    pub id: i32,
    pub username: String,
    pub role: Role,
    pub csrf: String,
    pub flash: Flash,
    pub request_id: String,
}

impl CurrentAdmin {
    /// This administrator, in this request, as the audit trail names them.
    pub fn actor(&self) -> Actor {
        Actor::admin(self.id, &self.username, self.request_id.clone())
    }
}

/// Who a live session belongs to.
enum Signed {
    Admin { id: i32, name: String, role: Role },
    Member { user_id: i64, account_id: String, email: String },
}

/// The session's principal, or `Unauthenticated` (redirect to sign-in) when there is
/// none or it expired.
fn signed_in(req: &HttpRequest) -> Result<(Signed, String), AppError> {
    let session = req.get_session();
    let next = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
    let unauthenticated = || AppError::Unauthenticated { next: next.clone() };
    let kind = session.get::<String>(KIND).map_err(session_err)?.ok_or_else(unauthenticated)?;
    let signed_in_at = session.get::<i64>(SIGNED_IN_AT).map_err(session_err)?.unwrap_or(0);
    let seen_at = session.get::<i64>(SEEN_AT).map_err(session_err)?.unwrap_or(0);
    let t = now();
    if expired(t, signed_in_at, seen_at) {
        session.purge();
        return Err(unauthenticated());
    }
    if t - seen_at > 60 {
        session.insert(SEEN_AT, t).map_err(session_err)?;
    }
    let name = session.get::<String>(ADMIN_NAME).map_err(session_err)?.unwrap_or_default();
    let who = match kind.as_str() {
        "admin" => Signed::Admin { id: session.get::<i32>(ADMIN_ID).map_err(session_err)?.ok_or_else(unauthenticated)?, name, role: session_role(&session)? },
        "member" => Signed::Member {
            user_id: session.get::<i64>(MEMBER_USER_ID).map_err(session_err)?.ok_or_else(unauthenticated)?,
            account_id: session.get::<String>(MEMBER_ACCOUNT).map_err(session_err)?.ok_or_else(unauthenticated)?,
            email: name,
        },
        _ => return Err(unauthenticated()),
    };
    Ok((who, csrf_token(&session)?))
}

/// A page that is not for this kind of user answers like a page that does not exist, so
/// that a member user learns nothing about the rest of the directory.
fn not_for_you(req: &HttpRequest) -> AppError {
    AppError::NotFound(format!("There is no page at {}.", req.path()))
}

impl CurrentAdmin {
    fn from_session(req: &HttpRequest) -> Result<CurrentAdmin, AppError> {
        match signed_in(req)? {
            (Signed::Admin { id, name, role }, csrf) => {
                Ok(CurrentAdmin { id, username: name, role, csrf, flash: Flash::of(req), request_id: RequestId::of(req) })
            }
            (Signed::Member { .. }, _) => Err(not_for_you(req)),
        }
    }
}

/// A signed-in member user: it sees only its own account's Message Center.
#[derive(Debug, Clone)]
pub struct CurrentMember {
    pub user_id: i64,
    pub account_id: String,
    pub email: String,
    pub csrf: String,
    pub flash: Flash,
    pub request_id: String,
}

impl CurrentMember {
    /// This member user, in this request, as the audit trail names them.
    pub fn actor(&self) -> Actor {
        Actor::member_user(self.user_id, &self.email, self.request_id.clone())
    }
}

impl FromRequest for CurrentMember {
    type Error = AppError;
    type Future = std::future::Ready<Result<CurrentMember, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(match signed_in(req) {
            Ok((Signed::Member { user_id, account_id, email }, csrf)) => {
                Ok(CurrentMember { user_id, account_id, email, csrf, flash: Flash::of(req), request_id: RequestId::of(req) })
            }
            Ok((Signed::Admin { .. }, _)) => Err(not_for_you(req)),
            Err(e) => Err(e),
        })
    }
}

/// Either kind of signed-in user.
#[derive(Debug, Clone)]
pub enum CurrentUser {
    Admin(CurrentAdmin),
    Member(CurrentMember),
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = std::future::Ready<Result<CurrentUser, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(signed_in(req).map(|(who, csrf)| match who {
            Signed::Admin { id, name, role } => {
                CurrentUser::Admin(CurrentAdmin { id, username: name, role, csrf, flash: Flash::of(req), request_id: RequestId::of(req) })
            }
            Signed::Member { user_id, account_id, email } => {
                CurrentUser::Member(CurrentMember { user_id, account_id, email, csrf, flash: Flash::of(req), request_id: RequestId::of(req) })
            }
        }))
    }
}

impl CurrentUser {
    pub fn flash(&self) -> &Flash {
        match self {
            CurrentUser::Admin(a) => &a.flash,
            CurrentUser::Member(m) => &m.flash,
        }
    }

    pub fn actor(&self) -> Actor {
        match self {
            CurrentUser::Admin(a) => a.actor(),
            CurrentUser::Member(m) => m.actor(),
        }
    }
}

/// Either kind of signed-in user (sign-out).
pub struct AnyUser;

impl FromRequest for AnyUser {
    type Error = AppError;
    type Future = std::future::Ready<Result<AnyUser, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(signed_in(req).map(|_| AnyUser))
    }
}

impl FromRequest for CurrentAdmin {
    type Error = AppError;
    type Future = std::future::Ready<Result<CurrentAdmin, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(CurrentAdmin::from_session(req))
    }
}

/// A url-encoded form whose CSRF token (the `csrf_token` field, or the `X-CSRF-Token`
/// header that our script sends) matches the session's. `pairs` keeps every field in
/// order, for repeated fields such as checkboxes; `CsrfForm` alone reads only `pairs`.
#[derive(Debug)]
pub struct CsrfForm<T = serde::de::IgnoredAny, const LIMIT: usize = FORM_LIMIT> {
    pub data: T,
    pub pairs: Vec<(String, String)>,
}

/// The size of a form a page takes unless it says otherwise (`CsrfForm<T, LIMIT>`).
pub const FORM_LIMIT: usize = 64 * 1024;

impl<T: DeserializeOwned + 'static, const LIMIT: usize> FromRequest for CsrfForm<T, LIMIT> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<CsrfForm<T, LIMIT>, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|e| AppError::BadRequest(format!("The form could not be read: {e}")))?;
            if body.len() > LIMIT {
                return Err(AppError::BadRequest("The form is too large.".into()));
            }
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
            let session = req.get_session();
            let expected = session.get::<String>(CSRF).map_err(session_err)?.ok_or(AppError::Csrf)?;
            let sent = req
                .headers()
                .get("X-CSRF-Token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .or_else(|| pairs.iter().find(|(k, _)| k == "csrf_token").map(|(_, v)| v.clone()))
                .ok_or(AppError::Csrf)?;
            if !constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
                return Err(AppError::Csrf);
            }
            let data = serde_urlencoded::from_bytes::<T>(&body).map_err(|e| AppError::BadRequest(format!("The form is missing a field: {e}")))?;
            Ok(CsrfForm { data, pairs })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_expires_when_idle_or_too_old() {
        let t = 1_000_000;
        assert!(!expired(t, t - 60, t - 60));
        assert!(expired(t, t - 60, t - IDLE_SECONDS - 1), "idle too long");
        assert!(!expired(t, t - ABSOLUTE_SECONDS + 5, t - 5), "active, and young enough");
        assert!(expired(t, t - ABSOLUTE_SECONDS - 1, t - 5), "active, but signed in too long ago");
    }

    #[test]
    fn tokens_compare_in_constant_time_and_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
