//! Deleting a contact (rules D1–D3): at once when it was never Active or reaches nobody;
//! otherwise the administrator chooses to keep its Message Center entries with the
//! members (they become the members' own recipients) or to remove them, which is a
//! background task that rule U2 may leave with fail reasons.

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};
use time::PrimitiveDateTime;

use super::bindings::Propagation;
use super::models::{Contact, ContactStatus};
use super::propagation::{self, Scope};
use super::{ContactError, get_contact, lock_directory};
use crate::db::schema::{accounts, associations, bindings, contacts};
use crate::db::{AnyConnection, now_utc};
use crate::domain::{ContactId, MessageTypes};
use crate::jobs;

pub const DELETE_JOB: &str = "delete_contact";

/// What a deletion did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    /// Gone (rule D1, or D2's keep).
    Deleted,
    /// Removing from the members in the background (D2's remove).
    Deleting { job: i64 },
}

/// How many members each choice of the Delete dialog touches.
#[derive(Debug, Clone)]
pub struct DeletionPreview {
    pub immediate: bool,
    pub bound_targets: i64,
    pub members: i64,
    pub entries_kept: i64,
}

pub fn preview(conn: &mut AnyConnection, id: &ContactId) -> Result<DeletionPreview, ContactError> {
    let contact = get_contact(conn, id)?;
    let bound_targets: i64 = bindings::table.filter(bindings::contact_id.eq(&contact.id)).count().get_result(conn)?;
    let members: i64 = associations::table.filter(associations::contact_id.eq(&contact.id)).count().get_result(conn)?;
    let entries_kept: i64 = associations::table.filter(associations::contact_id.eq(&contact.id)).filter(associations::mc_removed_at.is_null()).count().get_result(conn)?;
    Ok(DeletionPreview { immediate: contact.status() != ContactStatus::Active || (bound_targets == 0 && members == 0), bound_targets, members, entries_kept })
}

fn drop_contact(conn: &mut AnyConnection, contact: &str) -> QueryResult<()> {
    diesel::delete(associations::table.filter(associations::contact_id.eq(contact))).execute(conn)?;
    diesel::delete(bindings::table.filter(bindings::contact_id.eq(contact))).execute(conn)?;
    diesel::delete(contacts::table.find(contact)).execute(conn)?;
    Ok(())
}

/// Deletes a contact. `keep` is the API's RetainContactInMembers (default true).
pub fn delete_contact(conn: &mut AnyConnection, id: &ContactId, keep: bool) -> Result<Deletion, ContactError> {
    conn.transaction(|conn| {
        lock_directory(conn)?;
        let contact: Contact = get_contact(conn, id)?;
        if contact.status() == ContactStatus::Deleting {
            return Err(ContactError::DeletionRunning);
        }
        let p = preview(conn, id)?;
        if p.immediate {
            drop_contact(conn, &contact.id)?;
            tracing::info!(contact.id = %contact.id, "contact deleted");
            return Ok(Deletion::Deleted);
        }
        if keep {
            // The entries stay with the members, now their own recipients: same name,
            // verified address, the contact's types less what each member opted out of.
            let now = now_utc();
            diesel::sql_query(
                "INSERT INTO mc_recipients (account_id, name, email, message_types, created_at, modified_at) \
                 SELECT a.account_id, c.name, c.email, (c.message_types & ~a.mc_opt_out) & $1, $2, $2 \
                 FROM associations a JOIN contacts c ON c.id = a.contact_id \
                 WHERE a.contact_id = $3 AND a.mc_removed_at IS NULL AND (c.message_types & ~a.mc_opt_out & $1) <> 0",
            )
            .bind::<Integer, _>(MessageTypes::EVERY.bits())
            .bind::<Timestamp, _>(now)
            .bind::<Text, _>(&contact.id)
            .execute(conn)?;
            drop_contact(conn, &contact.id)?;
            tracing::info!(contact.id = %contact.id, "contact deleted, kept with its members");
            return Ok(Deletion::Deleted);
        }
        diesel::delete(bindings::table.filter(bindings::contact_id.eq(&contact.id))).execute(conn)?;
        // Members that left the directory have no Message Center to look after: they let go at once.
        diesel::delete(
            associations::table
                .filter(associations::contact_id.eq(&contact.id))
                .filter(associations::account_id.eq_any(accounts::table.filter(accounts::removed_at.is_not_null()).select(accounts::id))),
        )
        .execute(conn)?;
        diesel::update(contacts::table.find(&contact.id))
            .set((contacts::status.eq(ContactStatus::Deleting.as_str()), contacts::deletion_failed_at.eq(None::<PrimitiveDateTime>), contacts::modified_at.eq(now_utc())))
            .execute(conn)?;
        let total: i64 = associations::table.filter(associations::contact_id.eq(&contact.id)).count().get_result(conn)?;
        let job = jobs::enqueue(conn, DELETE_JOB, &Propagation { contact_id: contact.id.clone(), scope: Scope::Contact { id: contact.id.clone() }, cursor: String::new(), done: 0, total })?;
        tracing::info!(contact.id = %contact.id, job.id = job, "contact deletion started");
        Ok(Deletion::Deleting { job })
    })
}

