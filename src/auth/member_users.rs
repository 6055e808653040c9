//! Member users: people who look after one member account's Message Center. An
//! administrator invites them by email; the single-use link (the rules of C6) lets them
//! set a password; they sign in with their email.

use diesel::prelude::*;
use time::{Duration, PrimitiveDateTime};

use super::AuthError;
use crate::audit::{self, Actor, Changes, Event};
use crate::db::schema::{accounts, member_invitations, member_users};
use crate::db::{AnyConnection, is_unique_violation, now_utc};
use crate::domain::{EmailAddress, Token};
use crate::jobs::send_email;
use crate::mail::templates::{InvitationMail, invitation_email};

pub const INVITATION_VALIDITY: Duration = Duration::days(7);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = member_users)]
pub struct MemberUser {
    pub id: i64,
    pub account_id: String,
    pub email: String,
    pub email_key: String,
    pub password_hash: Option<String>,
    pub invited_by: String,
    pub created_at: PrimitiveDateTime,
    pub activated_at: Option<PrimitiveDateTime>,
    pub session_epoch: i32,
}

#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    #[error("Member {0} does not exist")]
    AccountNotFound(String),
    #[error("Member {0} was removed from the resource directory: it cannot get new users")]
    AccountRemoved(String),
    #[error("{0} already signs in for another member account: use another address")]
    EmailTaken(String),
    #[error("{0} has already accepted an invitation for this member")]
    AlreadyActive(String),
    #[error("At most {} emails a minute can go to {address}. Try again after {}.", crate::limits::MAIL_PER_ADDRESS.max, crate::domain::when_utc(*retry_at))]
    AddressLimit { address: String, retry_at: PrimitiveDateTime },
    #[error("This invitation link cannot be used")]
    Invalid,
    #[error("This invitation expired")]
    Expired(InvitationView),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Storage(#[from] crate::errors::StorageError),
}

crate::errors::storage_errors!(InviteError);

/// What the set-password page shows.
#[derive(Debug, Clone)]
pub struct InvitationView {
    pub email: String,
    pub account_name: String,
    pub invited_by: String,
    pub expires_at: PrimitiveDateTime,
}

/// Invites `email` to look after `account`'s Message Center and queues the email. An
/// invitation not accepted yet can be sent again.
pub fn invite(
    conn: &mut AnyConnection,
    account: &str,
    email: &EmailAddress,
    invited_by: &str,
    public_url: &str,
    secrets: &crate::secrets::SecretBox,
    actor: &Actor,
) -> Result<MemberUser, InviteError> {
    crate::db::transaction(conn, |conn| {
        let (display_name, removed): (String, Option<PrimitiveDateTime>) = accounts::table
            .find(account)
            .select((accounts::display_name, accounts::removed_at))
            .first(conn)
            .optional()?
            .ok_or_else(|| InviteError::AccountNotFound(account.to_owned()))?;
        if removed.is_some() {
            return Err(InviteError::AccountRemoved(account.to_owned()));
        }
        let key = email.as_str().to_lowercase();
        let existing: Option<MemberUser> =
            member_users::table.filter(member_users::email_key.eq(&key)).select(MemberUser::as_select()).first(conn).optional()?;
        let user = match existing {
            Some(u) if u.account_id != account => return Err(InviteError::EmailTaken(email.as_str().to_owned())),
            Some(u) if u.activated_at.is_some() => return Err(InviteError::AlreadyActive(email.as_str().to_owned())),
            Some(u) => u,
            None => {
                let inserted = diesel::insert_into(member_users::table)
                    .values((
                        member_users::account_id.eq(account),
                        member_users::email.eq(email.as_str()),
                        member_users::email_key.eq(&key),
                        member_users::invited_by.eq(invited_by),
                        member_users::created_at.eq(now_utc()),
                    ))
                    .execute(conn);
                match inserted {
                    Err(e) if is_unique_violation(&e) => return Err(InviteError::EmailTaken(email.as_str().to_owned())),
                    other => other?,
                };
                member_users::table.filter(member_users::email_key.eq(&key)).select(MemberUser::as_select()).first(conn)?
            }
        };
        if let Err(e) = crate::limits::take(conn, &crate::limits::mail_scope(email.as_str()), crate::limits::MAIL_PER_ADDRESS)? {
            return Err(InviteError::AddressLimit { address: email.as_str().to_owned(), retry_at: e.retry_at });
        }
        let token = Token::generate();
        let now = now_utc();
        diesel::insert_into(member_invitations::table)
            .values((
                member_invitations::member_user_id.eq(user.id),
                member_invitations::token_hash.eq(token.hash()),
                member_invitations::sent_at.eq(now),
                member_invitations::expires_at.eq(now + INVITATION_VALIDITY),
            ))
            .execute(conn)?;
        let mail = invitation_email(&InvitationMail {
            to: &user.email,
            account_name: &display_name,
            account_id: account,
            invited_by,
            link: send_email::LINK_SLOT.to_owned(),
            expires: crate::domain::when_utc(now + INVITATION_VALIDITY),
        })?;
        send_email::enqueue_with_link(conn, &mail, &format!("{public_url}/invite/{}", token.expose()), secrets)?;
        let event = Event::new("member_user.invite", account).related(format!("member_user:{}", user.id));
        audit::record(conn, actor, event.changes(Changes::new().set("email", user.email.clone())))?;
        tracing::info!(account.id = %account, member_user.id = user.id, "member user invited");
        Ok(user)
    })
}

