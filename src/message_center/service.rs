use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text};
use time::PrimitiveDateTime;

use super::McError;
use super::models::{DirectoryEntry, MessageCenter, OwnRecipient, Recipient, RecipientKind};
use crate::audit::{self, Actor, Changes, Event};
use crate::contacts::Contact;
use crate::db::schema::{accounts, associations, contacts, mc_recipients};
use crate::db::{AnyConnection, now_utc};
use crate::domain::{EmailAddress, MessageType, MessageTypes, RecipientName};
use crate::mail::Sender;

type Result<T, E = McError> = std::result::Result<T, E>;

fn ensure_account(conn: &mut AnyConnection, account: &str) -> Result<()> {
    let found: i64 = accounts::table.filter(accounts::id.eq(account)).count().get_result(conn)?;
    if found == 0 {
        return Err(McError::AccountNotFound(account.to_owned()));
    }
    Ok(())
}

/// A member's Message Center: its own recipients and the directory's entries.
pub fn message_center(conn: &mut AnyConnection, account: &str) -> Result<MessageCenter> {
    ensure_account(conn, account)?;
    message_center_of_known(conn, account)
}

/// As [`message_center`], for an account the caller has just read (no check that it
/// exists): own recipients, the directory's entries and their bounce marks, three queries.
pub fn message_center_of_known(conn: &mut AnyConnection, account: &str) -> Result<MessageCenter> {
    Ok(message_center_and_contacts(conn, account)?.0)
}

/// As [`message_center_of_known`], with the member's contacts in full and each
/// association's retained types (rule U2), from the same read: a member's page shows both.
/// Kept under the read version (migration 000028).
pub fn message_center_and_contacts(conn: &mut AnyConnection, account: &str) -> Result<(MessageCenter, Vec<(Contact, i32)>)> {
    MESSAGE_CENTERS.copy_or_read(conn, account, |conn| read_message_center_and_contacts(conn, account))
}

/// A Message Center with its member's contacts and each association's retained types.
type WithContacts = (MessageCenter, Vec<(Contact, i32)>);

/// Message Centers with their members' contacts, by account.
static MESSAGE_CENTERS: crate::directory::KeptByVersion<std::sync::Arc<WithContacts>> = crate::directory::KeptByVersion::of_anything();

fn read_message_center_and_contacts(conn: &mut AnyConnection, account: &str) -> Result<WithContacts> {
    let rows: Vec<(Contact, i32, Option<PrimitiveDateTime>, PrimitiveDateTime, i32)> = associations::table
        .inner_join(contacts::table)
        .filter(associations::account_id.eq(account))
        .order((contacts::name_key, contacts::id))
        .select((Contact::as_select(), associations::mc_opt_out, associations::mc_removed_at, associations::associated_at, associations::retained_types))
        .load(conn)?;
    let entries = rows
        .iter()
        .map(|(c, opt_out, removed_at, associated_at, _)| DirectoryEntry {
            contact_id: c.id.clone(),
            contact_name: c.name.clone(),
            email: c.verified_at.map(|_| c.email.clone()),
            contact_types: MessageTypes::from_bits(c.message_types),
            opt_out: MessageTypes::from_bits(*opt_out),
            removed_at: *removed_at,
            associated_at: *associated_at,
            bounce: None,
        })
        .collect();
    let mc = with_own_recipients_and_bounces(conn, account, entries)?;
    Ok((mc, rows.into_iter().map(|(c, _, _, _, retained)| (c, retained)).collect()))
}

/// A Message Center from the directory's entries: the member's own recipients and the
/// bounce marks of every address, two queries.
fn with_own_recipients_and_bounces(conn: &mut AnyConnection, account: &str, mut entries: Vec<DirectoryEntry>) -> Result<MessageCenter> {
    let own = mc_recipients::table.filter(mc_recipients::account_id.eq(account)).order(mc_recipients::id).select(OwnRecipient::as_select()).load(conn)?;
    let addresses = own.iter().map(|r| r.email.as_str()).chain(entries.iter().filter_map(|e| e.email.as_deref()));
    let bounces = crate::bounces::of(conn, addresses)?;
    for e in &mut entries {
        e.bounce = e.email.as_deref().and_then(|a| crate::bounces::lookup(&bounces, a));
    }
    Ok(MessageCenter { account_id: account.to_owned(), own, entries, bounces })
}

#[derive(QueryableByName)]
struct RecipientRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Nullable<Text>)]
    contact_id: Option<String>,
}

