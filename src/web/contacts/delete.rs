//! Deleting a contact: the dialog with its two choices.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use crate::contacts::deletion::{self, Deletion, DeletionPreview};
use crate::contacts::{self, Contact, ContactError};
use crate::db;
use crate::state::AppState;
use crate::web::AppError;
use crate::web::filters;
use crate::web::session::{CsrfForm, CurrentAdmin};
use crate::web::{Chrome, Reply, html, redirect};

use super::contact_id;
use super::detail::render_details;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts/{id}/delete", web::get().to(delete_dialog)).route("/contacts/{id}/delete", web::post().to(delete));
}

#[derive(Template)]
#[template(path = "contacts/delete.html")]
struct DeletePage {
    chrome: Chrome,
    contact: Contact,
    preview: DeletionPreview,
}

async fn delete_dialog(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>) -> Reply {
    let id = contact_id(&path)?;
    let (contact, preview) = db::run(&state.pool, move |c| Ok::<_, ContactError>((contacts::get_contact(c, &id)?, deletion::preview(c, &id)?))).await?;
    html(StatusCode::OK, &DeletePage { chrome: Chrome::new(&admin, "directory"), contact, preview })
}

#[derive(Deserialize)]
struct DeleteForm {
    choice: Option<String>,
}

async fn delete(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<DeleteForm>) -> Reply {
    let id = contact_id(&path)?;
    let keep = match form.data.choice.as_deref() {
        Some("remove") => false,
        Some("keep") | None => true,
        Some(_) => return Err(AppError::BadRequest("Choose whether the members keep the contact or not".into())),
    };
    let target = id.clone();
    let actor = admin.actor();
    match db::run(&state.pool, move |c| deletion::delete_contact(c, &target, keep, &actor)).await {
        Ok(Deletion::Deleted) => {
            admin.flash.say(if keep { "The contact is deleted; its members keep it in their Message Centers." } else { "The contact is deleted." });
            Ok(redirect("/contacts"))
        }
        Ok(Deletion::Deleting { .. }) => {
            admin.flash.say("Deleting: the contact is being removed from its members' Message Centers. This page shows the progress.");
            Ok(redirect(&format!("/contacts/{id}")))
        }
        Err(e @ ContactError::DeletionRunning) => render_details(&state, &admin, id, Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- covered members