/// Removes one of a member's users: their sessions end at once, their links stop working.
pub fn remove_user(conn: &mut AnyConnection, account: &str, user_id: i64, actor: &Actor) -> Result<MemberUser, InviteError> {
    use crate::db::schema::sessions;
    crate::db::transaction(conn, |conn| {
        let user: MemberUser = member_users::table
            .find(user_id)
            .filter(member_users::account_id.eq(account))
            .select(MemberUser::as_select())
            .first(conn)
            .optional()?
            .ok_or(InviteError::Invalid)?;
        diesel::delete(sessions::table.filter(sessions::member_user_id.eq(user.id))).execute(conn)?;
        diesel::delete(member_invitations::table.filter(member_invitations::member_user_id.eq(user.id))).execute(conn)?;
        diesel::delete(member_users::table.find(user.id)).execute(conn)?;
        let event = Event::new("member_user.remove", account).related(format!("member_user:{}", user.id));
        audit::record(conn, actor, event.changes(Changes::new().field("email", user.email.clone(), serde_json::Value::Null)))?;
        tracing::info!(account.id = %account, member_user.id = user.id, "member user removed; their sessions ended");
        Ok(user)
    })
}

/// The newest invitation of its user only: a newer one replaces the older links.
fn usable(conn: &mut AnyConnection, token: &Token) -> Result<(i64, MemberUser, InvitationView), InviteError> {
    let (id, user_id, expires_at, used_at): (i64, i64, PrimitiveDateTime, Option<PrimitiveDateTime>) = member_invitations::table
        .filter(member_invitations::token_hash.eq(token.hash()))
        .select((member_invitations::id, member_invitations::member_user_id, member_invitations::expires_at, member_invitations::used_at))
        .first(conn)
        .optional()?
        .ok_or(InviteError::Invalid)?;
    let newest: i64 = member_invitations::table
        .filter(member_invitations::member_user_id.eq(user_id))
        .select(diesel::dsl::max(member_invitations::id))
        .first::<Option<i64>>(conn)?
        .unwrap_or(id);
    let user: MemberUser = member_users::table.find(user_id).select(MemberUser::as_select()).first(conn)?;
    if used_at.is_some() || newest != id || user.activated_at.is_some() {
        return Err(InviteError::Invalid);
    }
    let account_name: String = accounts::table.find(&user.account_id).select(accounts::display_name).first(conn)?;
    let view = InvitationView { email: user.email.clone(), account_name, invited_by: user.invited_by.clone(), expires_at };
    if expires_at <= now_utc() {
        return Err(InviteError::Expired(view));
    }
    Ok((id, user, view))
}

pub fn invitation(conn: &mut AnyConnection, token: &Token) -> Result<InvitationView, InviteError> {
    usable(conn, token).map(|(_, _, view)| view)
}

/// Accepts an invitation: the user's password is set and the link is used up.
/// `hash` is the new password's, made by the caller outside any connection.
pub fn accept(conn: &mut AnyConnection, token: &Token, hash: &str, request_id: String) -> Result<MemberUser, InviteError> {
    crate::db::transaction(conn, |conn| {
        let (invitation_id, mut user, _) = usable(conn, token)?;
        let now = now_utc();
        // Used up by exactly one of several simultaneous accepts: the one whose update
        // still finds the link unused.
        let consumed = diesel::update(member_invitations::table.find(invitation_id).filter(member_invitations::used_at.is_null()))
            .set(member_invitations::used_at.eq(Some(now)))
            .execute(conn)?;
        if consumed == 0 {
            return Err(InviteError::Invalid);
        }
        diesel::update(member_users::table.find(user.id))
            .set((member_users::password_hash.eq(Some(hash)), member_users::activated_at.eq(Some(now))))
            .execute(conn)?;
        user.password_hash = Some(hash.to_owned());
        user.activated_at = Some(now);
        let event = Event::new("member_user.accept", &user.account_id).related(format!("member_user:{}", user.id));
        audit::record(conn, &Actor::email_link(&user.email, request_id), event)?;
        Ok(user)
    })
}