/// Who receives message type `t` for `account`: one indexed query over both kinds of
/// recipient (the directory's contacts at their verified address).
pub fn recipients_for(conn: &mut AnyConnection, account: &str, t: MessageType) -> Result<Vec<Recipient>> {
    let rows: Vec<RecipientRow> = crate::db::prepared::sql(
        "SELECT r.name AS name, r.email AS email, CAST(NULL AS TEXT) AS contact_id FROM mc_recipients r \
         WHERE r.account_id = $1 AND (r.message_types & $2) <> 0 AND r.verified_at IS NOT NULL \
         UNION ALL \
         SELECT c.name AS name, c.email AS email, c.id AS contact_id FROM associations a JOIN contacts c ON c.id = a.contact_id \
         WHERE a.account_id = $1 AND a.mc_removed_at IS NULL AND c.verified_at IS NOT NULL \
           AND (c.message_types & $2) <> 0 AND (a.mc_opt_out & $2) = 0 \
         ORDER BY name",
    )
    .bind::<Text, _>(account)
    .bind::<Integer, _>(t.bit())
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| Recipient {
            name: r.name,
            email: r.email,
            kind: r.contact_id.map_or(RecipientKind::Own, |contact_id| RecipientKind::Directory { contact_id }),
        })
        .collect())
}

/// How the trail names one of a member's own recipients.
fn recipient_ref(id: i64) -> String {
    format!("recipient:{id}")
}

fn recipient_changes(before: Option<&OwnRecipient>, after: Option<&OwnRecipient>) -> Changes {
    let fields = |r: Option<&OwnRecipient>| -> [serde_json::Value; 3] {
        match r {
            Some(r) => [r.name.clone().into(), r.email.clone().into(), MessageTypes::from_bits(r.message_types).api_names().into()],
            None => [serde_json::Value::Null, serde_json::Value::Null, serde_json::Value::Null],
        }
    };
    let [bn, be, bt] = fields(before);
    let [an, ae, at] = fields(after);
    Changes::new().field("name", bn, an).field("email", be, ae).field("message_types", bt, at)
}

