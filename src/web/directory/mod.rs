//! The Resource Organization View, folder details and member details pages.

mod folder;
mod member;
mod overview;

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::domain::{AccountId, EmailAddress, FolderId};
use crate::web::AppError;
use crate::web::redirect;
use crate::web::session::CurrentUser;

pub fn routes(cfg: &mut web::ServiceConfig) {
    // The overview's routes first: `/directory` before anything under it.
    cfg.route("/", web::get().to(home)).configure(overview::routes).configure(folder::routes).configure(member::routes);
}

const TREE_FOLDERS: i64 = 50;
const TREE_MEMBERS: i64 = 20;
const MEMBERS_PER_PAGE: i64 = 20;
const FOLDERS_PER_PAGE: i64 = 50;

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    page: Option<i64>,
}

impl ListQuery {
    fn text(&self) -> Result<String, AppError> {
        super::render::search_text(self.q.as_deref())
    }
}

/// An unknown or malformed id in a URL is a 404, like any other missing page.
fn folder_id(raw: &str) -> Result<FolderId, AppError> {
    FolderId::parse(raw).map_err(|_| AppError::NotFound(format!("There is no folder {raw}.")))
}

fn account_id(raw: &str) -> Result<AccountId, AppError> {
    AccountId::parse(raw).map_err(|_| AppError::NotFound(format!("There is no member {raw}.")))
}

/// Each user's start page: the directory for an administrator, its Message Center for a
/// member user (anyone else signs in first).
async fn home(user: CurrentUser) -> HttpResponse {
    match user {
        CurrentUser::Admin(_) => redirect("/directory"),
        CurrentUser::Member(_) => redirect("/my/message-center"),
    }
}

#[derive(Deserialize)]
struct MemberForm {
    display_name: String,
    #[serde(default)]
    security_email: String,
}

/// An optional email field: blank means none.
fn optional_email(raw: &str) -> Result<Option<EmailAddress>, String> {
    if raw.trim().is_empty() { Ok(None) } else { EmailAddress::parse(raw).map(Some).map_err(|e| e.message) }
}
