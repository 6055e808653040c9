//! The Contacts tab: the list of contacts with their bound objects.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use crate::contacts::{self, ContactError, ContactRow};
use crate::db;
use crate::domain::{Page, PageRequest};
use crate::state::AppState;
use crate::web::filters;
use crate::web::session::CurrentAdmin;
use crate::web::{Chrome, Reply, html};

use super::PER_PAGE;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts", web::get().to(list));
}

impl ListPage {
    fn bound_count(&self, id: &str) -> i64 {
        self.bound.iter().find(|(c, _)| c == id).map_or(0, |(_, n)| *n)
    }
}

// ---------------------------------------------------------------- list

#[derive(Template)]
#[template(path = "contacts/list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Page<ContactRow>,
    bound: Vec<(String, i64)>,
    q: String,
    used: i64,
    quota: i64,
    error: Option<String>,
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    page: Option<i64>,
}

pub(super) async fn render_list(state: &AppState, admin: &CurrentAdmin, q: String, page: Option<i64>, error: Option<String>) -> Reply {
    let search = q.clone();
    let (rows, (used, quota), bound) = db::run(&state.pool, move |c| {
        let rows = contacts::list_contacts(c, None, Some(&search), PageRequest::with_size(page, PER_PAGE))?;
        let ids: Vec<String> = rows.items.iter().map(|r| r.contact.id.clone()).collect();
        Ok::<_, ContactError>((rows, contacts::contact_quota(c)?, contacts::binding_counts(c, &ids)?))
    })
    .await?;
    let chrome = Chrome::new(admin, "directory");
    let status = if error.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    html(status, &ListPage { chrome, rows, bound, q, used, quota, error })
}

async fn list(state: web::Data<AppState>, admin: CurrentAdmin, query: web::Query<ListQuery>) -> Reply {
    let q = crate::web::render::search_text(query.q.as_deref())?;
    render_list(&state, &admin, q, query.page, None).await
}

// ---------------------------------------------------------------- the panel
