//! A folder's details: its subfolders and members, its contacts, and its forms.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use crate::audit::{self, AuditEvent};
use crate::contacts::bindings::{self, Binding};
use crate::contacts::scope::{self};
use crate::contacts::{self, Contact, ContactError};
use crate::db::{self, AnyConnection};
use crate::directory::{self, DirectoryError, Folder, FolderSummary, JoinMethod, KeptByVersion, NewAccount, ResourceDirectory, tags};
use crate::domain::{ContactId, TargetId};
use crate::domain::{DisplayName, FolderId, FolderName, MAX_FOLDER_DEPTH, MAX_TAGS, Page, PageRequest, TaggedKind};
use crate::state::AppState;
use crate::web::AppError;
use crate::web::audit::HISTORY_ROWS;
use crate::web::filters;
use crate::web::session::{CsrfForm, CurrentAdmin};
use crate::web::{Chrome, Reply, html, redirect};

use super::*;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/folders/{id}", web::get().to(folder_page))
        .route("/folders/{id}/folders", web::post().to(create_folder))
        .route("/folders/{id}/rename", web::post().to(rename_folder))
        .route("/folders/{id}/delete", web::post().to(delete_folder))
        .route("/folders/{id}/members", web::post().to(create_member))
        .route("/folders/{id}/bind", web::post().to(bind_to_folder))
        .route("/folders/{id}/tags", web::post().to(tag_folder))
        .route("/folders/{id}/tags/remove", web::post().to(untag_folder));
}

// ---------------------------------------------------------------- folder details

/// The forms of the folder page, with what was typed and what was wrong.
#[derive(Default)]
struct FolderForms {
    new_folder: String,
    new_folder_error: Option<String>,
    rename: Option<String>,
    rename_error: Option<String>,
    member_name: String,
    member_name_error: Option<String>,
    member_email: String,
    member_email_error: Option<String>,
    delete_error: Option<String>,
    bind_error: Option<String>,
    tag_key: String,
    tag_value: String,
    tag_error: Option<String>,
}

#[derive(Template)]
#[template(path = "directory/folder.html")]
struct FolderPage {
    chrome: Chrome,
    forms: FolderForms,
    view: Arc<FolderView>,
}

reads_its_view!(FolderPage => FolderView);

/// What a folder page shows, the same for every administrator: kept whole under the read
/// version, by folder, search and page ([`FOLDER_VIEWS`]).
struct FolderView {
    rd: ResourceDirectory,
    bound_here: Vec<(Contact, Binding)>,
    inherited: Vec<(Contact, Binding, String)>,
    kept: Vec<(Contact, i64)>,
    bindable: Vec<Contact>,
    summary: FolderSummary,
    ancestors: Vec<Folder>,
    subfolders: Page<FolderSummary>,
    members: Page<MemberRow>,
    q: String,
    max_depth: i32,
    tags: Vec<(String, String)>,
    max_tags: usize,
    audit: Vec<AuditEvent>,
}

static FOLDER_VIEWS: KeptByVersion<Arc<FolderView>> = KeptByVersion::of_anything_up_to(64);

impl FolderPage {
    fn rename_value(&self) -> &str {
        self.forms.rename.as_deref().unwrap_or(&self.summary.folder.name)
    }
}

impl FolderView {
    fn audit_target(&self) -> &str {
        &self.summary.folder.id
    }
    fn folder(&self) -> &Folder {
        &self.summary.folder
    }
    fn can_have_subfolders(&self) -> bool {
        self.summary.folder.depth < MAX_FOLDER_DEPTH
    }
    fn tags_action(&self) -> String {
        format!("/folders/{}/tags", self.summary.folder.id)
    }
    fn is_empty(&self) -> bool {
        self.summary.subfolders == 0 && self.summary.members == 0
    }
}

