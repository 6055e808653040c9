//! Select Objects: binding a contact to the directory, folders and members, and unbinding.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;

use crate::contacts::{self, Contact, ContactError, bindings};
use crate::db::{self, AnyConnection};
use crate::domain::{ContactId, FolderId, Page, PageRequest, TargetId};
use crate::state::AppState;
use crate::web::AppError;
use crate::web::directory::tree::{self, TreeRow};
use crate::web::directory::{MemberRow, member_rows};
use crate::web::filters;
use crate::web::session::{CsrfForm, CurrentAdmin};
use crate::web::{Chrome, Reply, html, redirect, redirect_for};

use super::detail::render_details;
use super::{contact_id, is_htmx};

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts/{id}/bind", web::get().to(bind_panel))
        .route("/contacts/{id}/bind", web::post().to(bind))
        .route("/contacts/{id}/bind/members", web::get().to(member_results))
        .route("/contacts/{id}/bind/tree/{folder}", web::get().to(tree_rows))
        .route("/contacts/{id}/unbind", web::post().to(unbind));
}

/// Members a search shows at most in the panel.
const MEMBER_RESULTS: i64 = 20;

/// What the picker knows of the contact: its id, what it is bound to, what this form ticked.
struct Picks {
    contact_id: String,
    bound: Vec<(String, String)>,
    chosen: Vec<(String, String)>,
}

impl Picks {
    fn is_bound(&self, key: &str) -> bool {
        self.bound.iter().any(|(b, _)| b == key)
    }
    fn is_chosen(&self, key: &str) -> bool {
        self.chosen.iter().any(|(c, _)| c == key)
    }
    fn count(&self) -> usize {
        self.bound.len() + self.chosen.len()
    }
}

/// The members a search found, each with its folder's path.
struct Found {
    q: String,
    members: Page<MemberRow>,
}

/// Select Objects: the contact's bound objects, what this form ticked, the folder tree
/// (root and the way down to `open`, more on demand) and the members a search found.
#[derive(Template)]
#[template(path = "contacts/_bind_panel.html")]
struct BindPanel {
    csrf: String,
    contact: Contact,
    picks: Picks,
    tree: Vec<TreeRow>,
    found: Found,
    error: Option<String>,
}

impl BindPanel {
    fn is_bound(&self, key: &str) -> bool {
        self.picks.is_bound(key)
    }
    fn is_chosen(&self, key: &str) -> bool {
        self.picks.is_chosen(key)
    }
}

#[derive(Template)]
#[template(path = "contacts/bind_page.html")]
struct BindPage {
    chrome: Chrome,
    panel: BindPanel,
}

/// The panel's address: the search, the folder to open, and what is ticked (`target`,
/// repeated), so that the panel works the same without our script.
struct BindQuery {
    q: String,
    open: Option<FolderId>,
    chosen: Vec<String>,
}

impl BindQuery {
    fn of(req: &HttpRequest) -> Result<BindQuery, AppError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
            .map_err(|_| AppError::BadRequest("A value in this page's address is not valid. Open the panel again from the contact's page.".into()))?;
        let value = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        let open = value("open").filter(|v| !v.is_empty()).map(FolderId::parse).transpose().map_err(|e| AppError::BadRequest(e.message))?;
        Ok(BindQuery { q: crate::web::render::search_text(value("q"))?, open, chosen: chosen_of(&pairs) })
    }
}

/// The distinct targets ticked in a form or an address, in the order given.
fn chosen_of(pairs: &[(String, String)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, v) in pairs.iter().filter(|(k, _)| k == "target") {
        let v = v.trim();
        if !v.is_empty() && !out.iter().any(|o| o == v) {
            out.push(v.to_owned());
        }
    }
    out
}

