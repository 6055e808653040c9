//! Verification emails (rules C3, C4, C6): single-use links valid for seven days, only
//! their hash stored, bound to the contact and the address; at most 100 sends a day in
//! the directory and 10 a minute to one address.

use diesel::dsl::{count_star, min};
use diesel::prelude::*;
use time::{Duration, PrimitiveDateTime};

use super::models::{Contact, ContactStatus, Verification, VerificationView};
use super::{ContactError, VerifyError, when_utc};
use crate::audit::{self, Actor, Event};
use crate::db::schema::{contact_verifications, contacts, resource_directories};
use crate::db::{AnyConnection, now_utc};
use crate::domain::{MessageType, Token};
use crate::jobs::send_email;
use crate::mail::templates::{VerificationMail, verification_email};

pub const LINK_VALIDITY: Duration = Duration::days(7);
pub const DAILY_LIMIT: i64 = 100;
pub const PER_ADDRESS_PER_MINUTE: i64 = 10;

pub use crate::mail::Sender;

fn window(conn: &mut AnyConnection, since: PrimitiveDateTime, address_key: Option<&str>) -> QueryResult<(i64, Option<PrimitiveDateTime>)> {
    let mut q = contact_verifications::table.filter(contact_verifications::sent_at.gt(since)).into_boxed();
    if let Some(key) = address_key {
        q = q.filter(contact_verifications::address_key.eq(key.to_owned()));
    }
    q.select((count_star(), min(contact_verifications::sent_at))).first(conn)
}

/// Verification emails sent in the last 24 hours (rule C4 allows [`DAILY_LIMIT`]).
pub fn sent_in_last_day(conn: &mut AnyConnection) -> QueryResult<i64> {
    window(conn, now_utc() - Duration::days(1), None).map(|(n, _)| n)
}

/// Refuses a send over either limit, saying when the next one can go.
fn check_limits(conn: &mut AnyConnection, address: &str, now: PrimitiveDateTime) -> Result<(), ContactError> {
    let (day, oldest) = window(conn, now - Duration::days(1), None)?;
    if day >= DAILY_LIMIT {
        return Err(ContactError::DailyLimit { next_at: oldest.unwrap_or(now) + Duration::days(1) });
    }
    let key = address.to_lowercase();
    let (minute, oldest) = window(conn, now - Duration::minutes(1), Some(&key))?;
    if minute >= PER_ADDRESS_PER_MINUTE {
        return Err(ContactError::AddressLimit { address: address.to_owned(), next_at: oldest.unwrap_or(now) + Duration::minutes(1) });
    }
    Ok(())
}