/// Reads the folder page: the folder, its contacts, its subfolders and a page of its members.
fn load_folder(c: &mut AnyConnection, rd: ResourceDirectory, id: &FolderId, page: Option<i64>, q: String) -> Result<Arc<FolderView>, AppError> {
    let (folder, members, ancestors) = directory::folder_and_ancestors(c, id)?;
    let subfolders = directory::list_subfolders(c, id, None, PageRequest::with_size(None, FOLDERS_PER_PAGE))?;
    let summary = FolderSummary { folder, subfolders: subfolders.total, members };
    let (bound_here, inherited) = scope::folder_contacts(c, &summary.folder.path)?;
    // Active contacts not bound here, with room for one more target.
    let bindable = contacts::bindable_contacts(c, 100)?.into_iter().filter(|c| !bound_here.iter().any(|(b, _)| b.id == c.id)).collect();
    // Every member listed here is in this folder: its path is the breadcrumb's.
    let path = Folder::path_label(&[ancestors.as_slice(), std::slice::from_ref(&summary.folder)].concat());
    Ok(Arc::new(FolderView {
        rd,
        kept: scope::kept_in_subtree(c, &summary.folder.path)?,
        bound_here,
        inherited,
        bindable,
        ancestors,
        subfolders,
        members: {
            let request = PageRequest::with_size(page, MEMBERS_PER_PAGE);
            let accounts = if q.trim().is_empty() {
                directory::list_folder_members(c, &summary, request)?
            } else {
                directory::list_accounts(c, Some(id), Some(&q), request)?
            };
            let items = accounts.items.into_iter().map(|account| MemberRow { account, path: path.clone() }).collect();
            Page { items, total: accounts.total, request: accounts.request }
        },
        tags: tags::tags_of(c, TaggedKind::Folder, std::slice::from_ref(&summary.folder.id))?.remove(&summary.folder.id).unwrap_or_default(),
        max_tags: MAX_TAGS,
        audit: audit::recent(c, &summary.folder.id, HISTORY_ROWS)?,
        summary,
        q,
        max_depth: MAX_FOLDER_DEPTH,
    }))
}

