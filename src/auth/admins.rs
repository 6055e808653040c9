use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::AuthError;
use crate::audit::{self, Actor, Changes, Event};
use crate::db::schema::admins;
use crate::db::{AnyConnection, is_unique_violation, now_utc};
use crate::domain::{Password, Username, random_alphanumeric};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = admins)]
pub struct Admin {
    pub id: i32,
    pub username: String,
    pub password_hash: String,
    pub created_at: PrimitiveDateTime,
    pub session_epoch: i32,
}

pub use super::passwords::hash_password;

pub fn create_admin(conn: &mut AnyConnection, username: &Username, password: &Password, actor: &Actor) -> Result<Admin, AuthError> {
    let hash = hash_password(password.expose())?;
    let now = now_utc();
    crate::db::transaction(conn, |conn| {
        let inserted = diesel::insert_into(admins::table)
            .values((admins::username.eq(username.as_str()), admins::password_hash.eq(&hash), admins::created_at.eq(now)))
            .execute(conn);
        match inserted {
            Err(e) if is_unique_violation(&e) => Err(AuthError::UsernameTaken(username.as_str().to_owned())),
            Err(e) => Err(e.into()),
            Ok(_) => {
                let admin = find_by_username(conn, username.as_str())?.expect("the row was just inserted");
                let event = Event::new("admin.create", admin.id.to_string()).changes(Changes::new().set("username", admin.username.clone()));
                audit::record(conn, actor, event)?;
                Ok(admin)
            }
        }
    })
}

pub fn find_by_username(conn: &mut AnyConnection, username: &str) -> QueryResult<Option<Admin>> {
    admins::table.filter(admins::username.eq(username)).select(Admin::as_select()).first(conn).optional()
}

pub fn find_by_id(conn: &mut AnyConnection, id: i32) -> QueryResult<Option<Admin>> {
    admins::table.find(id).select(Admin::as_select()).first(conn).optional()
}

/// Sets a new password hash and ends every session of the administrator; returns the
/// new session epoch.
pub fn set_password_hash(conn: &mut AnyConnection, id: i32, hash: &str) -> QueryResult<i32> {
    diesel::update(admins::table.find(id)).set(admins::password_hash.eq(hash)).execute(conn)?;
    super::sessions::new_admin_epoch(conn, id)
}

/// On a fresh deployment, creates `admin` with a generated password and returns the
/// password so that it can be shown once. Returns `None` when any administrator exists.
pub fn ensure_first_admin(conn: &mut AnyConnection) -> Result<Option<(String, String)>, AuthError> {
    let count: i64 = admins::table.count().get_result(conn)?;
    if count > 0 {
        return Ok(None);
    }
    let password = random_alphanumeric(20);
    let username = Username::parse("admin").expect("a valid user name");
    create_admin(conn, &username, &Password::parse(&password).expect("20 characters is a valid password"), &Actor::upkeep("first start"))?;
    Ok(Some((username.as_str().to_owned(), password)))
}