/// The member user who signs in with this email, when it may (activated, its member
/// still in the directory); the caller checks the password.
pub fn find_for_login(conn: &mut AnyConnection, email: &str) -> QueryResult<Option<MemberUser>> {
    let user: Option<MemberUser> =
        member_users::table.filter(member_users::email_key.eq(email.trim().to_lowercase())).select(MemberUser::as_select()).first(conn).optional()?;
    let Some(user) = user.filter(|u| u.password_hash.is_some()) else { return Ok(None) };
    let removed = accounts::table.find(&user.account_id).select(accounts::removed_at).first::<Option<PrimitiveDateTime>>(conn)?.is_some();
    Ok((!removed).then_some(user))
}

/// Sets a new password hash and ends every session of the member user; returns the new
/// session epoch.
pub fn set_password_hash(conn: &mut AnyConnection, id: i64, hash: &str) -> QueryResult<i32> {
    diesel::update(member_users::table.find(id)).set(member_users::password_hash.eq(Some(hash))).execute(conn)?;
    super::sessions::new_member_user_epoch(conn, id)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<MemberUser>> {
    member_users::table.find(id).select(MemberUser::as_select()).first(conn).optional()
}

/// The users of one member account, oldest first.
/// Where a member user is: signed up, or invited with a link that works until a time,
/// or invited with a link that expired (an administrator sends a new one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserState {
    Active(PrimitiveDateTime),
    Invited { until: PrimitiveDateTime },
    Expired,
}

/// A member user with where it is.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub user: MemberUser,
    pub state: UserState,
}

impl UserRow {
    pub fn is_active(&self) -> bool {
        matches!(self.state, UserState::Active(_))
    }
    pub fn is_expired(&self) -> bool {
        self.state == UserState::Expired
    }
    pub fn active_since(&self) -> Option<PrimitiveDateTime> {
        if let UserState::Active(t) = self.state { Some(t) } else { None }
    }
    pub fn invited_until(&self) -> Option<PrimitiveDateTime> {
        if let UserState::Invited { until } = self.state { Some(until) } else { None }
    }
}

/// The member users of an account, each with the state of its newest invitation. Two
/// queries, kept under the read version (migration 000028); whether an invitation has
/// expired is decided at each call.
pub fn users_of(conn: &mut AnyConnection, account: &str) -> QueryResult<Vec<UserRow>> {
    Ok(users_at(&*kept_users_of(conn, account)?, now_utc()))
}

/// What [`users_of`] reads, before the time decides which invitations expired
/// ([`users_at`]): a page kept whole keeps this.
pub fn kept_users_of(conn: &mut AnyConnection, account: &str) -> QueryResult<std::sync::Arc<UsersAndInvitations>> {
    USERS.kept_or_read(conn, account, |conn| {
        let users: Vec<MemberUser> =
            member_users::table.filter(member_users::account_id.eq(account)).order(member_users::id).select(MemberUser::as_select()).load(conn)?;
        if users.is_empty() {
            return Ok::<_, diesel::result::Error>(std::sync::Arc::new((users, Vec::new())));
        }
        let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
        let newest: Vec<(i64, Option<PrimitiveDateTime>)> = member_invitations::table
            .filter(member_invitations::member_user_id.eq_any(&ids))
            .group_by(member_invitations::member_user_id)
            .select((member_invitations::member_user_id, diesel::dsl::max(member_invitations::expires_at)))
            .load(conn)?;
        Ok(std::sync::Arc::new((users, newest)))
    })
}

/// The member users of [`kept_users_of`], each in its state at `now`.
pub fn users_at((users, newest): &UsersAndInvitations, now: PrimitiveDateTime) -> Vec<UserRow> {
    users
        .iter()
        .map(|user| {
            let user = user.clone();
            let until = newest.iter().find(|(id, _)| *id == user.id).and_then(|(_, t)| *t);
            let state = match (user.activated_at, until) {
                (Some(at), _) => UserState::Active(at),
                (None, Some(until)) if until > now => UserState::Invited { until },
                (None, _) => UserState::Expired,
            };
            UserRow { user, state }
        })
        .collect()
}

/// An account's member users and when each one's newest invitation expires, by account.
pub type UsersAndInvitations = (Vec<MemberUser>, Vec<(i64, Option<PrimitiveDateTime>)>);
static USERS: crate::directory::KeptByVersion<std::sync::Arc<UsersAndInvitations>> = crate::directory::KeptByVersion::of_anything();
