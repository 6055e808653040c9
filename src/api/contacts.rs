//! Message-contact actions (ALIBABA_RPC.md §3).

use std::sync::Arc;

use serde_json::{Value, json};

use super::error::ApiError;
use super::params::Params;
use super::{ApiResult, object};
use crate::audit::Actor;
use crate::contacts::bindings::{self, Binding};
use crate::contacts::deletion::{self, Deletion};
use crate::contacts::{self, Contact, ContactChanges, ContactError, ContactRow, NewContact};
use crate::db;
use crate::directory::KeptByVersion;
use crate::domain::{AccountId, ContactId, ContactName, EmailAddress, MessageTypes, Page, PhoneNumber, TargetId, Title};
use crate::state::AppState;

pub async fn dispatch(state: &AppState, actor: &Actor, action: &str, p: &Params) -> Option<ApiResult> {
    Some(match action {
        "AddMessageContact" => add(state, actor, p).await,
        "UpdateMessageContact" => update(state, actor, p).await,
        "GetMessageContact" => get(state, p).await,
        "ListMessageContacts" => list(state, p).await,
        "SendEmailVerificationForMessageContact" => send_email_verification(state, actor, p).await,
        "SendPhoneVerificationForMessageContact" => send_phone_verification(state, p).await,
        "ListMessageContactVerifications" => list_verifications(state, p).await,
        "CancelMessageContactUpdate" => cancel_update(state, actor, p).await,
        "AssociateMembers" => associate(state, actor, p, true).await,
        "DeleteMessageContact" => delete(state, actor, p).await,
        "GetMessageContactDeletionStatus" => deletion_status(state, p).await,
        "DisassociateMembers" => associate(state, actor, p, false).await,
        _ => return None,
    })
}

/// Contact dates: `YYYY-MM-DD HH:MM:SS`, UTC.
fn date(t: &time::PrimitiveDateTime) -> String {
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
}

fn contact_json(c: &Contact, members: Vec<String>) -> Value {
    json!({
        "ContactId": c.id,
        "Name": c.name,
        "EmailAddress": c.email,
        "PhoneNumber": c.phone,
        "Title": c.title.api_name(),
        "MessageTypes": c.types().api_names(),
        "Members": members,
        "Status": c.status.as_str(),
        "CreateDate": date(&c.created_at),
    })
}

fn name(p: &Params, required: bool) -> Result<Option<ContactName>, ApiError> {
    match p.get("Name") {
        None if required => Err(ApiError::missing("Name")),
        None => Ok(None),
        Some(v) => ContactName::parse(v).map(Some).map_err(|e| {
            let len = v.trim().chars().count();
            if (2..=12).contains(&len) {
                ApiError::invalid("Name", e)
            } else {
                ApiError::new(400, "InvalidParameter.Name.Length", format!("The Name exceeds the length limit. {e}"))
            }
        }),
    }
}

fn types(p: &Params, required: bool) -> Result<Option<MessageTypes>, ApiError> {
    let items = p.list("MessageTypes")?;
    if items.is_empty() {
        return if required { Err(ApiError::missing("MessageTypes")) } else { Ok(None) };
    }
    MessageTypes::parse(&items).map(Some).map_err(|e| ApiError::invalid("MessageTypes", e))
}

fn phone(p: &Params) -> Result<Option<PhoneNumber>, ApiError> {
    match p.get("PhoneNumber") {
        None => Ok(None),
        Some(v) if !v.trim().starts_with("86-") && v.contains('-') => {
            Err(ApiError::new(400, "InvalidParameter.MobileCountryCode", "The current site does not support the country code."))
        }
        Some(v) => PhoneNumber::parse(v).map(Some).map_err(|e| ApiError::invalid("PhoneNumber", e)),
    }
}

async fn add(state: &AppState, actor: &Actor, p: &Params) -> ApiResult {
    let new = NewContact {
        name: name(p, true)?.expect("required"),
        email: p.parse("EmailAddress", EmailAddress::parse)?,
        phone: phone(p)?,
        title: p.parse("Title", Title::parse)?,
        types: types(p, true)?.expect("required"),
    };
    let sender = state.sender(&actor.to_string());
    // A sending limit holds the verification email back but never fails the call: the
    // contact is created (Verifying) and the email can be sent again later.
    let actor = actor.clone();
    let saved = db::run(&state.pool, move |c| contacts::create_contact(c, &new, &sender, &actor)).await?;
    Ok(object(json!({ "Contact": { "ContactId": saved.contact.id, "CreateDate": date(&saved.contact.created_at) } })))
}