/// What the contact is bound to and what is ticked, each with its name. Three queries.
fn picks(c: &mut AnyConnection, contact: &Contact, chosen: &[String]) -> Result<Picks, ContactError> {
    let bound: Vec<String> = bindings::bindings_of(c, &contact.id)?.into_iter().map(|b| b.target_key).collect();
    let wanted: Vec<String> = bound.iter().chain(chosen).cloned().collect();
    let names = crate::directory::names_of(c, &wanted)?;
    let named = |k: &String| (k.clone(), names.get(k).cloned().unwrap_or_else(|| k.clone()));
    Ok(Picks {
        contact_id: contact.id.clone(),
        chosen: chosen.iter().filter(|k| !bound.contains(k)).map(named).collect(),
        bound: bound.iter().map(named).collect(),
    })
}

async fn render_bind(state: &AppState, req: &HttpRequest, admin: &CurrentAdmin, id: ContactId, query: BindQuery, error: Option<String>) -> Reply {
    let root = FolderId::parse(&state.directory.root_folder_id).expect("stored ids are valid");
    // A read-only view: the search and the members' paths are kept under one version read.
    let panel = db::run(&state.pool, move |c| {
        crate::directory::with_one_version(|| {
            let contact = contacts::get_contact(c, &id)?;
            let open = match &query.open {
                Some(f) => crate::directory::folder_summary(c, f)?,
                None => crate::directory::folder_summary(c, &root)?,
            };
            let (tree, _) = tree::opened(c, &root, &open)?;
            let members = if query.q.is_empty() {
                Page { items: Vec::new(), total: 0, request: PageRequest::with_size(None, MEMBER_RESULTS) }
            } else {
                let found = crate::directory::list_accounts(c, None, Some(&query.q), PageRequest::with_size(None, MEMBER_RESULTS))?;
                member_rows(c, found)?
            };
            let picks = picks(c, &contact, &query.chosen)?;
            Ok::<_, ContactError>(BindPanel { csrf: String::new(), contact, picks, tree, found: Found { q: query.q, members }, error })
        })
    })
    .await?;
    let panel = BindPanel { csrf: admin.csrf.clone(), ..panel };
    let status = if panel.error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    if is_htmx(req) { html(status, &panel) } else { html(status, &BindPage { chrome: Chrome::new(admin, "directory"), panel }) }
}

async fn bind_panel(state: web::Data<AppState>, req: HttpRequest, admin: CurrentAdmin, path: web::Path<String>) -> Reply {
    let id = contact_id(&path)?;
    let query = BindQuery::of(&req)?;
    render_bind(&state, &req, &admin, id, query, None).await
}

#[derive(Template)]
#[template(path = "contacts/_member_results.html")]
struct MemberResults {
    picks: Picks,
    found: Found,
}

impl MemberResults {
    fn is_bound(&self, key: &str) -> bool {
        self.picks.is_bound(key)
    }
    fn is_chosen(&self, key: &str) -> bool {
        self.picks.is_chosen(key)
    }
}

/// The members a search finds, as pickers (the panel's "Find").
async fn member_results(state: web::Data<AppState>, req: HttpRequest, _admin: CurrentAdmin, path: web::Path<String>) -> Reply {
    let id = contact_id(&path)?;
    let query = BindQuery::of(&req)?;
    let fragment = db::run(&state.pool, move |c| {
        crate::directory::with_one_version(|| {
            let contact = contacts::get_contact(c, &id)?;
            let found = crate::directory::list_accounts(c, None, Some(&query.q), PageRequest::with_size(None, MEMBER_RESULTS))?;
            let members = if query.q.is_empty() { Page { items: Vec::new(), total: 0, request: found.request } } else { member_rows(c, found)? };
            Ok::<_, ContactError>(MemberResults { picks: picks(c, &contact, &query.chosen)?, found: Found { q: query.q, members } })
        })
    })
    .await?;
    html(StatusCode::OK, &fragment)
}

#[derive(Template)]
#[template(path = "contacts/_pick_fragment.html")]
struct PickRows {
    picks: Picks,
    tree: Vec<TreeRow>,
    more: Option<(String, String, i64)>,
}

impl PickRows {
    fn is_bound(&self, key: &str) -> bool {
        self.picks.is_bound(key)
    }
    fn is_chosen(&self, key: &str) -> bool {
        self.picks.is_chosen(key)
    }
}

