//! The Resource Organization View: the folder tree on the left (opened on demand), the
//! selected folder's members on the right, a search across the directory, and, for a
//! new installation, the demo tree.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use crate::db::{self, AnyConnection};
use crate::directory::{self, DirectoryError, Folder, FolderSummary, KeptByVersion, ResourceDirectory};
use crate::domain::{FolderId, Page, PageRequest};
use crate::membership::ImportError;
use crate::state::AppState;
use crate::web::filters;
use crate::web::session::{CsrfForm, CurrentAdmin};
use crate::web::{Chrome, Reply, html, redirect};

use super::tree::{self, TreeRow};
use super::*;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/directory", web::get().to(overview))
        .route("/directory/tree/{id}", web::get().to(tree_children))
        .route("/directory/demo", web::post().to(load_demo))
        .route("/directory/import", web::get().to(import_form))
        .route("/directory/import", web::post().to(import));
}

#[derive(Template)]
#[template(path = "directory/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    view: Arc<OverviewView>,
}

reads_its_view!(OverviewPage => OverviewView);

/// What the Organization View shows of the directory, the same for every administrator:
/// kept whole under the read version, by what was asked ([`OVERVIEWS`]).
struct OverviewView {
    rd: ResourceDirectory,
    folder_count: i64,
    member_count: i64,
    tree: Vec<TreeRow>,
    selected: FolderSummary,
    selected_path: String,
    members: Page<MemberRow>,
    /// Whether the members' total is their count; a search's first page of a common word
    /// can come before it (`directory::find_accounts`), and then asks for it.
    counted: bool,
    q: String,
    /// The tag filter as typed (`key=value` or a key), empty for none.
    tag: String,
    found_folders: Option<Page<FolderSummary>>,
}

/// Views kept by folder, search, tag and page: a few of them are most of what is opened.
/// A view whose members are not counted yet is not kept.
static OVERVIEWS: KeptByVersion<Arc<OverviewView>> = KeptByVersion::of_anything_up_to(64);

impl OverviewView {
    fn selected_label(&self) -> &str {
        self.selected.folder.shown_name()
    }
    fn is_empty(&self) -> bool {
        self.folder_count == 0 && self.member_count == 0
    }
    /// What the results are for: “retail”, tagged env=prod, or both.
    fn results_label(&self) -> String {
        match (self.q.is_empty(), self.tag.is_empty()) {
            (false, true) => format!("Results for \u{201c}{}\u{201d}", self.q),
            (true, false) => format!("Tagged {}", self.tag),
            _ => format!("Results for \u{201c}{}\u{201d} tagged {}", self.q, self.tag),
        }
    }
    fn link(&self, page: impl crate::web::render::Value<i64>) -> String {
        let mut q = vec![("folder", self.selected.folder.id.clone())];
        if !self.q.is_empty() {
            q.push(("q", self.q.clone()));
        }
        if !self.tag.is_empty() {
            q.push(("tag", self.tag.clone()));
        }
        q.push(("page", page.value().to_string()));
        format!("?{}", serde_urlencoded::to_string(q).unwrap_or_default())
    }
    /// This page again, once its members are counted.
    fn counted_link(&self) -> String {
        format!("{}&count=wait", self.link(self.members.request.number))
    }
}

#[derive(Deserialize)]
struct OverviewQuery {
    folder: Option<String>,
    q: Option<String>,
    tag: Option<String>,
    page: Option<i64>,
    /// `wait`: the page once its members are counted (what an uncounted page asks for).
    count: Option<String>,
}

async fn overview(state: web::Data<AppState>, admin: CurrentAdmin, query: web::Query<OverviewQuery>) -> Reply {
    let q = crate::web::render::search_text(query.q.as_deref())?;
    let wanted = match query.folder.as_deref().filter(|f| !f.is_empty()) {
        Some(raw) => Some(folder_id(raw)?),
        None => None,
    };
    let tag_text = query.tag.as_deref().unwrap_or("").trim().to_owned();
    let tagged = if tag_text.is_empty() {
        Vec::new()
    } else {
        vec![Tag::parse_pair(&tag_text).map_err(|e| AppError::BadRequest(format!("The tag filter {tag_text:?} cannot be used: {}.", e.message)))?]
    };
    let page = query.page;
    let count = if query.count.as_deref() == Some("wait") { directory::Count::Wait } else { directory::Count::IfFree };
    let search = q.clone();
    let chrome = Chrome::new(&admin, "directory");
    let _turn = if q.is_empty() || !tagged.is_empty() {
        None
    } else {
        Some(directory::first_turn(None, &q, PageRequest::with_size(page, MEMBERS_PER_PAGE).end(), count).await)
    };
    let rd = (*state.directory).clone();
    let key = format!("{}\n{search}\n{tag_text}\n{page:?}", wanted.as_ref().map_or("", FolderId::as_str));
    let view = OVERVIEWS
        .run_kept_if(
            &state.pool,
            key,
            |view| view.counted,
            move |c| {
                let root = FolderId::parse(&rd.root_folder_id).expect("stored ids are valid");
                let selected = directory::folder_summary(c, wanted.as_ref().unwrap_or(&root))?;
                let (tree, on_path) = tree::opened(c, &root, &selected)?;
                let (members, counted, found_folders) = if search.is_empty() && tagged.is_empty() {
                    (directory::list_folder_members(c, &selected, PageRequest::with_size(page, MEMBERS_PER_PAGE))?, true, None)
                } else {
                    let (members, counted) = directory::find_accounts(c, &search, &tagged, PageRequest::with_size(page, MEMBERS_PER_PAGE), count)?;
                    (members, counted, Some(directory::search_folders_tagged(c, &search, &tagged, PageRequest::with_size(None, FOLDERS_PER_PAGE))?))
                };
                let (folder_count, member_count) = directory::directory_counts(c)?;
                let members = member_rows_known(c, members, &on_path)?;
                let selected_path = Folder::path_label(&on_path);
                Ok::<_, DirectoryError>(Arc::new(OverviewView {
                    rd,
                    folder_count,
                    member_count,
                    tree,
                    selected,
                    selected_path,
                    members,
                    counted,
                    q: search,
                    tag: tag_text,
                    found_folders,
                }))
            },
        )
        .await?;
    html(StatusCode::OK, &OverviewPage { chrome, view })
}

