//! The Resource Organization View: the tree, its search, and folders opened on demand.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;

use crate::db::{self};
use crate::directory::{self, Account, DirectoryError, FolderSummary, ResourceDirectory};
use crate::domain::{FolderId, Page, PageRequest};
use crate::state::AppState;
use crate::web::filters;
use crate::web::session::CurrentAdmin;
use crate::web::{Chrome, Reply, html};

use super::*;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/directory", web::get().to(overview)).route("/directory/tree/{id}", web::get().to(tree_children));
}

// ---------------------------------------------------------------- overview

#[derive(Template)]
#[template(path = "directory/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    rd: ResourceDirectory,
    folder_count: i64,
    member_count: i64,
    root: FolderSummary,
    children: Page<FolderSummary>,
    members: Page<Account>,
    q: String,
    found_folders: Option<Page<FolderSummary>>,
    found_members: Option<Page<Account>>,
}

async fn overview(state: web::Data<AppState>, admin: CurrentAdmin, query: web::Query<ListQuery>) -> Reply {
    let q = query.text()?;
    let page = query.page;
    let search = q.clone();
    let (rd, (folder_count, member_count), root, children, members, found) = db::run(&state.pool, move |c| {
        let rd = directory::get_directory(c)?;
        let root_id = FolderId::parse(&rd.root_folder_id).expect("stored ids are valid");
        let counts = directory::directory_counts(c)?;
        let root = directory::folder_summary(c, &root_id)?;
        let children = directory::list_subfolders(c, &root_id, None, PageRequest::with_size(None, TREE_FOLDERS))?;
        let members = directory::list_accounts(c, Some(&root_id), None, PageRequest::with_size(None, TREE_MEMBERS))?;
        let found = if search.is_empty() {
            None
        } else {
            Some((
                directory::search_folders(c, &search, PageRequest::with_size(None, FOLDERS_PER_PAGE))?,
                directory::list_accounts(c, None, Some(&search), PageRequest::with_size(page, MEMBERS_PER_PAGE))?,
            ))
        };
        Ok::<_, DirectoryError>((rd, counts, root, children, members, found))
    })
    .await?;
    let (found_folders, found_members) = found.map_or((None, None), |(f, m)| (Some(f), Some(m)));
    html(
        StatusCode::OK,
        &OverviewPage { chrome: Chrome::new(&admin, "directory"), rd, folder_count, member_count, root, children, members, q, found_folders, found_members },
    )
}

#[derive(Template)]
#[template(path = "directory/_tree_children.html")]
struct TreeChildren {
    folder: FolderSummary,
    children: Page<FolderSummary>,
    members: Page<Account>,
}

/// The htmx fragment that expands one folder of the tree.
async fn tree_children(state: web::Data<AppState>, _admin: CurrentAdmin, path: web::Path<String>) -> Reply {
    let id = folder_id(&path)?;
    let fragment = db::run(&state.pool, move |c| {
        Ok::<_, DirectoryError>(TreeChildren {
            folder: directory::folder_summary(c, &id)?,
            children: directory::list_subfolders(c, &id, None, PageRequest::with_size(None, TREE_FOLDERS))?,
            members: directory::list_accounts(c, Some(&id), None, PageRequest::with_size(None, TREE_MEMBERS))?,
        })
    })
    .await?;
    html(StatusCode::OK, &fragment)
}
