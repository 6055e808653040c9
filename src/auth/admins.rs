use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::{AuthError, Role};
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
    pub role: String,
}

impl Admin {
    pub fn role(&self) -> Role {
        Role::stored(&self.role)
    }
}

pub use super::passwords::hash_password;

/// Adds an administrator with a password (hashed here: for the command line; the console
/// hashes off the pool and calls [`insert_admin`]).
pub fn create_admin(conn: &mut AnyConnection, username: &Username, password: &Password, role: Role, actor: &Actor) -> Result<Admin, AuthError> {
    let hash = hash_password(password.expose())?;
    insert_admin(conn, username, &hash, role, actor)
}

pub fn insert_admin(conn: &mut AnyConnection, username: &Username, hash: &str, role: Role, actor: &Actor) -> Result<Admin, AuthError> {
    let now = now_utc();
    crate::db::transaction(conn, |conn| {
        let inserted = diesel::insert_into(admins::table)
            .values((admins::username.eq(username.as_str()), admins::password_hash.eq(hash), admins::created_at.eq(now), admins::role.eq(role.as_str())))
            .execute(conn);
        match inserted {
            Err(e) if is_unique_violation(&e) => Err(AuthError::UsernameTaken(username.as_str().to_owned())),
            Err(e) => Err(e.into()),
            Ok(_) => {
                let admin = find_by_username(conn, username.as_str())?.expect("the row was just inserted");
                let changes = Changes::new().set("username", admin.username.clone()).set("role", role.as_str());
                audit::record(conn, actor, Event::new("admin.create", admin.id.to_string()).changes(changes))?;
                Ok(admin)
            }
        }
    })
}

/// Every administrator, by name.
pub fn list_admins(conn: &mut AnyConnection) -> QueryResult<Vec<Admin>> {
    admins::table.order(admins::username.asc()).select(Admin::as_select()).load(conn)
}

/// The administrator, or `AdminNotFound` naming what was asked for.
pub fn get_admin(conn: &mut AnyConnection, id: i32) -> Result<Admin, AuthError> {
    find_by_id(conn, id)?.ok_or_else(|| AuthError::AdminNotFound(format!("#{id}")))
}

/// Serializes changes to who may change things (PostgreSQL's row locks on every `admin`,
/// SQLite's write lock), so that two removals at once cannot leave nobody in charge.
fn lock_admins(conn: &mut AnyConnection) -> QueryResult<()> {
    diesel::update(admins::table.filter(admins::role.eq(Role::Admin.as_str()))).set(admins::role.eq(admins::role)).execute(conn).map(|_| ())
}

/// Refuses when `admin` is the last administrator with the `admin` role who can sign in
/// (one invited but without a password yet does not count).
fn keep_one_in_charge(conn: &mut AnyConnection, admin: &Admin) -> Result<(), AuthError> {
    let others: i64 = admins::table
        .filter(admins::role.eq(Role::Admin.as_str()))
        .filter(admins::password_hash.ne(""))
        .filter(admins::id.ne(admin.id))
        .count()
        .get_result(conn)?;
    if admin.role() == Role::Admin && others == 0 {
        return Err(AuthError::LastAdmin(admin.username.clone()));
    }
    Ok(())
}

/// Removes an administrator (never the last `admin`); their sessions end with the row.
pub fn remove_admin(conn: &mut AnyConnection, id: i32, actor: &Actor) -> Result<Admin, AuthError> {
    crate::db::transaction(conn, |conn| {
        lock_admins(conn)?;
        let admin = get_admin(conn, id)?;
        keep_one_in_charge(conn, &admin)?;
        diesel::delete(crate::db::schema::sessions::table.filter(crate::db::schema::sessions::admin_id.eq(admin.id))).execute(conn)?;
        diesel::delete(admins::table.find(admin.id)).execute(conn)?;
        let changes =
            Changes::new().field("username", admin.username.clone(), serde_json::Value::Null).field("role", admin.role.clone(), serde_json::Value::Null);
        audit::record(conn, actor, Event::new("admin.remove", admin.id.to_string()).changes(changes))?;
        Ok(admin)
    })
}

/// Gives an administrator another role (never taking `admin` from the last one); their
/// sessions end, so that the next sign-in carries the new role.
pub fn set_role(conn: &mut AnyConnection, id: i32, role: Role, actor: &Actor) -> Result<Admin, AuthError> {
    crate::db::transaction(conn, |conn| {
        lock_admins(conn)?;
        let mut admin = get_admin(conn, id)?;
        if admin.role() == role {
            return Ok(admin);
        }
        if role != Role::Admin {
            keep_one_in_charge(conn, &admin)?;
        }
        diesel::update(admins::table.find(admin.id)).set(admins::role.eq(role.as_str())).execute(conn)?;
        admin.session_epoch = super::sessions::new_admin_epoch(conn, admin.id)?;
        let changes = Changes::new().field("role", admin.role.clone(), role.as_str());
        audit::record(conn, actor, Event::new("admin.set_role", admin.id.to_string()).changes(changes))?;
        admin.role = role.as_str().to_owned();
        Ok(admin)
    })
}

/// Another administrator's new password (hashed by the caller): their sessions end.
pub fn reset_password(conn: &mut AnyConnection, id: i32, hash: &str, actor: &Actor) -> Result<Admin, AuthError> {
    crate::db::transaction(conn, |conn| {
        let admin = get_admin(conn, id)?;
        set_password_hash(conn, admin.id, hash)?;
        let changes = Changes::new().set("other_sessions", "ended");
        audit::record(conn, actor, Event::new("admin.password_reset", admin.id.to_string()).changes(changes))?;
        Ok(admin)
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
    create_admin(conn, &username, &Password::parse(&password).expect("20 characters is a valid password"), Role::Admin, &Actor::upkeep("first start"))?;
    Ok(Some((username.as_str().to_owned(), password)))
}