/// Rule M4: a new member's first own recipient is its security email, on every type.
pub fn add_security_email_recipient(conn: &mut AnyConnection, account: &str, name: &str, email: &str) -> QueryResult<()> {
    let now = now_utc();
    diesel::insert_into(mc_recipients::table)
        .values((
            mc_recipients::account_id.eq(account),
            mc_recipients::name.eq(name),
            mc_recipients::email.eq(email),
            mc_recipients::message_types.eq(MessageTypes::EVERY.bits()),
            mc_recipients::created_at.eq(now),
            mc_recipients::modified_at.eq(now),
            // The account's own security email needs no confirmation (rule M4).
            mc_recipients::verified_at.eq(Some(now)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Adds a recipient of the member's own (rule M6): at most fifty, and it receives nothing
/// until its owner confirms the address through the link emailed now.
pub fn add_recipient(
    conn: &mut AnyConnection,
    account: &str,
    name: &RecipientName,
    email: &EmailAddress,
    types: MessageTypes,
    sender: &Sender,
    actor: &Actor,
) -> Result<OwnRecipient> {
    crate::db::transaction(conn, |conn| {
        ensure_account(conn, account)?;
        let own: i64 = mc_recipients::table.filter(mc_recipients::account_id.eq(account)).count().get_result(conn)?;
        if own >= super::MAX_OWN_RECIPIENTS {
            return Err(McError::TooManyRecipients);
        }
        let now = now_utc();
        let id: i64 = diesel::insert_into(mc_recipients::table)
            .values((
                mc_recipients::account_id.eq(account),
                mc_recipients::name.eq(name.as_str()),
                mc_recipients::email.eq(email.as_str()),
                mc_recipients::message_types.eq(types.bits()),
                mc_recipients::created_at.eq(now),
                mc_recipients::modified_at.eq(now),
            ))
            .returning(mc_recipients::id)
            .get_result(conn)?;
        let added = mc_recipients::table.find(id).select(OwnRecipient::as_select()).first(conn)?;
        super::verification::send_link(conn, &added, sender)?;
        audit::record(conn, actor, Event::new("mc.recipient.add", account).related(recipient_ref(id)).changes(recipient_changes(None, Some(&added))))?;
        Ok(added)
    })
}

/// Sends a recipient's confirmation link again.
pub fn resend_link(conn: &mut AnyConnection, account: &str, id: i64, sender: &Sender) -> Result<OwnRecipient> {
    crate::db::transaction(conn, |conn| {
        let r = own_recipient(conn, account, id)?;
        if r.is_confirmed() {
            return Err(McError::AlreadyConfirmed);
        }
        super::verification::send_link(conn, &r, sender)?;
        Ok(r)
    })
}

fn own_recipient(conn: &mut AnyConnection, account: &str, id: i64) -> Result<OwnRecipient> {
    mc_recipients::table
        .filter(mc_recipients::id.eq(id))
        .filter(mc_recipients::account_id.eq(account))
        .select(OwnRecipient::as_select())
        .first(conn)
        .optional()?
        .ok_or(McError::RecipientNotFound)
}

/// What a member's own recipient is made of, as its form gives it.
#[derive(Debug, Clone)]
pub struct RecipientFields {
    pub name: RecipientName,
    pub email: EmailAddress,
    pub types: MessageTypes,
}

/// Changes one of the member's own recipients; another member's recipient is not found.
/// A new address must be confirmed again before it receives anything (rule M6).
pub fn update_recipient(conn: &mut AnyConnection, account: &str, id: i64, fields: &RecipientFields, sender: &Sender, actor: &Actor) -> Result<OwnRecipient> {
    let RecipientFields { name, email, types } = fields;
    let types = *types;
    crate::db::transaction(conn, |conn| {
        let before = own_recipient(conn, account, id)?;
        let new_address = !before.email.eq_ignore_ascii_case(email.as_str());
        diesel::update(mc_recipients::table.find(id))
            .set((
                mc_recipients::name.eq(name.as_str()),
                mc_recipients::email.eq(email.as_str()),
                mc_recipients::message_types.eq(types.bits()),
                mc_recipients::modified_at.eq(now_utc()),
            ))
            .execute(conn)?;
        if new_address {
            diesel::update(mc_recipients::table.find(id)).set(mc_recipients::verified_at.eq(None::<PrimitiveDateTime>)).execute(conn)?;
            let changed = own_recipient(conn, account, id)?;
            super::verification::send_link(conn, &changed, sender)?;
        }
        let after = own_recipient(conn, account, id)?;
        let changes = recipient_changes(Some(&before), Some(&after));
        if !changes.is_empty() {
            audit::record(conn, actor, Event::new("mc.recipient.update", account).related(recipient_ref(id)).changes(changes))?;
        }
        Ok(after)
    })
}

pub fn remove_recipient(conn: &mut AnyConnection, account: &str, id: i64, actor: &Actor) -> Result<OwnRecipient> {
    crate::db::transaction(conn, |conn| {
        let r = own_recipient(conn, account, id)?;
        diesel::delete(mc_recipients::table.find(id)).execute(conn)?;
        audit::record(conn, actor, Event::new("mc.recipient.remove", account).related(recipient_ref(id)).changes(recipient_changes(Some(&r), None)))?;
        Ok(r)
    })
}

fn entry_exists(conn: &mut AnyConnection, account: &str, contact: &str) -> Result<()> {
    let n: i64 = associations::table
        .filter(associations::account_id.eq(account))
        .filter(associations::contact_id.eq(contact))
        .filter(associations::mc_removed_at.is_null())
        .count()
        .get_result(conn)?;
    if n == 0 {
        return Err(McError::EntryNotFound);
    }
    Ok(())
}

/// Sets which of the contact's types the member keeps receiving from this directory
/// entry (rule M2): the others become opt-outs. Nothing flows back to the contact.
pub fn set_entry_types(conn: &mut AnyConnection, account: &str, contact: &str, keep: MessageTypes, actor: &Actor) -> Result<()> {
    crate::db::transaction(conn, |conn| {
        entry_exists(conn, account, contact)?;
        // Only the contact's present types can be opted out of: a type the directory adds
        // later reaches the member (rule M1).
        let offered: i32 = contacts::table.find(contact).select(contacts::message_types).first(conn)?;
        let was: i32 = associations::table.find((account, contact)).select(associations::mc_opt_out).first(conn)?;
        let now = offered & !keep.bits();
        diesel::update(associations::table.find((account, contact))).set(associations::mc_opt_out.eq(now)).execute(conn)?;
        let names = |bits: i32| MessageTypes::from_bits(bits).api_names();
        let changes = Changes::new().field("opted_out", names(was & offered), names(now));
        if !changes.is_empty() {
            let action = if now & !was != 0 { "mc.entry.opt_out" } else { "mc.entry.opt_in" };
            audit::record(conn, actor, Event::new(action, account).related(contact).changes(changes))?;
        }
        Ok(())
    })
}

/// The member removes a directory entry from its Message Center (rule M2). The
/// association stays: the directory still shows the contact for this member, and later
/// edits of the contact do not bring the entry back (rule M3).
pub fn remove_entry(conn: &mut AnyConnection, account: &str, contact: &str, actor: &Actor) -> Result<()> {
    crate::db::transaction(conn, |conn| {
        entry_exists(conn, account, contact)?;
        diesel::update(associations::table.find((account, contact))).set(associations::mc_removed_at.eq(Some(now_utc()))).execute(conn)?;
        audit::record(conn, actor, Event::new("mc.entry.remove", account).related(contact))?;
        Ok(())
    })
}