async fn update(state: &AppState, actor: &Actor, p: &Params) -> ApiResult {
    let id = p.parse("ContactId", ContactId::parse)?;
    let changes = ContactChanges {
        name: name(p, false)?,
        email: p.parse_opt("EmailAddress", EmailAddress::parse)?,
        // Sent empty, the number is cleared (Terraform does this when phone_number is removed).
        phone: match p.sent("PhoneNumber") {
            Some(v) if v.trim().is_empty() => Some(None),
            _ => phone(p)?.map(Some),
        },
        title: p.parse_opt("Title", Title::parse)?,
        types: types(p, false)?,
    };
    let sender = state.sender(&actor.to_string());
    let actor = actor.clone();
    db::run(&state.pool, move |c| contacts::update_contact(c, &id, &changes, &sender, &actor)).await?;
    Ok(object(json!({})))
}

fn targets_of(list: &[Binding], contact: &str) -> Vec<String> {
    list.iter().filter(|b| b.contact_id == contact).map(|b| b.target_id.clone()).collect()
}

/// What `GetMessageContact` reads, by contact: kept under the read version, so that a
/// call made again while nothing changed reads nothing.
static CONTACTS: KeptByVersion<Arc<(Contact, Vec<Binding>)>> = KeptByVersion::of_anything_up_to(256);

/// What a page of `ListMessageContacts` reads, by its parameters; kept as [`CONTACTS`].
static CONTACT_LISTS: KeptByVersion<Arc<(Page<ContactRow>, Vec<Binding>)>> = KeptByVersion::of_anything_up_to(64);

async fn get(state: &AppState, p: &Params) -> ApiResult {
    let id = p.parse("ContactId", ContactId::parse)?;
    // A read-only view: its kept values share one version.
    let got = CONTACTS
        .run_kept(&state.pool, id.to_string(), move |c| {
            let contact = contacts::get_contact(c, &id)?;
            let bound = bindings::bindings_of(c, &contact.id)?;
            Ok::<_, ContactError>(Arc::new((contact, bound)))
        })
        .await?;
    let (contact, bound) = &*got;
    let members = targets_of(bound, &contact.id);
    Ok(object(json!({ "Contact": contact_json(contact, members) })))
}

/// With `Member`, the contacts bound directly to that target, with the binding's date.
async fn list(state: &AppState, p: &Params) -> ApiResult {
    let id = p.parse_opt("ContactId", ContactId::parse)?;
    let member = p.parse_opt("Member", TargetId::parse)?;
    let page = p.page()?;
    let key = format!("{id:?}\n{member:?}\n{page:?}");
    let listed = CONTACT_LISTS
        .run_kept(&state.pool, key, move |c| {
            let found = match &member {
                Some(target) => contacts::contacts_bound_to(c, target, id.as_ref(), page)?,
                None => contacts::list_contacts(c, id.as_ref(), None, page)?,
            };
            let mut bound = Vec::new();
            for row in &found.items {
                bound.extend(bindings::bindings_of(c, &row.contact.id)?);
            }
            Ok::<_, ContactError>(Arc::new((found, bound)))
        })
        .await?;
    let (found, bound) = &*listed;
    let member_key = p.get("Member").map(str::to_owned);
    let items: Vec<Value> = found
        .items
        .iter()
        .map(|row| {
            let mut v = contact_json(&row.contact, targets_of(bound, &row.contact.id));
            if let Some(m) = &member_key
                && let Some(b) = bound.iter().find(|b| b.contact_id == row.contact.id && (&b.target_id == m || &b.target_key == m))
            {
                v["AssociatedDate"] = json!(date(&b.created_at));
            }
            v
        })
        .collect();
    Ok(object(json!({ "Contacts": items, "TotalCount": found.total, "PageNumber": page.number, "PageSize": page.size })))
}

/// AssociateMembers / DisassociateMembers: 1 to 5 targets a call.
async fn associate(state: &AppState, actor: &Actor, p: &Params, bind: bool) -> ApiResult {
    let id = p.parse("ContactId", ContactId::parse)?;
    let raw = p.list("Members")?;
    if raw.is_empty() {
        return Err(ApiError::missing("Members"));
    }
    if raw.len() > 5 {
        return Err(ApiError::new(400, "InvalidParameter.Members.Length", "The maximum number of Members exceeds the limit: name 1 to 5 targets a call."));
    }
    let mut targets = Vec::new();
    for r in &raw {
        let t = TargetId::parse(r).map_err(|e| ApiError::invalid("Members", format!("{r:?}: {e}")))?;
        if targets.iter().any(|(_, g): &(TargetId, String)| g == r.trim()) {
            return Err(ApiError::new(400, "InvalidParameter.Members.Duplicate", format!("The Members contains duplicate values: {r}")));
        }
        targets.push((t, r.trim().to_owned()));
    }
    let inline = state.settings.jobs.inline_limit;
    let actor = actor.clone();
    let change =
        db::run(&state.pool, move |c| if bind { bindings::bind(c, &id, &targets, inline, &actor) } else { bindings::unbind(c, &id, &targets, inline, &actor) })
            .await?;
    let members: Vec<Value> = change.targets.iter().map(|(t, at)| json!({ "ContactId": change.contact.id, "MemberId": t, "ModifyDate": date(at) })).collect();
    Ok(object(json!({ "Members": members })))
}

