//! The Resource Organization View, folder details and member details pages.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::session::{CsrfForm, CurrentAdmin};
use super::{Chrome, html, redirect};
use crate::auth::member_users::{self, InviteError, MemberUser};
use crate::contacts::bindings::{self, Binding};
use crate::contacts::scope::{self, MemberContact};
use crate::contacts::{self, Contact, ContactError};
use crate::db::{self, AnyConnection};
use crate::directory::{self, Account, DirectoryError, Folder, FolderOption, FolderSummary, JoinMethod, NewAccount, ResourceDirectory};
use crate::domain::{AccountId, DisplayName, EmailAddress, FolderId, FolderName, MAX_FOLDER_DEPTH, Page, PageRequest};
use crate::domain::{ContactId, TargetId};
use crate::message_center::{self, MessageCenter};
use crate::state::AppState;
use crate::web::AppError;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/directory", web::get().to(overview))
        .route("/directory/tree/{id}", web::get().to(tree_children))
        .route("/folders/{id}", web::get().to(folder_page))
        .route("/folders/{id}/folders", web::post().to(create_folder))
        .route("/folders/{id}/rename", web::post().to(rename_folder))
        .route("/folders/{id}/delete", web::post().to(delete_folder))
        .route("/folders/{id}/members", web::post().to(create_member))
        .route("/folders/{id}/bind", web::post().to(bind_to_folder))
        .route("/members/{id}", web::get().to(member_page))
        .route("/members/{id}/update", web::post().to(update_member))
        .route("/members/{id}/move", web::post().to(move_member))
        .route("/members/{id}/remove", web::post().to(remove_member))
        .route("/members/{id}/invite", web::post().to(invite_member_user));
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

