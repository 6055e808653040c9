//! Inviting an administrator by email: their row is made at once, without a password (an
//! empty hash matches none), and they set one through the emailed link. The link follows
//! the member users' rules: 256 random bits kept as a hash, sealed while queued, used once,
//! only the newest one works, seven days, at most ten emails a minute to one address.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::admins::{self, Admin};
use super::member_users::INVITATION_VALIDITY;
use super::{AuthError, Role};
use crate::audit::{self, Actor, Changes, Event};
use crate::db::schema::{admin_invitations, admins as admins_table};
use crate::db::{AnyConnection, is_unique_violation, now_utc};
use crate::domain::{EmailAddress, Token, Username};
use crate::jobs::send_email;
use crate::mail::templates::{AdminInvitationMail, admin_invitation_email};

#[derive(Debug, thiserror::Error)]
pub enum AdminInviteError {
    #[error("An administrator named {0:?} already exists and has a password: choose another name")]
    UsernameTaken(String),
    #[error("At most {} emails a minute can go to {address}. Try again after {}.", crate::limits::MAIL_PER_ADDRESS.max, crate::domain::when_utc(*retry_at))]
    AddressLimit { address: String, retry_at: PrimitiveDateTime },
    #[error("This invitation link cannot be used")]
    Invalid,
    #[error("This invitation expired")]
    Expired(AdminInvitationView),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Storage(#[from] crate::errors::StorageError),
}

crate::errors::storage_errors!(AdminInviteError);

/// What the set-password page shows.
#[derive(Debug, Clone)]
pub struct AdminInvitationView {
    pub username: String,
    pub email: String,
    pub invited_by: String,
    pub expires_at: PrimitiveDateTime,
}

/// An administrator who has not set a password yet: where their newest link went and until when it works.
#[derive(Debug, Clone)]
pub struct Pending {
    pub admin_id: i32,
    pub email: String,
    pub expires_at: PrimitiveDateTime,
}

/// Invites `username` (made now, with `role`) at `email`; inviting a name that is still
/// waiting sends a new link, which replaces the older ones.
pub fn invite(
    conn: &mut AnyConnection,
    username: &Username,
    email: &EmailAddress,
    role: Role,
    public_url: &str,
    secrets: &crate::secrets::SecretBox,
    actor: &Actor,
) -> Result<Admin, AdminInviteError> {
    crate::db::transaction(conn, |conn| {
        let admin = match admins::find_by_username(conn, username.as_str())? {
            Some(a) if !a.password_hash.is_empty() => return Err(AdminInviteError::UsernameTaken(username.as_str().to_owned())),
            Some(a) => a,
            None => {
                let inserted = diesel::insert_into(admins_table::table)
                    .values((
                        admins_table::username.eq(username.as_str()),
                        admins_table::password_hash.eq(""),
                        admins_table::created_at.eq(now_utc()),
                        admins_table::role.eq(role.as_str()),
                    ))
                    .execute(conn);
                match inserted {
                    Err(e) if is_unique_violation(&e) => return Err(AdminInviteError::UsernameTaken(username.as_str().to_owned())),
                    other => other?,
                };
                admins::find_by_username(conn, username.as_str())?.expect("the row was just inserted")
            }
        };
        if let Err(e) = crate::limits::take(conn, &crate::limits::mail_scope(email.as_str()), crate::limits::MAIL_PER_ADDRESS)? {
            return Err(AdminInviteError::AddressLimit { address: email.as_str().to_owned(), retry_at: e.retry_at });
        }
        let token = Token::generate();
        let now = now_utc();
        let invited_by = actor.to_string();
        diesel::insert_into(admin_invitations::table)
            .values((
                admin_invitations::admin_id.eq(admin.id),
                admin_invitations::email.eq(email.as_str()),
                admin_invitations::invited_by.eq(&invited_by),
                admin_invitations::token_hash.eq(token.hash()),
                admin_invitations::sent_at.eq(now),
                admin_invitations::expires_at.eq(now + INVITATION_VALIDITY),
            ))
            .execute(conn)?;
        let mail = admin_invitation_email(&AdminInvitationMail {
            to: email.as_str(),
            username: &admin.username,
            role: admin.role(),
            invited_by: &invited_by,
            link: send_email::LINK_SLOT.to_owned(),
            expires: crate::domain::when_utc(now + INVITATION_VALIDITY),
        })
        .map_err(crate::errors::StorageError::from)?;
        send_email::enqueue_with_link(conn, &mail, &format!("{public_url}/admin-invite/{}", token.expose()), secrets)?;
        let changes = Changes::new().set("username", admin.username.clone()).set("email", email.as_str()).set("role", admin.role.clone());
        audit::record(conn, actor, Event::new("admin.invite", admin.id.to_string()).changes(changes))?;
        Ok(admin)
    })
}

/// The newest invitation of its administrator only, unused, while they have no password.
fn usable(conn: &mut AnyConnection, token: &Token) -> Result<(i64, Admin, AdminInvitationView), AdminInviteError> {
    let (id, admin_id, email, invited_by, expires_at, used_at): (i64, i32, String, String, PrimitiveDateTime, Option<PrimitiveDateTime>) =
        admin_invitations::table
            .filter(admin_invitations::token_hash.eq(token.hash()))
            .select((
                admin_invitations::id,
                admin_invitations::admin_id,
                admin_invitations::email,
                admin_invitations::invited_by,
                admin_invitations::expires_at,
                admin_invitations::used_at,
            ))
            .first(conn)
            .optional()?
            .ok_or(AdminInviteError::Invalid)?;
    let newest: Option<i64> =
        admin_invitations::table.filter(admin_invitations::admin_id.eq(admin_id)).select(diesel::dsl::max(admin_invitations::id)).first(conn)?;
    let admin = admins::find_by_id(conn, admin_id)?.ok_or(AdminInviteError::Invalid)?;
    if used_at.is_some() || newest != Some(id) || !admin.password_hash.is_empty() {
        return Err(AdminInviteError::Invalid);
    }
    let view = AdminInvitationView { username: admin.username.clone(), email, invited_by, expires_at };
    if expires_at <= now_utc() {
        return Err(AdminInviteError::Expired(view));
    }
    Ok((id, admin, view))
}

pub fn invitation(conn: &mut AnyConnection, token: &Token) -> Result<AdminInvitationView, AdminInviteError> {
    usable(conn, token).map(|(_, _, view)| view)
}

/// Uses the link: the administrator's password is set (`hash`, made by the caller outside
/// any connection). Of simultaneous uses, one wins.
pub fn accept(conn: &mut AnyConnection, token: &Token, hash: &str, request_id: String) -> Result<Admin, AdminInviteError> {
    crate::db::transaction(conn, |conn| {
        let (id, mut admin, view) = usable(conn, token)?;
        let consumed = diesel::update(admin_invitations::table.find(id).filter(admin_invitations::used_at.is_null()))
            .set(admin_invitations::used_at.eq(Some(now_utc())))
            .execute(conn)?;
        if consumed == 0 {
            return Err(AdminInviteError::Invalid);
        }
        admin.session_epoch = admins::set_password_hash(conn, admin.id, hash)?;
        admin.password_hash = hash.to_owned();
        audit::record(conn, &Actor::email_link(&view.email, request_id), Event::new("admin.accept", admin.id.to_string()))?;
        Ok(admin)
    })
}

/// The administrators still waiting to set a password, with their newest link.
pub fn pending(conn: &mut AnyConnection) -> QueryResult<Vec<Pending>> {
    let rows: Vec<(i64, i32, String, PrimitiveDateTime)> = admin_invitations::table
        .inner_join(admins_table::table)
        .filter(admins_table::password_hash.eq(""))
        .order(admin_invitations::id.desc())
        .select((admin_invitations::id, admin_invitations::admin_id, admin_invitations::email, admin_invitations::expires_at))
        .load(conn)?;
    let mut seen = std::collections::HashSet::new();
    Ok(rows.into_iter().filter(|(_, a, _, _)| seen.insert(*a)).map(|(_, admin_id, email, expires_at)| Pending { admin_id, email, expires_at }).collect())
}