/// One folder of the picker opened: its subfolders, as pickers.
async fn tree_rows(state: web::Data<AppState>, req: HttpRequest, _admin: CurrentAdmin, path: web::Path<(String, String)>) -> Reply {
    let (raw_contact, raw_folder) = path.into_inner();
    let id = contact_id(&raw_contact)?;
    let folder = FolderId::parse(&raw_folder).map_err(|_| AppError::NotFound(format!("There is no folder {raw_folder}.")))?;
    let query = BindQuery::of(&req)?;
    // A read-only view: its kept values share one version.
    let fragment = db::run(&state.pool, move |c| {
        crate::directory::with_one_version(|| {
            let contact = contacts::get_contact(c, &id)?;
            let parent = crate::directory::folder_summary(c, &folder)?;
            let kids = crate::directory::list_subfolders(c, &folder, None, PageRequest::with_size(None, crate::web::directory::TREE_FOLDERS))?;
            let more = (kids.total > kids.items.len() as i64).then(|| (parent.folder.id.clone(), parent.folder.name.clone(), kids.total));
            Ok::<_, ContactError>(PickRows { picks: picks(c, &contact, &query.chosen)?, tree: kids.items.into_iter().map(TreeRow::closed).collect(), more })
        })
    })
    .await?;
    html(StatusCode::OK, &fragment)
}

/// The targets named in a form (`target` fields), parsed, each once.
fn targets_of(pairs: &[(String, String)]) -> Result<Vec<(TargetId, String)>, String> {
    chosen_of(pairs).into_iter().map(|v| TargetId::parse(&v).map(|t| (t, v)).map_err(|e| e.message)).collect()
}

fn back_to(pairs: &[(String, String)], fallback: String) -> String {
    pairs.iter().find(|(k, _)| k == "back").and_then(|(_, v)| crate::web::render::local_path(v)).map(str::to_owned).unwrap_or(fallback)
}

async fn bind(state: web::Data<AppState>, req: HttpRequest, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm) -> Reply {
    let id = contact_id(&path)?;
    let back = back_to(&form.pairs, format!("/contacts/{id}"));
    // Shown again after a refusal: with what was ticked, and what was searched.
    let again =
        || BindQuery { q: form.pairs.iter().find(|(k, _)| k == "q").map(|(_, v)| v.clone()).unwrap_or_default(), open: None, chosen: chosen_of(&form.pairs) };
    let targets = match targets_of(&form.pairs) {
        Ok(t) if !t.is_empty() => t,
        Ok(_) => {
            let error = "Select at least one object to bind: tick a folder, the root or a member.".to_owned();
            return render_bind(&state, &req, &admin, id, again(), Some(error)).await;
        }
        Err(e) => return render_bind(&state, &req, &admin, id, again(), Some(e)).await,
    };
    let target = id.clone();
    let inline = state.settings.jobs.inline_limit;
    let actor = admin.actor();
    match db::run(&state.pool, move |c| bindings::bind(c, &target, &targets, inline, &actor)).await {
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
        ) => render_bind(&state, &req, &admin, id, again(), Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}

/// What a bind or unbind says once done: how many objects, and whether members are still
/// being updated in the background.
fn changed(verb: &str, change: &bindings::Change) -> String {
    let n = change.targets.len();
    let objects = if n == 1 { "1 object".to_owned() } else { format!("{n} objects") };
    let later = if change.jobs.is_empty() { "" } else { " Its members are updated in the background: Effective Scope shows the progress." };
    format!("{} is {verb} {objects}.{later}", change.contact.name)
}

async fn unbind(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm) -> Reply {
    let id = contact_id(&path)?;
    let back = back_to(&form.pairs, format!("/contacts/{id}"));
    let targets = targets_of(&form.pairs).map_err(AppError::BadRequest)?;
    let target = id.clone();
    let inline = state.settings.jobs.inline_limit;
    let actor = admin.actor();
    match db::run(&state.pool, move |c| bindings::unbind(c, &target, &targets, inline, &actor)).await {
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