#[derive(Template)]
#[template(path = "directory/_tree_fragment.html")]
struct TreeRows {
    tree: Vec<TreeRow>,
    /// (folder id, name, how many subfolders) when the tree shows only the first of them.
    more: Option<(String, String, i64)>,
}

/// The fragment that opens one folder of the tree: its subfolders, closed.
async fn tree_children(state: web::Data<AppState>, _admin: CurrentAdmin, path: web::Path<String>) -> Reply {
    let id = folder_id(&path)?;
    let fragment = db::run(&state.pool, move |c| directory::with_one_version(|| children_rows(c, &id))).await?;
    html(StatusCode::OK, &fragment)
}

fn children_rows(c: &mut AnyConnection, id: &FolderId) -> Result<TreeRows, DirectoryError> {
    let parent = directory::folder_summary(c, id)?;
    let kids = directory::list_subfolders(c, id, None, PageRequest::with_size(None, TREE_FOLDERS))?;
    let more = (kids.total > kids.items.len() as i64).then(|| (parent.folder.id.clone(), parent.folder.name.clone(), kids.total));
    let tree = kids.items.into_iter().map(TreeRow::closed).collect();
    Ok(TreeRows { tree, more })
}

/// The demo tree for a first look: only into an empty directory.
async fn load_demo(state: web::Data<AppState>, admin: CurrentAdmin, _form: CsrfForm) -> Reply {
    let actor = admin.actor();
    match db::run(&state.pool, move |c| directory::demo::fill(c, DEMO_FOLDERS, DEMO_MEMBERS, &actor)).await {
        Ok(report) => {
            tracing::info!(folders = report.folders, members = report.members, "demo tree loaded from the console");
            admin.flash.say(format!("The demo tree is loaded: {} folders and {} members.", report.folders, report.members));
            Ok(redirect("/directory"))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "directory/import.html")]
struct ImportPage {
    chrome: Chrome,
    text: String,
    errors: Vec<(usize, String)>,
}

async fn import_form(admin: CurrentAdmin) -> Reply {
    html(StatusCode::OK, &ImportPage { chrome: Chrome::new(&admin, "directory"), text: String::new(), errors: Vec::new() })
}

#[derive(serde::Deserialize)]
struct ImportFields {
    #[serde(default)]
    tree: String,
}

/// Adds a pasted tree of folders and members; a bad line shows the form again with every
/// line to fix, and adds nothing.
async fn import(state: web::Data<AppState>, admin: CurrentAdmin, form: CsrfForm<ImportFields>) -> Reply {
    let text = form.data.tree;
    let refuse = |errors: Vec<(usize, String)>| {
        html(StatusCode::UNPROCESSABLE_ENTITY, &ImportPage { chrome: Chrome::new(&admin, "directory"), text: text.clone(), errors })
    };
    let lines = match directory::import::parse(&text) {
        Ok(lines) => lines,
        Err(errors) => return refuse(errors),
    };
    let actor = admin.actor();
    match db::run(&state.pool, move |c| crate::membership::import_tree(c, &lines, &actor)).await {
        Ok(added) => {
            tracing::info!(folders = added.folders, members = added.members, "tree imported from the console");
            admin.flash.say(format!(
                "Imported {} and {}.",
                if added.folders == 1 { "1 folder".to_owned() } else { format!("{} folders", added.folders) },
                if added.members == 1 { "1 member".to_owned() } else { format!("{} members", added.members) }
            ));
            Ok(redirect("/directory"))
        }
        Err(ImportError::Line { line, error }) if !matches!(error, DirectoryError::Storage(_)) => refuse(vec![(line, error.to_string())]),
        Err(ImportError::Line { error, .. } | ImportError::Directory(error)) => Err(error.into()),
        Err(ImportError::Storage(s)) => Err(s.into()),
    }
}

const DEMO_FOLDERS: usize = 24;
const DEMO_MEMBERS: usize = 120;
