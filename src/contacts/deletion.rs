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
use crate::audit::{self, Actor, Changes, Event};
use crate::db::schema::{accounts, associations, bindings, contacts, deletion_fail_reasons};
use crate::db::{AnyConnection, now_utc};
use crate::domain::{ContactId, MessageTypes};
use crate::jobs;

/// Removes a contact from its members, batch by batch, then deletes it (rule D2's remove).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct DeleteContact(pub Propagation);

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
    let entries_kept: i64 =
        associations::table.filter(associations::contact_id.eq(&contact.id)).filter(associations::mc_removed_at.is_null()).count().get_result(conn)?;
    Ok(DeletionPreview { immediate: contact.status() != ContactStatus::Active || (bound_targets == 0 && members == 0), bound_targets, members, entries_kept })
}

/// Deletes a contact with its bindings and associations. The associations are deleted
/// only when its kept count says there are any: after a removal that ran to the end, the
/// index entries of the associations it deleted are not yet vacuumed, and walking them took
/// 227 ms of the removal's last transaction at a million members (PostgreSQL).
fn drop_contact(conn: &mut AnyConnection, contact: &str) -> QueryResult<()> {
    if propagation::association_count(conn, contact)? != 0 {
        diesel::delete(associations::table.filter(associations::contact_id.eq(contact))).execute(conn)?;
    }
    diesel::delete(bindings::table.filter(bindings::contact_id.eq(contact))).execute(conn)?;
    diesel::delete(contacts::table.find(contact)).execute(conn)?;
    Ok(())
}

