//! Settings: Quotas (rule C1's quota, our stand-in for Quota Center), Administrators
//! and Access keys.

mod admins;
mod keys;

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use crate::contacts::{self, ContactError};
use crate::db;
use crate::state::AppState;
use crate::web::session::{CsrfForm, CurrentAdmin};
use crate::web::{Chrome, Reply, html, redirect};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/quotas", web::get().to(quotas))
        .route("/settings/quotas", web::post().to(set_quotas))
        .configure(admins::routes)
        .configure(keys::routes);
}

#[derive(Template)]
#[template(path = "settings/quotas.html")]
struct QuotasPage {
    chrome: Chrome,
    used: i64,
    quota: i64,
    value: String,
    error: Option<String>,
}

async fn render_quotas(state: &AppState, admin: &CurrentAdmin, value: Option<String>, error: Option<String>) -> Reply {
    let (used, quota) = db::run(&state.pool, contacts::contact_quota).await?;
    let chrome = Chrome::new(admin, "settings");
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    html(status, &QuotasPage { chrome, used, quota, value: value.unwrap_or_else(|| quota.to_string()), error })
}

async fn quotas(state: web::Data<AppState>, admin: CurrentAdmin) -> Reply {
    render_quotas(&state, &admin, None, None).await
}

#[derive(Deserialize)]
struct QuotaForm {
    contact_quota: String,
}

async fn set_quotas(state: web::Data<AppState>, admin: CurrentAdmin, form: CsrfForm<QuotaForm>) -> Reply {
    let typed = form.data.contact_quota;
    let n = match typed.trim().parse::<i64>() {
        Ok(n) if (1..=100_000).contains(&n) => n,
        _ => return render_quotas(&state, &admin, Some(typed), Some("Enter a whole number from 1 to 100000".into())).await,
    };
    let actor = admin.actor();
    match db::run(&state.pool, move |c| contacts::set_contact_quota(c, n, &actor)).await {
        Ok(_) => {
            admin.flash.say(format!("Saved: at most {n} contacts."));
            Ok(redirect("/settings/quotas"))
        }
        Err(e @ ContactError::QuotaBelowUsage { .. }) => render_quotas(&state, &admin, Some(typed), Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- binding
