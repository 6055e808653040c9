//! The Resource Organization View, folder details and member details pages.

mod folder;
mod member;
mod overview;
mod sync;
pub(crate) mod tree;

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::audit::Actor;
use crate::db;
use crate::db::AnyConnection;
use crate::directory::tags;
use crate::directory::{self, Account, DirectoryError, Folder};
use crate::domain::{AccountId, EmailAddress, FolderId, Page, Tag, TagKey, TagValue, TaggedKind};
use crate::state::AppState;
use crate::web::AppError;
use crate::web::redirect;
use crate::web::session::CurrentUser;

pub fn routes(cfg: &mut web::ServiceConfig) {
    // The overview's routes first: `/directory` before anything under it.
    cfg.route("/", web::get().to(home)).configure(overview::routes).configure(sync::routes).configure(folder::routes).configure(member::routes);
}

pub(crate) const TREE_FOLDERS: i64 = 50;
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

/// A row of a members table: the member, with its folder's path by name.
#[derive(Clone)]
pub(crate) struct MemberRow {
    pub account: Account,
    pub path: String,
}

impl MemberRow {
    /// "created here" or "invited", as the Alibaba console says how a member joined.
    pub fn joined_how(&self) -> &'static str {
        if self.account.join_method == "invited" { "invited" } else { "created here" }
    }
}

/// The rows of a members table: each member with its path. Two queries.
pub(crate) fn member_rows(c: &mut AnyConnection, page: Page<Account>) -> Result<Page<MemberRow>, DirectoryError> {
    member_rows_known(c, page, &[])
}

/// As [`member_rows`], where the members in the last folder of `known` (the folders on its
/// path, root first) take its path as it is: no query when they all are.
pub(crate) fn member_rows_known(c: &mut AnyConnection, page: Page<Account>, known: &[Folder]) -> Result<Page<MemberRow>, DirectoryError> {
    let mut paths = std::collections::HashMap::new();
    if let Some(last) = known.last() {
        paths.insert(last.id.clone(), Folder::path_label(known));
    }
    let unknown: Vec<&str> = page.items.iter().filter_map(|a| a.folder_id.as_deref()).filter(|f| !paths.contains_key(*f)).collect();
    if !unknown.is_empty() {
        let found = directory::folder_path_names(c, &unknown)?;
        paths.extend(found);
    }
    let items = page
        .items
        .into_iter()
        .map(|account| {
            let path = account.folder_id.as_ref().and_then(|f| paths.get(f)).cloned().unwrap_or_default();
            MemberRow { account, path }
        })
        .collect();
    Ok(Page { items, total: page.total, request: page.request })
}

/// The Organization View filtered by one tag (`key=value`, or the key with any value).
pub fn tag_link(key: &str, value: &str) -> String {
    let tag = if value.is_empty() { key.to_owned() } else { format!("{key}={value}") };
    format!("/directory?{}", serde_urlencoded::to_string([("tag", tag)]).unwrap_or_default())
}

/// The tag form of a folder or member page: what was typed and what was wrong.
#[derive(Deserialize)]
struct TagFields {
    #[serde(default)]
    key: String,
    #[serde(default)]
    value: String,
}

impl TagFields {
    fn parse(&self) -> Result<Tag, String> {
        let key = TagKey::parse(&self.key).map_err(|e| e.message)?;
        let value = TagValue::parse(&self.value).map_err(|e| e.message)?;
        Ok(Tag { key, value })
    }
}

/// "env: prod", or the key alone, as a notice says it.
fn tag_words(tag: &Tag) -> String {
    if tag.value.as_str().is_empty() { tag.key.as_str().to_owned() } else { format!("{}: {}", tag.key.as_str(), tag.value.as_str()) }
}

/// Sets the typed tag on a folder or member. `Ok(Err(message))` is a refusal to show in
/// the form (a bad key or value, too many tags); `Ok(Ok(notice))` says what was done.
async fn set_tag(state: &AppState, actor: Actor, kind: TaggedKind, id: String, fields: &TagFields) -> Result<Result<String, String>, AppError> {
    let tag = match fields.parse() {
        Ok(tag) => tag,
        Err(e) => return Ok(Err(e)),
    };
    let set = vec![tag.clone()];
    match db::run(&state.pool, move |c| tags::tag(c, kind, &[id], &set, &actor)).await {
        Ok(()) => Ok(Ok(format!("The tag {} is set.", tag_words(&tag)))),
        Err(e @ DirectoryError::TooManyTags { .. }) => Ok(Err(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// Removes one tag from a folder or member; answers the notice.
async fn remove_tag(state: &AppState, actor: Actor, kind: TaggedKind, id: String, field: &TagKeyField) -> Result<String, AppError> {
    let key = TagKey::parse(&field.key).map_err(|e| AppError::BadRequest(e.message))?;
    let keys = vec![key.clone()];
    db::run(&state.pool, move |c| tags::untag(c, kind, &[id], Some(&keys), &actor)).await?;
    Ok(format!("The tag {} is removed.", key.as_str()))
}

/// The key of a tag to remove.
#[derive(Deserialize)]
struct TagKeyField {
    key: String,
}

/// An optional email field: blank means none.
fn optional_email(raw: &str) -> Result<Option<EmailAddress>, String> {
    if raw.trim().is_empty() { Ok(None) } else { EmailAddress::parse(raw).map(Some).map_err(|e| e.message) }
}