/// Deletes a contact. `keep` is the API's RetainContactInMembers (default true).
pub fn delete_contact(conn: &mut AnyConnection, id: &ContactId, keep: bool, actor: &Actor) -> Result<Deletion, ContactError> {
    crate::db::transaction(conn, |conn| {
        lock_directory(conn)?;
        let contact: Contact = get_contact(conn, id)?;
        if contact.status() == ContactStatus::Deleting {
            return Err(ContactError::DeletionRunning);
        }
        let p = preview(conn, id)?;
        let event = |how: &str| {
            let changes =
                Changes::new().field("name", contact.name.clone(), serde_json::Value::Null).field("email", contact.email.clone(), serde_json::Value::Null);
            Event::new("contact.delete", &contact.id).changes(changes.set("how", how).set("members", p.members).set("bound_targets", p.bound_targets))
        };
        if p.immediate {
            audit::record(conn, actor, event("deleted at once"))?;
            drop_contact(conn, &contact.id)?;
            tracing::info!(contact.id = %contact.id, "contact deleted");
            return Ok(Deletion::Deleted);
        }
        if keep {
            // The entries stay with the members, now their own recipients: same name,
            // verified address, the contact's types less what each member opted out of.
            let now = now_utc();
            diesel::sql_query(
                "INSERT INTO mc_recipients (account_id, name, email, message_types, created_at, modified_at, verified_at) \
                 SELECT a.account_id, c.name, c.email, (c.message_types & ~a.mc_opt_out) & $1, $2, $2, c.verified_at \
                 FROM associations a JOIN contacts c ON c.id = a.contact_id \
                 WHERE a.contact_id = $3 AND a.mc_removed_at IS NULL AND (c.message_types & ~a.mc_opt_out & $1) <> 0",
            )
            .bind::<Integer, _>(MessageTypes::EVERY.bits())
            .bind::<Timestamp, _>(now)
            .bind::<Text, _>(&contact.id)
            .execute(conn)?;
            drop_contact(conn, &contact.id)?;
            audit::record(conn, actor, event("kept with its members as their own recipients"))?;
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
            .set((
                contacts::status.eq(ContactStatus::Deleting.as_str()),
                contacts::deletion_failed_at.eq(None::<PrimitiveDateTime>),
                contacts::modified_at.eq(now_utc()),
            ))
            .execute(conn)?;
        diesel::delete(deletion_fail_reasons::table.filter(deletion_fail_reasons::contact_id.eq(&contact.id))).execute(conn)?;
        let total = propagation::association_count(conn, &contact.id)?;
        let job = jobs::enqueue(
            conn,
            &DeleteContact(Propagation {
                contact_id: contact.id.clone(),
                scope: Scope::Contact { id: contact.id.clone() },
                cursor: String::new(),
                done: 0,
                total,
            }),
        )?;
        audit::record(conn, actor, event(&format!("removing from its members (job {job})")))?;
        tracing::info!(contact.id = %contact.id, job.id = job, "contact deletion started");
        Ok(Deletion::Deleting { job })
    })
}

/// One batch of a removal, with its checkpoint. At the end the contact is gone, or, when
/// rule U2 kept it for some members, Active again with those members as fail reasons.
pub fn deletion_step(conn: &mut AnyConnection, lease: &jobs::Lease, state: &Propagation, batch: i64) -> Result<Option<Propagation>, ContactError> {
    crate::db::transaction(conn, |conn| {
        lock_directory(conn)?;
        let (n, next) = propagation::remove_batch(conn, &state.contact_id, &state.scope, &state.cursor, batch)?;
        if let Some(cursor) = next {
            // The members of this batch that keep the contact are its fail reasons, written
            // with the batch rather than all at the end in one long transaction.
            record_fail_reasons(conn, &state.contact_id, Some((&state.cursor, &cursor)))?;
            let next = Propagation { cursor, done: (state.done + n as i64).min(state.total), ..state.clone() };
            lease.checkpoint(conn, &next, next.done, next.total)?;
            return Ok(Some(next));
        }
        let left = propagation::association_count(conn, &state.contact_id)?;
        let job = Actor::job(lease.job_id);
        if left == 0 {
            drop_contact(conn, &state.contact_id)?;
            audit::record(conn, &job, Event::new("contact.deleted", &state.contact_id).changes(Changes::new().set("members_removed", state.total)))?;
            tracing::info!(contact.id = %state.contact_id, "contact deleted");
        } else {
            // Members that let go of the contact after their batch (a Message Center
            // removal, leaving the directory) are no reason any more. Nothing adds an
            // association to a contact being deleted, so when there are as many reasons as
            // associations left, every reason still holds and none is checked.
            let recorded: i64 = deletion_fail_reasons::table.filter(deletion_fail_reasons::contact_id.eq(&state.contact_id)).count().get_result(conn)?;
            if recorded != left {
                diesel::sql_query(
                    "DELETE FROM deletion_fail_reasons WHERE contact_id = $1 AND NOT EXISTS \
                     (SELECT 1 FROM associations a WHERE a.contact_id = deletion_fail_reasons.contact_id AND a.account_id = deletion_fail_reasons.account_id)",
                )
                .bind::<Text, _>(&state.contact_id)
                .execute(conn)?;
            }
            mark_failed(conn, &state.contact_id, left)?;
            audit::record(conn, &job, Event::new("contact.delete_failed", &state.contact_id).changes(Changes::new().set("members_kept", left)))?;
        }
        lease.checkpoint(conn, state, state.total, state.total)?;
        Ok(None)
    })
}

/// A removal is over and some members keep the contact: it stays, `Active` and without
/// bindings, and the members it stays with, with the message types that kept it, are
/// recorded as the deletion's fail reasons (rule D3). A removal given up records every
/// member it had not reached yet, with the types the contact still gives it.
pub(super) fn end_with_fail_reasons(conn: &mut AnyConnection, contact: &str) -> QueryResult<()> {
    diesel::delete(deletion_fail_reasons::table.filter(deletion_fail_reasons::contact_id.eq(contact))).execute(conn)?;
    let recorded = record_fail_reasons(conn, contact, None)?;
    mark_failed(conn, contact, recorded as i64)
}

/// Records the contact's members (those after the first id and up to the second of
/// `range`, or all) with the message types that keep it: retained ones (rule U2), or what
/// the contact gives them.
fn record_fail_reasons(conn: &mut AnyConnection, contact: &str, range: Option<(&str, &str)>) -> QueryResult<usize> {
    let (after, upto) = range.unwrap_or(("", ""));
    diesel::sql_query(
        "INSERT INTO deletion_fail_reasons (contact_id, account_id, message_types) \
         SELECT a.contact_id, a.account_id, CASE WHEN a.retained_types <> 0 THEN a.retained_types ELSE c.message_types & ~a.mc_opt_out END \
         FROM associations a JOIN contacts c ON c.id = a.contact_id \
         WHERE a.contact_id = $1 AND a.account_id > $2 AND ($3 = '' OR a.account_id <= $3) \
         ON CONFLICT (contact_id, account_id) DO NOTHING",
    )
    .bind::<Text, _>(contact)
    .bind::<Text, _>(after)
    .bind::<Text, _>(upto)
    .execute(conn)
}

/// The removal is over and the contact stays with `members`: `Active` again, with its
/// fail reasons.
fn mark_failed(conn: &mut AnyConnection, contact: &str, members: i64) -> QueryResult<()> {
    diesel::update(contacts::table.find(contact))
        .set((contacts::status.eq(ContactStatus::Active.as_str()), contacts::deletion_failed_at.eq(Some(now_utc()))))
        .execute(conn)?;
    tracing::warn!(contact.id = %contact, members, "contact deletion ended with fail reasons");
    Ok(())
}

/// GetMessageContactDeletionStatus: `Deleting`, or `Failed` with its (member, types)
/// reasons: a page of them after `after` (member ids ascending), and how many in all.
#[derive(Debug, Clone)]
pub struct DeletionStatus {
    pub failed: bool,
    pub reasons: Vec<(String, MessageTypes)>,
    pub total: i64,
    /// The last member of this page, when more follow.
    pub next: Option<String>,
}

pub fn deletion_status(conn: &mut AnyConnection, id: &ContactId, after: Option<&str>, limit: i64) -> Result<DeletionStatus, ContactError> {
    let contact = get_contact(conn, id)?;
    if contact.status() == ContactStatus::Deleting {
        return Ok(DeletionStatus { failed: false, reasons: Vec::new(), total: 0, next: None });
    }
    if contact.deletion_failed_at.is_none() {
        return Err(ContactError::NoDeletion);
    }
    let of_contact = deletion_fail_reasons::table.filter(deletion_fail_reasons::contact_id.eq(&contact.id));
    let total: i64 = of_contact.count().get_result(conn)?;
    let mut rows: Vec<(String, i32)> = of_contact
        .filter(deletion_fail_reasons::account_id.gt(after.unwrap_or("")))
        .order(deletion_fail_reasons::account_id)
        .limit(limit + 1)
        .select((deletion_fail_reasons::account_id, deletion_fail_reasons::message_types))
        .load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    let next = if more { rows.last().map(|(a, _)| a.clone()) } else { None };
    Ok(DeletionStatus { failed: true, reasons: rows.into_iter().map(|(a, t)| (a, MessageTypes::from_bits(t))).collect(), total, next })
}

/// The console's account of a deletion that did not finish: the members that kept the
/// contact, by name, with the message types that kept it.
#[derive(Debug, Clone)]
pub struct FailedDeletion {
    pub at: PrimitiveDateTime,
    /// (member id, display name, types), the first of them by member id.
    pub reasons: Vec<(String, String, MessageTypes)>,
    pub total: i64,
}

/// The last deletion's failure, while it still stands: not once the contact was bound
/// again (its administrator chose to keep it), nor while another deletion runs.
pub fn standing_failure(conn: &mut AnyConnection, contact: &Contact, limit: i64) -> Result<Option<FailedDeletion>, ContactError> {
    let Some(at) = contact.deletion_failed_at.filter(|_| contact.status() == ContactStatus::Active) else { return Ok(None) };
    FAILURES.copy_or_read(conn, &format!("{limit}/{at}/{}", contact.id), |conn| read_standing_failure(conn, contact, at, limit))
}

/// Failed deletions that still stand, by how many reasons, when the deletion failed and
/// the contact; kept under the read version (migration 000028).
static FAILURES: crate::directory::KeptByVersion<std::sync::Arc<Option<FailedDeletion>>> = crate::directory::KeptByVersion::of_anything();

fn read_standing_failure(conn: &mut AnyConnection, contact: &Contact, at: time::PrimitiveDateTime, limit: i64) -> Result<Option<FailedDeletion>, ContactError> {
    let bound_since: i64 = bindings::table.filter(bindings::contact_id.eq(&contact.id)).filter(bindings::created_at.ge(at)).count().get_result(conn)?;
    if bound_since > 0 {
        return Ok(None);
    }
    let of_contact = deletion_fail_reasons::table.filter(deletion_fail_reasons::contact_id.eq(&contact.id));
    let total: i64 = of_contact.count().get_result(conn)?;
    let rows: Vec<(String, String, i32)> = of_contact
        .inner_join(accounts::table.on(accounts::id.eq(deletion_fail_reasons::account_id)))
        .order(deletion_fail_reasons::account_id)
        .limit(limit)
        .select((deletion_fail_reasons::account_id, accounts::display_name, deletion_fail_reasons::message_types))
        .load(conn)?;
    Ok(Some(FailedDeletion { at, reasons: rows.into_iter().map(|(id, name, t)| (id, name, MessageTypes::from_bits(t))).collect(), total }))
}
