//! A contact's details: Effective Scope, verification history, resending and cancelling
//! verifications, and the members it reaches.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use crate::audit::{self, AuditEvent};
use crate::contacts::deletion::{self, FailedDeletion};
use crate::contacts::scope::{self, EffectiveScope};
use crate::contacts::{self, Contact, ContactError, Verification};
use crate::db;
use crate::directory::KeptByVersion;
use crate::domain::{ContactId, Page, PageRequest};
use crate::state::AppState;
use crate::web::audit::HISTORY_ROWS;
use crate::web::filters;
use crate::web::session::{CsrfForm, CurrentAdmin};
use crate::web::{Chrome, Reply, html, redirect};

use super::contact_id;
use super::list::render_list;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts/{id}", web::get().to(details))
        .route("/contacts/{id}/resend", web::post().to(resend))
        .route("/contacts/{id}/cancel-update", web::post().to(cancel_update))
        .route("/contacts/{id}/members", web::get().to(members_page))
        .route("/contacts/{id}/clear-bounce", web::post().to(clear_bounce));
}

#[derive(Template)]
#[template(path = "contacts/detail.html")]
struct DetailPage {
    chrome: Chrome,
    view: Arc<DetailView>,
    /// The contact's tasks that show at the time of the view.
    tasks: Vec<scope::RunningTask>,
    now: time::PrimitiveDateTime,
    error: Option<String>,
}

reads_its_view!(DetailPage => DetailView);

/// What a contact's page shows, the same for every administrator: kept whole under the
/// read version, by contact ([`DETAIL_VIEWS`]). Which tasks still show is decided at each
/// view.
struct DetailView {
    contact: Contact,
    scope: Arc<EffectiveScope>,
    task_rows: Arc<Vec<crate::jobs::JobRow>>,
    failed_deletion: Option<FailedDeletion>,
    history: Vec<Verification>,
    audit: Vec<AuditEvent>,
    bounce: Option<crate::bounces::Bounce>,
}

static DETAIL_VIEWS: KeptByVersion<Arc<DetailView>> = KeptByVersion::of_anything_up_to(64);

impl DetailPage {
    /// Whether a task still runs: the page then asks for itself again.
    fn any_running(&self) -> bool {
        self.tasks.iter().any(scope::RunningTask::is_running)
    }
}

impl DetailView {
    fn audit_target(&self) -> &str {
        &self.contact.id
    }
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

pub(super) async fn render_details(state: &AppState, admin: &CurrentAdmin, id: ContactId, error: Option<String>) -> Reply {
    // A read-only view: the kept values it reads share one read of the version.
    let view = DETAIL_VIEWS
        .run_kept(&state.pool, id.to_string(), move |c| {
            let contact = contacts::get_contact(c, &id)?;
            let failed_deletion = deletion::standing_failure(c, &contact, 100)?;
            let audit = audit::recent(c, id.as_str(), HISTORY_ROWS)?;
            let bounce = crate::bounces::lookup(&crate::bounces::of(c, [contact.email.as_str()])?, &contact.email);
            let history = contacts::verification_history(c, &id)?;
            let scope = scope::effective_scope(c, id.as_str())?;
            let task_rows = scope::kept_tasks(c, id.as_str(), db::now_utc())?;
            Ok::<_, ContactError>(Arc::new(DetailView { contact, scope, task_rows, failed_deletion, history, audit, bounce }))
        })
        .await?;
    let chrome = Chrome::new(admin, "directory");
    let status = if error.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    let now = db::now_utc();
    html(status, &DetailPage { chrome, tasks: scope::tasks_at(&view.task_rows, now), view, now, error })
}

/// Clears the contact's bouncing mark and asks the address to verify again.
async fn clear_bounce(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, _form: CsrfForm) -> Reply {
    let id = contact_id(&path)?;
    let (sender, actor, target) = (state.sender(&admin.username), admin.actor(), id.clone());
    let address = db::run(&state.pool, move |c| contacts::clear_bounce(c, &target, &sender, &actor)).await?;
    admin.flash.say(format!("{address} is no longer marked bouncing; a verification email is on its way to it."));
    Ok(redirect(&format!("/contacts/{id}")))
}

async fn details(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>) -> Reply {
    let id = contact_id(&path)?;
    render_details(&state, &admin, id, None).await
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
    let actor = admin.actor();
    match db::run(&state.pool, move |c| contacts::resend_verification(c, &target, None, &sender, &actor)).await {
        Ok(contact) => {
            admin.flash.say(format!("A verification email is on its way to {}.", contact.address_to_verify().unwrap_or_default()));
            Ok(redirect(&if from_list { "/contacts".to_owned() } else { format!("/contacts/{}", contact.id) }))
        }
        Err(e @ (ContactError::AddressLimit { .. } | ContactError::DailyLimit { .. } | ContactError::NothingToVerify(_))) => {
            if from_list {
                render_list(&state, &admin, Default::default(), Some(e.to_string())).await
            } else {
                render_details(&state, &admin, id, Some(e.to_string())).await
            }
        }
        Err(e) => Err(e.into()),
    }
}

async fn cancel_update(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, _form: CsrfForm) -> Reply {
    let id = contact_id(&path)?;
    let target = id.clone();
    let actor = admin.actor();
    match db::run(&state.pool, move |c| contacts::cancel_pending_email(c, &target, None, &actor)).await {
        Ok(contact) => {
            admin.flash.say(format!("The address change is cancelled; notifications keep going to {}.", contact.email));
            Ok(redirect(&format!("/contacts/{}", contact.id)))
        }
        Err(e @ ContactError::NoPendingChange(_)) => render_details(&state, &admin, id, Some(e.to_string())).await,
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
