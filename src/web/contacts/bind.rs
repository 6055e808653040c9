//! Select Objects: binding a contact to the directory, folders and members, and unbinding.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;

use crate::contacts::{self, Contact, ContactError, bindings};
use crate::db;
use crate::directory::FolderOption;
use crate::domain::TargetId;
use crate::domain::{ContactId, PageRequest};
use crate::state::AppState;
use crate::web::AppError;
use crate::web::session::{CsrfForm, CurrentAdmin};
use crate::web::{Chrome, Reply, html, redirect, redirect_for};

use super::detail::render_details;
use super::{contact_id, is_htmx};

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts/{id}/bind", web::get().to(bind_panel))
        .route("/contacts/{id}/bind", web::post().to(bind))
        .route("/contacts/{id}/unbind", web::post().to(unbind));
}

#[derive(Template)]
#[template(path = "contacts/_bind_panel.html")]
struct BindPanel {
    csrf: String,
    contact: Contact,
    folders: Vec<FolderOption>,
    bound: Vec<String>,
    q: String,
    members: Vec<crate::directory::Account>,
    error: Option<String>,
}

impl BindPanel {
    fn is_bound(&self, key: &str) -> bool {
        self.bound.iter().any(|b| b == key)
    }
    fn indent(&self, option: &FolderOption) -> String {
        "\u{a0}\u{a0}\u{a0}".repeat(option.depth.max(0) as usize)
    }
}

#[derive(Template)]
#[template(path = "contacts/bind_page.html")]
struct BindPage {
    chrome: Chrome,
    panel: BindPanel,
}

#[derive(Deserialize)]
struct BindQuery {
    q: Option<String>,
}

pub(super) async fn render_bind(state: &AppState, req: &HttpRequest, admin: &CurrentAdmin, id: ContactId, q: String, error: Option<String>) -> Reply {
    let search = q.clone();
    let (contact, folders, bound, members) = db::run(&state.pool, move |c| {
        let contact = contacts::get_contact(c, &id)?;
        let folders = crate::directory::folder_options(c)?;
        let bound = bindings::bindings_of(c, &contact.id)?.into_iter().map(|b| b.target_key).collect();
        let members =
            if search.is_empty() { Vec::new() } else { crate::directory::list_accounts(c, None, Some(&search), PageRequest::with_size(None, 20))?.items };
        Ok::<_, ContactError>((contact, folders, bound, members))
    })
    .await?;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let panel = BindPanel { csrf: admin.csrf.clone(), contact, folders, bound, q, members, error };
    if is_htmx(req) { html(status, &panel) } else { html(status, &BindPage { chrome: Chrome::new(admin, "directory"), panel }) }
}

async fn bind_panel(state: web::Data<AppState>, req: HttpRequest, admin: CurrentAdmin, path: web::Path<String>, query: web::Query<BindQuery>) -> Reply {
    let id = contact_id(&path)?;
    let q = crate::web::render::search_text(query.q.as_deref())?;
    render_bind(&state, &req, &admin, id, q, None).await
}

/// What a bind or unbind says once done: how many objects, and whether members are still
/// being updated in the background.
fn changed(verb: &str, change: &bindings::Change) -> String {
    let n = change.targets.len();
    let objects = if n == 1 { "1 object".to_owned() } else { format!("{n} objects") };
    let later = if change.jobs.is_empty() { "" } else { " Its members are updated in the background: Effective Scope shows the progress." };
    format!("{} is {verb} {objects}.{later}", change.contact.name)
}

/// The targets named in a form (`target` fields), parsed.
fn targets_of(pairs: &[(String, String)]) -> Result<Vec<(TargetId, String)>, String> {
    pairs.iter().filter(|(k, _)| k == "target").map(|(_, v)| TargetId::parse(v).map(|t| (t, v.trim().to_owned())).map_err(|e| e.message)).collect()
}

fn back_to(pairs: &[(String, String)], fallback: String) -> String {
    pairs.iter().find(|(k, _)| k == "back").and_then(|(_, v)| crate::web::render::local_path(v)).map(str::to_owned).unwrap_or(fallback)
}

async fn bind(state: web::Data<AppState>, req: HttpRequest, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm) -> Reply {
    let id = contact_id(&path)?;
    let back = back_to(&form.pairs, format!("/contacts/{id}"));
    let targets = match targets_of(&form.pairs) {
        Ok(t) if !t.is_empty() => t,
        Ok(_) => return render_bind(&state, &req, &admin, id, String::new(), Some("Select at least one object to bind".into())).await,
        Err(e) => return render_bind(&state, &req, &admin, id, String::new(), Some(e)).await,
    };
    let target = id.clone();
    let inline = state.settings.jobs.inline_limit;
    match db::run(&state.pool, move |c| bindings::bind(c, &target, &targets, inline)).await {
        Ok(change) => {
            admin.flash.say(changed("bound to", &change));
            Ok(redirect_for(&req, &back))
        }
        Err(
            e @ (ContactError::NotActive(_)
            | ContactError::DuplicateTarget(_)
            | ContactError::AlreadyBound(_)
            | ContactError::InvalidMember(_)
            | ContactError::TooManyTargets { .. }),
        ) => {
            if back.starts_with("/folders/") {
                Err(AppError::Conflict(e.to_string()))
            } else {
                render_bind(&state, &req, &admin, id, String::new(), Some(e.to_string())).await
            }
        }
        Err(e) => Err(e.into()),
    }
}

async fn unbind(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm) -> Reply {
    let id = contact_id(&path)?;
    let back = back_to(&form.pairs, format!("/contacts/{id}"));
    let targets = targets_of(&form.pairs).map_err(AppError::BadRequest)?;
    let target = id.clone();
    let inline = state.settings.jobs.inline_limit;
    match db::run(&state.pool, move |c| bindings::unbind(c, &target, &targets, inline)).await {
        Ok(change) => {
            admin.flash.say(changed("unbound from", &change));
            Ok(redirect(&back))
        }
        Err(e @ (ContactError::NotBound(_) | ContactError::InvalidMember(_) | ContactError::DuplicateTarget(_) | ContactError::Deleting)) => {
            render_details(&state, &admin, id, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- deletion