/// Records a new link for `address` and queues its email, inside the caller's
/// transaction; refused (and nothing recorded) over a limit.
pub fn send(conn: &mut AnyConnection, contact: &Contact, address: &str, sender: &Sender) -> Result<(), ContactError> {
    let now = now_utc();
    check_limits(conn, address, now)?;
    let token = Token::generate();
    let expires_at = now + LINK_VALIDITY;
    diesel::insert_into(contact_verifications::table)
        .values((
            contact_verifications::contact_id.eq(Some(&contact.id)),
            contact_verifications::address.eq(address),
            contact_verifications::address_key.eq(address.to_lowercase()),
            contact_verifications::token_hash.eq(token.hash()),
            contact_verifications::requested_by.eq(&sender.requested_by),
            contact_verifications::sent_at.eq(now),
            contact_verifications::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    let directory_id: String = resource_directories::table.select(resource_directories::id).first(conn)?;
    let email = verification_email(&VerificationMail {
        to: address,
        contact_name: &contact.name,
        requested_by: &sender.requested_by,
        directory_id: &directory_id,
        types: contact.types().iter().map(|t: MessageType| (t.label(), t.description())).collect(),
        link: send_email::LINK_SLOT.to_owned(),
        expires: when_utc(expires_at),
        is_change: contact.status() == ContactStatus::Active && contact.pending_email.is_some(),
        is_reconfirm: contact.awaits_reconfirmation(),
    })?;
    send_email::enqueue_with_link(conn, &email, &format!("{}/verify/{}", sender.public_url, token.expose()), &sender.secrets)?;
    tracing::info!(contact.id = %contact.id, "verification email queued");
    Ok(())
}

/// Like [`send`], but a send over a limit is held back instead of refused: the caller's
/// change is kept and the answer says why no email went out (it can be sent again later).
pub fn send_or_hold(conn: &mut AnyConnection, contact: &Contact, address: &str, sender: &Sender) -> Result<Option<ContactError>, ContactError> {
    match send(conn, contact, address, sender) {
        Ok(()) => Ok(None),
        Err(held @ (ContactError::DailyLimit { .. } | ContactError::AddressLimit { .. })) => {
            tracing::info!(contact.id = %contact.id, reason = %held, "verification email held back by a sending limit");
            Ok(Some(held))
        }
        Err(e) => Err(e),
    }
}

/// The link and its contact, if the link may still be used for the address it names.
fn usable(conn: &mut AnyConnection, token: &Token) -> Result<(Verification, Contact), VerifyError> {
    let v: Verification = contact_verifications::table
        .filter(contact_verifications::token_hash.eq(token.hash()))
        .select(Verification::as_select())
        .first(conn)
        .optional()?
        .ok_or(VerifyError::Invalid)?;
    let Some(contact_id) = v.contact_id.clone() else { return Err(VerifyError::Invalid) };
    let contact: Contact = contacts::table.find(&contact_id).select(Contact::as_select()).first(conn).optional()?.ok_or(VerifyError::Invalid)?;
    let waiting = contact.address_to_verify().map(str::to_lowercase);
    if v.used_at.is_some() || waiting.as_deref() != Some(v.address_key.as_str()) {
        return Err(VerifyError::Invalid);
    }
    if v.is_expired(now_utc()) {
        return Err(VerifyError::Expired(view(&v, &contact)));
    }
    Ok((v, contact))
}

fn view(v: &Verification, c: &Contact) -> VerificationView {
    VerificationView { contact_name: c.name.clone(), address: v.address.clone(), expires_at: v.expires_at, requested_by: v.requested_by.clone() }
}

/// What the confirm page shows (the GET of a link changes nothing).
pub fn lookup(conn: &mut AnyConnection, token: &Token) -> Result<VerificationView, VerifyError> {
    let (v, c) = usable(conn, token)?;
    Ok(view(&v, &c))
}

/// Uses the link: the contact becomes Active, or its pending address becomes its address.
pub fn confirm(conn: &mut AnyConnection, token: &Token, request_id: String) -> Result<Contact, VerifyError> {
    crate::db::transaction(conn, |conn| {
        let (v, mut contact) = usable(conn, token)?;
        let before = contact.clone();
        let now = now_utc();
        // Used up by exactly one of several simultaneous confirmations.
        let consumed = diesel::update(contact_verifications::table.find(v.id).filter(contact_verifications::used_at.is_null()))
            .set(contact_verifications::used_at.eq(Some(now)))
            .execute(conn)?;
        if consumed == 0 {
            return Err(VerifyError::Invalid);
        }
        let reconfirmed = contact.awaits_reconfirmation();
        if contact.status() == ContactStatus::Active {
            contact.email = v.address.clone();
            contact.pending_email = None;
        }
        contact.status = ContactStatus::Active;
        contact.verified_at = Some(now);
        contact.modified_at = now;
        contact.reconfirm_sent_at = None;
        diesel::update(contacts::table.find(&contact.id))
            .set((
                contacts::email.eq(&contact.email),
                contacts::pending_email.eq(&contact.pending_email),
                contacts::status.eq(contact.status.as_str()),
                contacts::verified_at.eq(contact.verified_at),
                contacts::modified_at.eq(now),
                contacts::reconfirm_sent_at.eq(None::<PrimitiveDateTime>),
            ))
            .execute(conn)?;
        let changes = super::service::contact_changes(Some(&before), &contact);
        let action = if reconfirmed { "contact.reconfirm" } else { "contact.verify" };
        audit::record(conn, &Actor::email_link(&v.address, request_id), Event::new(action, &contact.id).changes(changes))?;
        tracing::info!(contact.id = %contact.id, "contact address verified");
        Ok(contact)
    })
}

/// Asks verified contacts whose address was confirmed more than `months` months (of 30
/// days) ago to confirm it again (`RDC_RECONFIRM_MONTHS`): one email each, using at most
/// half of the daily verification limit (rule C4), so that administrators keep the other
/// half for new contacts; who is held back is asked on a later run. Returns how many were
/// asked.
pub fn ask_reconfirmation(conn: &mut AnyConnection, months: i64, sender: &Sender) -> Result<usize, ContactError> {
    let due = now_utc() - Duration::days(30 * months);
    let candidates: Vec<Contact> = contacts::table
        .filter(contacts::status.eq(ContactStatus::Active.as_str()))
        .filter(contacts::pending_email.is_null())
        .filter(contacts::reconfirm_sent_at.is_null())
        .filter(contacts::verified_at.lt(due))
        .order(contacts::verified_at)
        .limit(RECONFIRM_BATCH)
        .select(Contact::as_select())
        .load(conn)?;
    let mut asked = 0;
    for contact in candidates {
        if sent_in_last_day(conn)? >= DAILY_LIMIT / 2 {
            break;
        }
        let sent = crate::db::transaction(conn, |conn| {
            // Taken by one server only when two run this at once.
            let claimed = diesel::update(contacts::table.find(&contact.id).filter(contacts::reconfirm_sent_at.is_null()))
                .set(contacts::reconfirm_sent_at.eq(Some(now_utc())))
                .execute(conn)?;
            if claimed == 0 {
                return Ok(false);
            }
            let asking = Contact { reconfirm_sent_at: Some(now_utc()), ..contact.clone() };
            send(conn, &asking, &asking.email, sender)?;
            audit::record(conn, &Actor::upkeep("re-confirmation"), Event::new("contact.reconfirm_sent", &contact.id))?;
            Ok::<_, ContactError>(true)
        });
        match sent {
            Ok(true) => asked += 1,
            Ok(false) => {}
            // The daily limit is reached: the rest wait for a later run.
            Err(ContactError::DailyLimit { .. } | ContactError::AddressLimit { .. }) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(asked)
}

/// Contacts asked at most per run of the re-confirmation upkeep.
const RECONFIRM_BATCH: i64 = 20;