async fn render_folder(state: &AppState, admin: &CurrentAdmin, id: FolderId, q: String, page: Option<i64>, forms: FolderForms) -> Reply {
    let status = if forms.new_folder_error.is_some()
        || forms.rename_error.is_some()
        || forms.member_name_error.is_some()
        || forms.member_email_error.is_some()
        || forms.delete_error.is_some()
        || forms.bind_error.is_some()
        || forms.tag_error.is_some()
    {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let chrome = Chrome::new(admin, "directory");
    let rd = (*state.directory).clone();
    // A read-only view: the kept values it reads (search.rs) share one read of the version.
    let key = format!("{id}\n{q}\n{page:?}");
    let view = FOLDER_VIEWS.run_kept(&state.pool, key, move |c| load_folder(c, rd, &id, page, q)).await?;
    html(status, &FolderPage { chrome, forms, view })
}

async fn folder_page(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, query: web::Query<ListQuery>) -> Reply {
    let id = folder_id(&path)?;
    render_folder(&state, &admin, id, query.text()?, query.page, FolderForms::default()).await
}

#[derive(Deserialize)]
struct NameForm {
    name: String,
}

async fn create_folder(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<NameForm>) -> Reply {
    let parent = folder_id(&path)?;
    let typed = form.data.name;
    let refuse = |message: String| FolderForms { new_folder: typed.clone(), new_folder_error: Some(message), ..Default::default() };
    let name = match FolderName::parse(&typed) {
        Ok(n) => n,
        Err(e) => return render_folder(&state, &admin, parent, String::new(), None, refuse(e.message)).await,
    };
    let p = parent.clone();
    let actor = admin.actor();
    match db::run(&state.pool, move |c| directory::create_folder(c, &p, &name, &actor)).await {
        Ok(folder) => {
            tracing::info!(folder.id = %folder.id, "folder created");
            admin.flash.say(format!("The folder {} is created.", folder.name));
            Ok(redirect(&format!("/folders/{}", folder.id)))
        }
        Err(e @ (DirectoryError::TooDeep | DirectoryError::FolderNameTaken(_))) => {
            render_folder(&state, &admin, parent, String::new(), None, refuse(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn rename_folder(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<NameForm>) -> Reply {
    let id = folder_id(&path)?;
    let typed = form.data.name;
    let refuse = |message: String| FolderForms { rename: Some(typed.clone()), rename_error: Some(message), ..Default::default() };
    let name = match FolderName::parse(&typed) {
        Ok(n) => n,
        Err(e) => return render_folder(&state, &admin, id, String::new(), None, refuse(e.message)).await,
    };
    let target = id.clone();
    let actor = admin.actor();
    match db::run(&state.pool, move |c| directory::rename_folder(c, &target, &name, &actor)).await {
        Ok(folder) => {
            admin.flash.say(format!("Renamed to {}.", folder.name));
            Ok(redirect(&format!("/folders/{}", folder.id)))
        }
        Err(e @ (DirectoryError::FolderNameTaken(_) | DirectoryError::RootFolder)) => {
            render_folder(&state, &admin, id, String::new(), None, refuse(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn delete_folder(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, _form: CsrfForm) -> Reply {
    let id = folder_id(&path)?;
    let target = id.clone();
    let actor = admin.actor();
    match db::run(&state.pool, move |c| directory::delete_folder(c, &target, &actor)).await {
        Ok(folder) => {
            tracing::info!(folder.id = %folder.id, "folder deleted");
            admin.flash.say(format!("The folder {} is deleted.", folder.name));
            Ok(redirect(&format!("/folders/{}", folder.parent_id.unwrap_or_default())))
        }
        Err(e @ (DirectoryError::HasSubfolders(_) | DirectoryError::HasAccounts(_) | DirectoryError::NotEmpty | DirectoryError::RootFolder)) => {
            render_folder(&state, &admin, id, String::new(), None, FolderForms { delete_error: Some(e.to_string()), ..Default::default() }).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn create_member(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<MemberForm>) -> Reply {
    let folder = folder_id(&path)?;
    let MemberForm { display_name, security_email } = form.data;
    let name = DisplayName::parse(&display_name);
    let email = optional_email(&security_email);
    let (name, email) = match (name, email) {
        (Ok(n), Ok(e)) => (n, e),
        (n, e) => {
            let forms = FolderForms {
                member_name_error: n.err().map(|e| e.message),
                member_email_error: e.err(),
                member_name: display_name,
                member_email: security_email,
                ..Default::default()
            };
            return render_folder(&state, &admin, folder, String::new(), None, forms).await;
        }
    };
    let new = NewAccount { display_name: name, folder, security_email: email, account_name_prefix: None, join_method: JoinMethod::Created };
    let actor = admin.actor();
    let account = db::run(&state.pool, move |c| crate::membership::create_account(c, &new, &actor)).await?;
    tracing::info!(account.id = %account.id, "member created");
    admin.flash.say(format!("The member {} is created.", account.display_name));
    Ok(redirect(&format!("/members/{}", account.id)))
}

#[derive(Deserialize)]
struct BindHereForm {
    contact: String,
}

/// Binds a contact to this folder (from the folder page).
async fn bind_to_folder(state: web::Data<AppState>, path: web::Path<String>, admin: CurrentAdmin, form: CsrfForm<BindHereForm>) -> Reply {
    let folder = folder_id(&path)?;
    let refuse = |message: String| FolderForms { bind_error: Some(message), ..Default::default() };
    let contact = match ContactId::parse(&form.data.contact) {
        Ok(c) => c,
        Err(e) => return render_folder(&state, &admin, folder, String::new(), None, refuse(e.message)).await,
    };
    let target = vec![(TargetId::Folder(folder.clone()), folder.to_string())];
    let inline = state.settings.jobs.inline_limit;
    let actor = admin.actor();
    match db::run(&state.pool, move |c| bindings::bind(c, &contact, &target, inline, &actor)).await {
        Ok(change) => {
            let later = if change.jobs.is_empty() { "" } else { " Its members are updated in the background." };
            admin.flash.say(format!("{} is bound to this folder.{later}", change.contact.name));
            Ok(redirect(&format!("/folders/{folder}")))
        }
        Err(e @ (ContactError::NotActive(_) | ContactError::AlreadyBound(_) | ContactError::TooManyTargets { .. } | ContactError::NotFound(_))) => {
            render_folder(&state, &admin, folder, String::new(), None, refuse(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn tag_folder(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<TagFields>) -> Reply {
    let id = folder_id(&path)?;
    match set_tag(&state, admin.actor(), TaggedKind::Folder, id.to_string(), &form.data).await? {
        Ok(notice) => {
            admin.flash.say(notice);
            Ok(redirect(&format!("/folders/{id}#tags")))
        }
        Err(error) => {
            let forms = FolderForms { tag_key: form.data.key.clone(), tag_value: form.data.value.clone(), tag_error: Some(error), ..Default::default() };
            render_folder(&state, &admin, id, String::new(), None, forms).await
        }
    }
}

async fn untag_folder(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<TagKeyField>) -> Reply {
    let id = folder_id(&path)?;
    admin.flash.say(remove_tag(&state, admin.actor(), TaggedKind::Folder, id.to_string(), &form.data).await?);
    Ok(redirect(&format!("/folders/{id}#tags")))
}
