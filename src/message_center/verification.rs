//! Rule M6: an address a member user adds to its Message Center receives nothing until its
//! owner confirms it through a single-use link (the rules of C6: 128+ random bits, only the
//! hash kept, bound to the recipient and the address, GET shows, POST confirms, 7 days),
//! at most 10 such emails a minute to one address (rule T4).

use diesel::prelude::*;
use time::{Duration, PrimitiveDateTime};

use super::McError;
use super::models::OwnRecipient;
use crate::audit::{self, Actor, Changes, Event};
use crate::db::schema::{accounts, mc_recipient_verifications, mc_recipients};
use crate::db::{AnyConnection, now_utc};
use crate::domain::Token;
use crate::jobs::send_email;
use crate::limits;
use crate::mail::Sender;
use crate::mail::templates::{RecipientMail, recipient_email};

pub const LINK_VALIDITY: Duration = Duration::days(7);

pub use crate::limits::MAIL_PER_ADDRESS as PER_ADDRESS;

/// Records a new link for the recipient's address and queues its email, inside the
/// caller's transaction; refused (nothing recorded) over the address's limit.
pub fn send_link(conn: &mut AnyConnection, recipient: &OwnRecipient, sender: &Sender) -> Result<(), McError> {
    if let Err(e) = limits::take(conn, &limits::mail_scope(&recipient.email), PER_ADDRESS)? {
        return Err(McError::AddressLimit { address: recipient.email.clone(), retry_at: e.retry_at });
    }
    let (token, now) = (Token::generate(), now_utc());
    diesel::insert_into(mc_recipient_verifications::table)
        .values((
            mc_recipient_verifications::recipient_id.eq(recipient.id),
            mc_recipient_verifications::address.eq(&recipient.email),
            mc_recipient_verifications::token_hash.eq(token.hash()),
            mc_recipient_verifications::sent_at.eq(now),
            mc_recipient_verifications::expires_at.eq(now + LINK_VALIDITY),
        ))
        .execute(conn)?;
    let account_name: String = accounts::table.find(&recipient.account_id).select(accounts::display_name).first(conn)?;
    let email = recipient_email(&RecipientMail {
        to: &recipient.email,
        account_name: &account_name,
        account_id: &recipient.account_id,
        added_by: &sender.requested_by,
        types: recipient.types().labels(),
        link: send_email::LINK_SLOT.to_owned(),
        expires: crate::domain::when_utc(now + LINK_VALIDITY),
    })?;
    send_email::enqueue_with_link(conn, &email, &format!("{}/confirm/{}", sender.public_url, token.expose()), &sender.secrets)?;
    tracing::info!(recipient.id = recipient.id, "recipient confirmation email queued");
    Ok(())
}

/// What a confirmation link's page shows.
#[derive(Debug, Clone)]
pub struct LinkView {
    pub address: String,
    pub account_name: String,
    pub types: String,
    pub expires_at: PrimitiveDateTime,
}

/// Why a confirmation link did not work.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Unknown, used, replaced, or for an address the recipient no longer has.
    #[error("This link cannot be used")]
    Invalid,
    #[error("This link expired")]
    Expired(LinkView),
    #[error(transparent)]
    Storage(#[from] crate::errors::StorageError),
}

crate::errors::storage_errors!(LinkError);

/// The link's verification id and recipient, while it may still be used: the newest
/// link of the recipient, for its present address, unused, recipient not yet confirmed.
fn usable(conn: &mut AnyConnection, token: &Token) -> Result<(i64, OwnRecipient, LinkView), LinkError> {
    let (id, recipient_id, address, expires_at, used_at): (i64, i64, String, PrimitiveDateTime, Option<PrimitiveDateTime>) = mc_recipient_verifications::table
        .filter(mc_recipient_verifications::token_hash.eq(token.hash()))
        .select((
            mc_recipient_verifications::id,
            mc_recipient_verifications::recipient_id,
            mc_recipient_verifications::address,
            mc_recipient_verifications::expires_at,
            mc_recipient_verifications::used_at,
        ))
        .first(conn)
        .optional()?
        .ok_or(LinkError::Invalid)?;
    let newest: Option<i64> = mc_recipient_verifications::table
        .filter(mc_recipient_verifications::recipient_id.eq(recipient_id))
        .select(diesel::dsl::max(mc_recipient_verifications::id))
        .first(conn)?;
    let recipient: OwnRecipient =
        mc_recipients::table.find(recipient_id).select(OwnRecipient::as_select()).first(conn).optional()?.ok_or(LinkError::Invalid)?;
    if used_at.is_some() || newest != Some(id) || recipient.verified_at.is_some() || !recipient.email.eq_ignore_ascii_case(&address) {
        return Err(LinkError::Invalid);
    }
    let account_name: String = accounts::table.find(&recipient.account_id).select(accounts::display_name).first(conn)?;
    let view = LinkView { address, account_name, types: recipient.types().labels(), expires_at };
    if expires_at <= now_utc() {
        return Err(LinkError::Expired(view));
    }
    Ok((id, recipient, view))
}

/// What the link's page shows (its GET changes nothing).
pub fn lookup(conn: &mut AnyConnection, token: &Token) -> Result<LinkView, LinkError> {
    usable(conn, token).map(|(_, _, view)| view)
}

/// Uses the link: the recipient starts receiving. Of simultaneous uses, one wins.
pub fn confirm(conn: &mut AnyConnection, token: &Token, request_id: String) -> Result<LinkView, LinkError> {
    crate::db::transaction(conn, |conn| {
        let (id, recipient, view) = usable(conn, token)?;
        let now = now_utc();
        let consumed = diesel::update(mc_recipient_verifications::table.find(id).filter(mc_recipient_verifications::used_at.is_null()))
            .set(mc_recipient_verifications::used_at.eq(Some(now)))
            .execute(conn)?;
        if consumed == 0 {
            return Err(LinkError::Invalid);
        }
        diesel::update(mc_recipients::table.find(recipient.id)).set(mc_recipients::verified_at.eq(Some(now))).execute(conn)?;
        let event = Event::new("mc.recipient.verify", &recipient.account_id).related(format!("recipient:{}", recipient.id));
        audit::record(conn, &Actor::email_link(&recipient.email, request_id), event.changes(Changes::new().set("email", recipient.email.clone())))?;
        tracing::info!(recipient.id = recipient.id, "recipient address confirmed");
        Ok(view)
    })
}