async fn home() -> HttpResponse {
    redirect("/directory")
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

async fn overview(state: web::Data<AppState>, admin: CurrentAdmin, query: web::Query<ListQuery>) -> Result<HttpResponse, AppError> {
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
async fn tree_children(state: web::Data<AppState>, _admin: CurrentAdmin, path: web::Path<String>) -> Result<HttpResponse, AppError> {
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
}

#[derive(Template)]
#[template(path = "directory/folder.html")]
struct FolderPage {
    chrome: Chrome,
    rd: ResourceDirectory,
    bound_here: Vec<(Contact, Binding)>,
    inherited: Vec<(Contact, Binding, String)>,
    bindable: Vec<Contact>,
    summary: FolderSummary,
    ancestors: Vec<Folder>,
    subfolders: Page<FolderSummary>,
    members: Page<Account>,
    q: String,
    forms: FolderForms,
    max_depth: i32,
}

impl FolderPage {
    fn folder(&self) -> &Folder {
        &self.summary.folder
    }
    fn rename_value(&self) -> &str {
        self.forms.rename.as_deref().unwrap_or(&self.summary.folder.name)
    }
    fn can_have_subfolders(&self) -> bool {
        self.summary.folder.depth < MAX_FOLDER_DEPTH
    }
    fn is_empty(&self) -> bool {
        self.summary.subfolders == 0 && self.summary.members == 0
    }
}

struct FolderData {
    rd: ResourceDirectory,
    bound_here: Vec<(Contact, Binding)>,
    inherited: Vec<(Contact, Binding, String)>,
    bindable: Vec<Contact>,
    summary: FolderSummary,
    ancestors: Vec<Folder>,
    subfolders: Page<FolderSummary>,
    members: Page<Account>,
}

fn load_folder(c: &mut AnyConnection, id: &FolderId, q: &str, page: Option<i64>) -> Result<FolderData, AppError> {
    let summary = directory::folder_summary(c, id)?;
    let (bound_here, inherited) = scope::folder_contacts(c, &summary.folder.path)?;
    let bindable = contacts::list_contacts(c, None, None, PageRequest::with_size(None, 100))?
        .items
        .into_iter()
        .map(|r| r.contact)
        .filter(|c| c.status.is_active() && !bound_here.iter().any(|(b, _)| b.id == c.id))
        .collect();
    Ok(FolderData {
        rd: directory::get_directory(c)?,
        bound_here,
        inherited,
        bindable,
        ancestors: directory::ancestors(c, &summary.folder)?,
        subfolders: directory::list_subfolders(c, id, None, PageRequest::with_size(None, FOLDERS_PER_PAGE))?,
        members: directory::list_accounts(c, Some(id), Some(q), PageRequest::with_size(page, MEMBERS_PER_PAGE))?,
        summary,
    })
}

async fn render_folder(
    state: &AppState,
    admin: &CurrentAdmin,
    id: FolderId,
    q: String,
    page: Option<i64>,
    forms: FolderForms,
) -> Result<HttpResponse, AppError> {
    let search = q.clone();
    let data = db::run(&state.pool, move |c| load_folder(c, &id, &search, page)).await?;
    let status = if forms.new_folder_error.is_some()
        || forms.rename_error.is_some()
        || forms.member_name_error.is_some()
        || forms.member_email_error.is_some()
        || forms.delete_error.is_some()
    {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = FolderPage {
        chrome: Chrome::new(admin, "directory"),
        rd: data.rd,
        bound_here: data.bound_here,
        inherited: data.inherited,
        bindable: data.bindable,
        summary: data.summary,
        ancestors: data.ancestors,
        subfolders: data.subfolders,
        members: data.members,
        q,
        forms,
        max_depth: MAX_FOLDER_DEPTH,
    };
    html(status, &page)
}

async fn folder_page(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, query: web::Query<ListQuery>) -> Result<HttpResponse, AppError> {
    let id = folder_id(&path)?;
    render_folder(&state, &admin, id, query.text()?, query.page, FolderForms::default()).await
}

#[derive(Deserialize)]
struct NameForm {
    name: String,
}

async fn create_folder(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<NameForm>) -> Result<HttpResponse, AppError> {
    let parent = folder_id(&path)?;
    let typed = form.data.name;
    let refuse = |message: String| FolderForms { new_folder: typed.clone(), new_folder_error: Some(message), ..Default::default() };
    let name = match FolderName::parse(&typed) {
        Ok(n) => n,
        Err(e) => return render_folder(&state, &admin, parent, String::new(), None, refuse(e.message)).await,
    };
    let p = parent.clone();
    match db::run(&state.pool, move |c| directory::create_folder(c, &p, &name)).await {
        Ok(folder) => {
            tracing::info!(folder.id = %folder.id, "folder created");
            Ok(redirect(&format!("/folders/{}", folder.id)))
        }
        Err(e @ (DirectoryError::TooDeep | DirectoryError::FolderNameTaken(_))) => {
            render_folder(&state, &admin, parent, String::new(), None, refuse(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn rename_folder(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<NameForm>) -> Result<HttpResponse, AppError> {
    let id = folder_id(&path)?;
    let typed = form.data.name;
    let refuse = |message: String| FolderForms { rename: Some(typed.clone()), rename_error: Some(message), ..Default::default() };
    let name = match FolderName::parse(&typed) {
        Ok(n) => n,
        Err(e) => return render_folder(&state, &admin, id, String::new(), None, refuse(e.message)).await,
    };
    let target = id.clone();
    match db::run(&state.pool, move |c| directory::rename_folder(c, &target, &name)).await {
        Ok(folder) => Ok(redirect(&format!("/folders/{}", folder.id))),
        Err(e @ (DirectoryError::FolderNameTaken(_) | DirectoryError::RootFolder)) => {
            render_folder(&state, &admin, id, String::new(), None, refuse(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn delete_folder(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<String>,
    _form: CsrfForm<serde::de::IgnoredAny>,
) -> Result<HttpResponse, AppError> {
    let id = folder_id(&path)?;
    let target = id.clone();
    match db::run(&state.pool, move |c| directory::delete_folder(c, &target)).await {
        Ok(folder) => {
            tracing::info!(folder.id = %folder.id, "folder deleted");
            Ok(redirect(&format!("/folders/{}", folder.parent_id.unwrap_or_default())))
        }
        Err(e @ (DirectoryError::HasSubfolders(_) | DirectoryError::HasAccounts(_) | DirectoryError::NotEmpty | DirectoryError::RootFolder)) => {
            render_folder(&state, &admin, id, String::new(), None, FolderForms { delete_error: Some(e.to_string()), ..Default::default() }).await
        }
        Err(e) => Err(e.into()),
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

async fn create_member(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<MemberForm>) -> Result<HttpResponse, AppError> {
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
    let account = db::run(&state.pool, move |c| crate::membership::create_account(c, &new)).await?;
    tracing::info!(account.id = %account.id, "member created");
    Ok(redirect(&format!("/members/{}", account.id)))
}

// ---------------------------------------------------------------- member details

#[derive(Default)]
struct MemberForms {
    invite_email: Option<String>,
    invite_error: Option<String>,
    display_name: Option<String>,
    display_name_error: Option<String>,
    security_email: Option<String>,
    security_email_error: Option<String>,
    move_error: Option<String>,
}

#[derive(Template)]
#[template(path = "directory/member.html")]
struct MemberPage {
    chrome: Chrome,
    rd: ResourceDirectory,
    account: Account,
    folder: Option<Folder>,
    ancestors: Vec<Folder>,
    folder_options: Vec<FolderOption>,
    forms: MemberForms,
    mc: MessageCenter,
    users: Vec<MemberUser>,
    invited: Option<String>,
    effective: Vec<MemberContact>,
}

impl MemberPage {
    fn invite_value(&self) -> &str {
        self.forms.invite_email.as_deref().unwrap_or("")
    }
    fn display_name_value(&self) -> &str {
        self.forms.display_name.as_deref().unwrap_or(&self.account.display_name)
    }
    fn security_email_value(&self) -> &str {
        self.forms.security_email.as_deref().or(self.account.security_email.as_deref()).unwrap_or("")
    }
    fn option_label(&self, option: &FolderOption) -> String {
        format!("{}{}", "\u{a0}\u{a0}\u{a0}".repeat(option.depth.max(0) as usize), option.label)
    }
    fn is_current_folder(&self, option: &FolderOption) -> bool {
        self.account.folder_id.as_deref() == Some(option.id.as_str())
    }
}

async fn render_member(state: &AppState, admin: &CurrentAdmin, id: AccountId, forms: MemberForms) -> Result<HttpResponse, AppError> {
    render_member_with(state, admin, id, forms, None).await
}

async fn render_member_with(
    state: &AppState,
    admin: &CurrentAdmin,
    id: AccountId,
    forms: MemberForms,
    invited: Option<String>,
) -> Result<HttpResponse, AppError> {
    let status = if forms.display_name_error.is_some() || forms.security_email_error.is_some() || forms.move_error.is_some() || forms.invite_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let (rd, account, folder, ancestors, folder_options, mc, users, effective) = db::run(&state.pool, move |c| {
        let account = directory::get_account(c, &id)?;
        let folder = match &account.folder_id {
            Some(f) => Some(directory::get_folder(c, &FolderId::parse(f).expect("stored ids are valid"))?),
            None => None,
        };
        // The breadcrumb runs down to the member's own folder.
        let ancestors = match &folder {
            Some(f) => {
                let mut chain = directory::ancestors(c, f)?;
                chain.push(f.clone());
                chain
            }
            None => Vec::new(),
        };
        let options = if account.is_removed() { Vec::new() } else { directory::folder_options(c)? };
        let mc = message_center::message_center(c, &account.id)?;
        let users = member_users::users_of(c, &account.id)?;
        let effective = scope::member_contacts(c, &account.id, folder.as_ref().map(|f| f.path.as_str()), account.is_removed())?;
        Ok::<_, AppError>((directory::get_directory(c)?, account, folder, ancestors, options, mc, users, effective))
    })
    .await?;
    html(status, &MemberPage { chrome: Chrome::new(admin, "directory"), rd, account, folder, ancestors, folder_options, forms, mc, users, invited, effective })
}

#[derive(Deserialize)]
struct MemberQuery {
    invited: Option<String>,
}

async fn member_page(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<String>,
    query: web::Query<MemberQuery>,
) -> Result<HttpResponse, AppError> {
    let id = account_id(&path)?;
    render_member_with(&state, &admin, id, MemberForms::default(), query.invited.clone()).await
}

#[derive(Deserialize)]
struct InviteForm {
    email: String,
}

async fn invite_member_user(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<String>,
    form: CsrfForm<InviteForm>,
) -> Result<HttpResponse, AppError> {
    let id = account_id(&path)?;
    let typed = form.data.email;
    let refuse = |message: String| MemberForms { invite_email: Some(typed.clone()), invite_error: Some(message), ..Default::default() };
    let email = match EmailAddress::parse(&typed) {
        Ok(e) => e,
        Err(e) => return render_member(&state, &admin, id, refuse(e.message)).await,
    };
    let (account, who, url, secrets) = (id.to_string(), admin.username.clone(), state.settings.public_url.clone(), state.secrets.clone());
    match db::run(&state.pool, move |c| member_users::invite(c, &account, &email, &who, &url, &secrets)).await {
        Ok(user) => {
            let to = percent_encoding::utf8_percent_encode(&user.email, percent_encoding::NON_ALPHANUMERIC).to_string();
            Ok(redirect(&format!("/members/{id}?invited={to}")))
        }
        Err(e @ (InviteError::EmailTaken(_) | InviteError::AlreadyActive(_) | InviteError::AccountRemoved(_) | InviteError::AddressLimit { .. })) => {
            render_member(&state, &admin, id, refuse(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn update_member(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<MemberForm>) -> Result<HttpResponse, AppError> {
    let id = account_id(&path)?;
    let MemberForm { display_name, security_email } = form.data;
    let (name, email) = match (DisplayName::parse(&display_name), optional_email(&security_email)) {
        (Ok(n), Ok(e)) => (n, e),
        (n, e) => {
            let forms = MemberForms {
                display_name_error: n.err().map(|e| e.message),
                security_email_error: e.err(),
                display_name: Some(display_name),
                security_email: Some(security_email),
                ..Default::default()
            };
            return render_member(&state, &admin, id, forms).await;
        }
    };
    let target = id.clone();
    match db::run(&state.pool, move |c| directory::update_account(c, &target, Some(&name), Some(email.as_ref()))).await {
        Ok(account) => Ok(redirect(&format!("/members/{}", account.id))),
        Err(e @ DirectoryError::AccountRemoved(_)) => Err(AppError::Conflict(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct MoveForm {
    destination: String,
}

async fn move_member(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<MoveForm>) -> Result<HttpResponse, AppError> {
    let id = account_id(&path)?;
    let refuse = |message: String| MemberForms { move_error: Some(message), ..Default::default() };
    let destination = match FolderId::parse(&form.data.destination) {
        Ok(d) => d,
        Err(e) => return render_member(&state, &admin, id, refuse(e.message)).await,
    };
    let target = id.clone();
    match db::run(&state.pool, move |c| crate::membership::move_account(c, &target, &destination)).await {
        Ok(account) => {
            tracing::info!(account.id = %account.id, folder.id = ?account.folder_id, "member moved");
            Ok(redirect(&format!("/members/{}", account.id)))
        }
        Err(e @ (DirectoryError::FolderNotFound(_) | DirectoryError::AccountRemoved(_) | DirectoryError::MoveBlocked(_))) => {
            render_member(&state, &admin, id, refuse(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn remove_member(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    path: web::Path<String>,
    _form: CsrfForm<serde::de::IgnoredAny>,
) -> Result<HttpResponse, AppError> {
    let id = account_id(&path)?;
    let account = db::run(&state.pool, move |c| directory::remove_account(c, &id)).await?;
    tracing::info!(account.id = %account.id, "member removed from the directory");
    Ok(redirect(&format!("/members/{}", account.id)))
}

#[derive(Deserialize)]
struct BindHereForm {
    contact: String,
}

/// Binds a contact to this folder (from the folder page).
async fn bind_to_folder(
    state: web::Data<AppState>,
    path: web::Path<String>,
    _admin: CurrentAdmin,
    form: CsrfForm<BindHereForm>,
) -> Result<HttpResponse, AppError> {
    let folder = folder_id(&path)?;
    let contact = ContactId::parse(&form.data.contact).map_err(|e| AppError::BadRequest(e.message))?;
    let target = vec![(TargetId::Folder(folder.clone()), folder.to_string())];
    let inline = state.settings.jobs.inline_limit;
    match db::run(&state.pool, move |c| bindings::bind(c, &contact, &target, inline)).await {
        Ok(_) => Ok(redirect(&format!("/folders/{folder}"))),
        Err(e @ (ContactError::NotActive(_) | ContactError::AlreadyBound(_) | ContactError::TooManyTargets { .. } | ContactError::NotFound(_))) => {
            Err(AppError::Conflict(e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}