/// One batch of a removal, with its checkpoint. At the end the contact is gone, or, when
/// rule U2 kept it for some members, Active again with those members as fail reasons.
pub fn deletion_step(conn: &mut AnyConnection, job_id: i64, state: &Propagation, batch: i64) -> Result<Option<Propagation>, ContactError> {
    conn.transaction(|conn| {
        lock_directory(conn)?;
        // Statistics every fifth batch: a removal only shrinks the table.
        if state.done % (5 * batch) == 0 {
            crate::db::analyze(conn, &["associations"])?;
        }
        let (n, next) = propagation::remove_batch(conn, &state.contact_id, &state.scope, &state.cursor, batch)?;
        if let Some(cursor) = next {
            let next = Propagation { cursor, done: (state.done + n as i64).min(state.total), ..state.clone() };
            jobs::checkpoint(conn, job_id, &next, next.done, next.total)?;
            return Ok(Some(next));
        }
        let left: i64 = associations::table.filter(associations::contact_id.eq(&state.contact_id)).count().get_result(conn)?;
        if left == 0 {
            drop_contact(conn, &state.contact_id)?;
            tracing::info!(contact.id = %state.contact_id, "contact deleted");
        } else {
            diesel::update(contacts::table.find(&state.contact_id))
                .set((contacts::status.eq(ContactStatus::Active.as_str()), contacts::deletion_failed_at.eq(Some(now_utc()))))
                .execute(conn)?;
            tracing::warn!(contact.id = %state.contact_id, members = left, "contact deletion ended with fail reasons");
        }
        jobs::checkpoint(conn, job_id, state, state.total, state.total)?;
        Ok(None)
    })
}

/// GetMessageContactDeletionStatus: `Deleting`, or `Failed` with (member, types) reasons.
#[derive(Debug, Clone)]
pub struct DeletionStatus {
    pub failed: bool,
    pub reasons: Vec<(String, MessageTypes)>,
}

pub fn deletion_status(conn: &mut AnyConnection, id: &ContactId) -> Result<DeletionStatus, ContactError> {
    let contact = get_contact(conn, id)?;
    if contact.status() == ContactStatus::Deleting {
        return Ok(DeletionStatus { failed: false, reasons: Vec::new() });
    }
    if contact.deletion_failed_at.is_none() {
        return Err(ContactError::NoDeletion);
    }
    let rows: Vec<(String, i32)> = associations::table
        .filter(associations::contact_id.eq(&contact.id))
        .filter(associations::retained_types.ne(0))
        .order(associations::account_id)
        .limit(1000)
        .select((associations::account_id, associations::retained_types))
        .load(conn)?;
    Ok(DeletionStatus { failed: true, reasons: rows.into_iter().map(|(a, t)| (a, MessageTypes::from_bits(t))).collect() })
}
