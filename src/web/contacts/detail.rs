//! A contact's details: Effective Scope, verification history, resending and cancelling
//! verifications, and the members it reaches.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use crate::contacts::deletion::{self, DeletionStatus};
use crate::contacts::scope::{self, EffectiveScope};
use crate::contacts::{self, Contact, ContactError, Verification};
use crate::db;
use crate::domain::{ContactId, Page, PageRequest};
use crate::state::AppState;
use crate::web::filters;
use crate::web::session::{CsrfForm, CurrentAdmin};
use crate::web::{Chrome, Reply, html, redirect};

use super::contact_id;
use super::list::render_list;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts/{id}", web::get().to(details))
        .route("/contacts/{id}/resend", web::post().to(resend))
        .route("/contacts/{id}/cancel-update", web::post().to(cancel_update))
        .route("/contacts/{id}/members", web::get().to(members_page));
}

#[derive(Template)]
#[template(path = "contacts/detail.html")]
struct DetailPage {
    chrome: Chrome,
    contact: Contact,
    scope: EffectiveScope,
    failed_deletion: Option<DeletionStatus>,
    history: Vec<Verification>,
    now: time::PrimitiveDateTime,
    error: Option<String>,
}

impl DetailPage {
    fn type_labels(&self) -> String {
        self.contact.types().labels()
    }
    fn title_label(&self) -> &'static str {
        self.contact.title.label()
    }
    fn waiting(&self) -> Option<&str> {
        self.contact.address_to_verify()
    }
}

#[derive(Deserialize)]
struct DetailQuery {
    created: Option<String>,
    sent: Option<String>,
}

pub(super) async fn render_details(state: &AppState, admin: &CurrentAdmin, id: ContactId, flash: Option<String>, error: Option<String>) -> Reply {
    let (contact, history, scope, failed_deletion) = db::run(&state.pool, move |c| {
        let contact = contacts::get_contact(c, &id)?;
        let failed = if contact.deletion_failed_at.is_some() { Some(deletion::deletion_status(c, &id, None, 100)?) } else { None };
        Ok::<_, ContactError>((contact, contacts::verification_history(c, &id)?, scope::effective_scope(c, id.as_str())?, failed))
    })
    .await?;
    let mut chrome = Chrome::new(admin, "directory");
    chrome.flash = flash;
    let status = if error.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    html(status, &DetailPage { chrome, contact, scope, failed_deletion, history, now: db::now_utc(), error })
}

async fn details(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, query: web::Query<DetailQuery>) -> Reply {
    let id = contact_id(&path)?;
    let flash = if query.created.is_some() {
        Some("Contact created. A verification email is on its way: the contact becomes Active once its owner confirms the address.".to_owned())
    } else {
        query.sent.as_ref().map(|to| format!("A verification email is on its way to {to}."))
    };
    render_details(&state, &admin, id, flash, None).await
}

#[derive(Deserialize)]
struct ResendForm {
    from: Option<String>,
}

async fn resend(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<ResendForm>) -> Reply {
    let id = contact_id(&path)?;
    let from_list = form.data.from.as_deref() == Some("list");
    let sender = state.sender(&admin.username);
    let target = id.clone();
    match db::run(&state.pool, move |c| contacts::resend_verification(c, &target, None, &sender)).await {
        Ok(contact) => {
            let to = percent_encoding::utf8_percent_encode(contact.address_to_verify().unwrap_or_default(), percent_encoding::NON_ALPHANUMERIC).to_string();
            Ok(redirect(&if from_list { format!("/contacts?sent={to}") } else { format!("/contacts/{}?sent={to}", contact.id) }))
        }
        Err(e @ (ContactError::AddressLimit { .. } | ContactError::DailyLimit { .. } | ContactError::NothingToVerify(_))) => {
            if from_list {
                render_list(&state, &admin, String::new(), None, None, Some(e.to_string())).await
            } else {
                render_details(&state, &admin, id, None, Some(e.to_string())).await
            }
        }
        Err(e) => Err(e.into()),
    }
}

async fn cancel_update(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, _form: CsrfForm) -> Reply {
    let id = contact_id(&path)?;
    let target = id.clone();
    match db::run(&state.pool, move |c| contacts::cancel_pending_email(c, &target, None)).await {
        Ok(contact) => Ok(redirect(&format!("/contacts/{}", contact.id))),
        Err(e @ ContactError::NoPendingChange) => render_details(&state, &admin, id, None, Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- quotas

#[derive(Template)]
#[template(path = "contacts/members.html")]
struct MembersPage {
    chrome: Chrome,
    contact: Contact,
    members: Page<scope::CoveredMember>,
}

impl MembersPage {
    fn link(&self, page: impl crate::web::render::Value<i64>) -> String {
        format!("?page={}", page.value())
    }
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<i64>,
}

async fn members_page(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, query: web::Query<PageQuery>) -> Reply {
    let id = contact_id(&path)?;
    let page = PageRequest::with_size(query.page, 50);
    let (contact, members) =
        db::run(&state.pool, move |c| Ok::<_, ContactError>((contacts::get_contact(c, &id)?, scope::covered_members(c, id.as_str(), page)?))).await?;
    html(StatusCode::OK, &MembersPage { chrome: Chrome::new(&admin, "directory"), contact, members })
}
