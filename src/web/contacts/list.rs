//! The Contacts tab: the list of contacts with their bound objects.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use crate::contacts::{self, ContactError, ContactFilter, ContactRow, ContactStatus};
use crate::directory::KeptByVersion;
use crate::domain::{MessageType, MessageTypes, Page, PageRequest, Title};
use crate::state::AppState;
use crate::web::filters;
use crate::web::session::CurrentAdmin;
use crate::web::{AppError, Chrome, Reply, html};

use super::PER_PAGE;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts", web::get().to(list));
}

impl ListView {
    fn reach_of(&self, id: &str) -> Option<&contacts::ContactReach> {
        self.reach.iter().find(|r| r.contact_id == id)
    }
    fn bound_count(&self, id: &str) -> i64 {
        self.reach_of(id).map_or(0, |r| r.bound)
    }
    fn retained_count(&self, id: &str) -> i64 {
        self.reach_of(id).map_or(0, |r| r.retained)
    }
    fn quota_full(&self) -> bool {
        self.used >= self.quota
    }
    fn bounces(&self, address: &str) -> bool {
        crate::bounces::lookup(&self.bouncing, address).is_some()
    }
}

impl ListPage {
    fn filtered(&self) -> bool {
        !self.q.is_empty() || !self.status.is_empty() || !self.title.is_empty() || !self.message_type.is_empty()
    }
    /// This list's address with another page.
    fn link(&self, page: impl crate::web::render::Value<i64>) -> String {
        let mut q: Vec<(&str, String)> = Vec::new();
        for (k, v) in [("q", &self.q), ("status", &self.status), ("title", &self.title), ("type", &self.message_type)] {
            if !v.is_empty() {
                q.push((k, v.clone()));
            }
        }
        q.push(("page", page.value().to_string()));
        format!("?{}", serde_urlencoded::to_string(q).unwrap_or_default())
    }
}

// ---------------------------------------------------------------- list

#[derive(Template)]
#[template(path = "contacts/list.html")]
struct ListPage {
    chrome: Chrome,
    view: Arc<ListView>,
    q: String,
    status: String,
    title: String,
    message_type: String,
    error: Option<String>,
    now: time::PrimitiveDateTime,
}

reads_its_view!(ListPage => ListView);

/// What a page of the list shows, the same for every administrator: kept whole under the
/// read version, by filter and page ([`LIST_VIEWS`]). What depends on the time is decided
/// as the page is written (`now`).
struct ListView {
    rows: Page<ContactRow>,
    reach: Vec<contacts::ContactReach>,
    used: i64,
    quota: i64,
    bouncing: std::collections::HashMap<String, crate::bounces::Bounce>,
}

static LIST_VIEWS: KeptByVersion<Arc<ListView>> = KeptByVersion::of_anything_up_to(64);

#[derive(Deserialize, Default)]
pub(super) struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    title: Option<String>,
    r#type: Option<String>,
    page: Option<i64>,
}

/// A filter's choice from the address: empty is "any"; anything else must be one of the
/// choices, or the page says which filter to fix.
fn choice<T>(raw: &Option<String>, parse: impl Fn(&str) -> Option<T>, what: &str) -> Result<(Option<T>, String), AppError> {
    match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok((None, String::new())),
        Some(v) => parse(v).map(|t| (Some(t), v.to_owned())).ok_or_else(|| AppError::BadRequest(format!("Choose a {what} from the list."))),
    }
}

pub(super) async fn render_list(state: &AppState, admin: &CurrentAdmin, query: ListQuery, error: Option<String>) -> Reply {
    let q = crate::web::render::search_text(query.q.as_deref())?;
    let (status, status_raw) = choice(&query.status, |s| ContactStatus::ALL.into_iter().find(|c| c.as_str() == s), "status")?;
    let (title, title_raw) = choice(&query.title, |s| Title::parse(s).ok(), "title")?;
    let (types, type_raw) = choice(&query.r#type, |s| MessageType::parse(s).ok(), "message type")?;
    let filter = ContactFilter {
        id: None,
        query: (!q.is_empty()).then(|| q.clone()),
        status,
        title,
        types: types.map(|t| std::iter::once(t).collect::<MessageTypes>()),
    };
    let page = PageRequest::with_size(query.page, PER_PAGE);
    let key = format!("{filter:?}\n{page:?}");
    let view = LIST_VIEWS
        .run_kept(&state.pool, key, move |c| {
            let (rows, reach) = contacts::list_contacts_with_reach(c, &filter, page)?;
            let bouncing = crate::bounces::of(c, rows.items.iter().map(|r| r.contact.email.as_str()))?;
            let (used, quota) = contacts::contact_quota(c)?;
            Ok::<_, ContactError>(Arc::new(ListView { rows, reach, used, quota, bouncing }))
        })
        .await?;
    let chrome = Chrome::new(admin, "directory");
    let status = if error.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    let page = ListPage { chrome, view, q, status: status_raw, title: title_raw, message_type: type_raw, error, now: crate::db::now_utc() };
    html(status, &page)
}

async fn list(state: web::Data<AppState>, admin: CurrentAdmin, query: web::Query<ListQuery>) -> Reply {
    render_list(&state, &admin, query.into_inner(), None).await
}

// ---------------------------------------------------------------- the panel
