//! Dead addresses: an address the mail server refused for good (a 5xx to RCPT or to the
//! message) is marked bouncing, with when and the server's answer. Notifications to it
//! are skipped and logged as skipped; the console shows the mark wherever the address
//! appears, and an administrator can clear it (the address is then asked to verify again).

use std::collections::HashMap;

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::audit::{self, Actor, Changes, Event};
use crate::db::schema::bounces;
use crate::db::{AnyConnection, now_utc};

/// A bouncing address.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = bounces)]
pub struct Bounce {
    pub address_key: String,
    pub address: String,
    pub bounced_at: PrimitiveDateTime,
    pub answer: String,
}

fn key(address: &str) -> String {
    address.trim().to_lowercase()
}

/// Marks `address` bouncing (again: the newest answer is kept), recorded as the system's.
pub fn mark(conn: &mut AnyConnection, address: &str, answer: &str, actor: &Actor) -> QueryResult<()> {
    let answer: String = answer.chars().filter(|c| !c.is_control()).take(300).collect();
    crate::db::transaction(conn, |conn| {
        let k = key(address);
        let updated = diesel::update(bounces::table.find(&k)).set((bounces::bounced_at.eq(now_utc()), bounces::answer.eq(&answer))).execute(conn)?;
        if updated == 0 {
            diesel::insert_into(bounces::table)
                .values((bounces::address_key.eq(&k), bounces::address.eq(address.trim()), bounces::bounced_at.eq(now_utc()), bounces::answer.eq(&answer)))
                .execute(conn)?;
            audit::record(conn, actor, Event::new("address.bounce", address.trim()).changes(Changes::new().set("answer", answer.clone())))?;
        }
        Ok(())
    })
}

/// Clears the mark; returns whether there was one.
pub fn clear(conn: &mut AnyConnection, address: &str, actor: &Actor) -> QueryResult<bool> {
    crate::db::transaction(conn, |conn| {
        let removed = diesel::delete(bounces::table.find(key(address))).execute(conn)?;
        if removed > 0 {
            audit::record(conn, actor, Event::new("address.bounce_cleared", address.trim()))?;
        }
        Ok(removed > 0)
    })
}

/// The marks of these addresses (by lower-case address): one query, kept under the read
/// version (migration 000028).
pub fn of<'a>(conn: &mut AnyConnection, addresses: impl IntoIterator<Item = &'a str>) -> QueryResult<HashMap<String, Bounce>> {
    let keys: Vec<String> = addresses.into_iter().map(key).collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    MARKS.copy_or_read(conn, &keys.join("\n"), |conn| {
        let found: Vec<Bounce> = bounces::table.filter(bounces::address_key.eq_any(&keys)).select(Bounce::as_select()).load(conn)?;
        Ok(found.into_iter().map(|b| (b.address_key.clone(), b)).collect())
    })
}

/// The marks of addresses, by their keys.
static MARKS: crate::directory::KeptByVersion<std::sync::Arc<HashMap<String, Bounce>>> = crate::directory::KeptByVersion::of_anything();

/// Whether `address` bounces.
pub fn is_bouncing(conn: &mut AnyConnection, address: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(bounces::table.find(key(address)))).get_result(conn)
}

/// The mark of one address, when it has one (for a page: `{% if let Some(b) = … %}`).
pub fn lookup(marks: &HashMap<String, Bounce>, address: &str) -> Option<Bounce> {
    marks.get(&key(address)).cloned()
}