async fn send_email_verification(state: &AppState, actor: &Actor, p: &Params) -> ApiResult {
    let id = p.parse("ContactId", ContactId::parse)?;
    let address = p.parse("EmailAddress", EmailAddress::parse)?;
    let sender = state.sender(&actor.to_string());
    let actor = actor.clone();
    db::run(&state.pool, move |c| contacts::resend_verification(c, &id, Some(&address), &sender, &actor)).await?;
    Ok(object(json!({})))
}

async fn send_phone_verification(state: &AppState, p: &Params) -> ApiResult {
    let id = p.parse("ContactId", ContactId::parse)?;
    p.required("PhoneNumber")?;
    phone(p)?;
    db::run(&state.pool, move |c| contacts::get_contact(c, &id)).await?;
    Err(ApiError::new(
        400,
        "OperationNotSupported.Sms",
        "This deployment sends no SMS: phone numbers are stored but cannot be verified. Verify the contact by email.",
    ))
}

async fn list_verifications(state: &AppState, p: &Params) -> ApiResult {
    let id = p.parse_opt("ContactId", ContactId::parse)?;
    let page = p.page()?;
    let found = db::run(&state.pool, move |c| contacts::pending_verifications(c, id.as_ref(), page)).await?;
    let items: Vec<Value> = found.items.iter().map(|(id, target)| json!({ "ContactId": id, "Target": target })).collect();
    Ok(object(json!({ "ContactVerifications": items, "TotalCount": found.total, "PageNumber": page.number, "PageSize": page.size })))
}

/// Cancels only what is named: a pending email address (also when nothing is named).
/// A phone number never waits here (no SMS is sent), so there is none to cancel.
async fn cancel_update(state: &AppState, actor: &Actor, p: &Params) -> ApiResult {
    let id = p.parse("ContactId", ContactId::parse)?;
    let address = p.parse_opt("EmailAddress", EmailAddress::parse)?;
    let phone = phone(p)?;
    if address.is_none() && phone.is_some() {
        db::run(&state.pool, move |c| contacts::get_contact(c, &id)).await?;
        return Err(ContactError::NoPendingChange("phone number").into());
    }
    let actor = actor.clone();
    db::run(&state.pool, move |c| contacts::cancel_pending_email(c, &id, address.as_ref(), &actor)).await?;
    Ok(object(json!({})))
}

async fn delete(state: &AppState, actor: &Actor, p: &Params) -> ApiResult {
    let id = p.parse("ContactId", ContactId::parse)?;
    let keep = p.bool("RetainContactInMembers")?.unwrap_or(true);
    let actor = actor.clone();
    let outcome = db::run(&state.pool, move |c| deletion::delete_contact(c, &id, keep, &actor)).await?;
    let status = match outcome {
        Deletion::Deleted => "Deleted",
        Deletion::Deleting { .. } => "Deleting",
    };
    Ok(object(json!({ "Status": status })))
}

async fn deletion_status(state: &AppState, p: &Params) -> ApiResult {
    let id = p.parse("ContactId", ContactId::parse)?;
    let raw = id.to_string();
    // Every fail reason is kept: a page of them (MaxResults, 1000 by default), the total,
    // and a NextToken for the next page (our extension; the SDK's model reads the list).
    let limit = p.int("MaxResults", 1, 1000)?.unwrap_or(1000);
    let after = match p.get("NextToken").filter(|t| !t.is_empty()) {
        Some(t) => Some(AccountId::parse(t).map_err(|_| ApiError::invalid("NextToken", "Pass the NextToken of the previous answer."))?.to_string()),
        None => None,
    };
    let status = db::run(&state.pool, move |c| deletion::deletion_status(c, &id, after.as_deref(), limit)).await?;
    let reasons: Vec<Value> = status.reasons.iter().map(|(account, types)| json!({ "AccountId": account, "MessageTypes": types.api_names() })).collect();
    let mut body =
        json!({ "ContactId": raw, "Status": if status.failed { "Failed" } else { "Deleting" }, "FailReasonList": reasons, "TotalCount": status.total });
    if let Some(next) = status.next {
        body["NextToken"] = json!(next);
    }
    Ok(object(json!({ "ContactDeletionStatus": body })))
}
