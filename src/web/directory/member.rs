//! A member's details: its place, its contacts and Message Center, its users, its forms.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use crate::audit::{self, AuditEvent};
use crate::auth::member_users::{self, InviteError, UserRow, UsersAndInvitations};
use crate::contacts::scope::{self, MemberContact};
use crate::db::{self};
use crate::directory::{self, Account, DirectoryError, Folder, FolderOption, KeptByVersion, ResourceDirectory, tags};
use crate::domain::{AccountId, DisplayName, EmailAddress, FolderId, MAX_TAGS, TaggedKind};
use crate::message_center::{self, MessageCenter};
use crate::state::AppState;
use crate::web::AppError;
use crate::web::audit::HISTORY_ROWS;
use crate::web::filters;
use crate::web::session::{CsrfForm, CurrentAdmin};
use crate::web::{Chrome, Reply, html, redirect};

use super::*;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/members/{id}", web::get().to(member_page))
        .route("/members/{id}/update", web::post().to(update_member))
        .route("/members/{id}/move", web::post().to(move_member))
        .route("/members/{id}/remove", web::post().to(remove_member))
        .route("/members/{id}/invite", web::post().to(invite_member_user))
        .route("/members/{id}/users/{user}/remove", web::post().to(remove_member_user))
        .route("/members/{id}/tags", web::post().to(tag_member))
        .route("/members/{id}/tags/remove", web::post().to(untag_member));
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
    /// What was typed to find a destination folder (large directories).
    move_query: String,
    tag_key: String,
    tag_value: String,
    tag_error: Option<String>,
}

#[derive(Template)]
#[template(path = "directory/member.html")]
struct MemberPage {
    chrome: Chrome,
    rd: ResourceDirectory,
    forms: MemberForms,
    /// Each user's state at the time of the view (an invitation may have expired since).
    users: Vec<UserRow>,
    view: Arc<MemberView>,
}

reads_its_view!(MemberPage => MemberView);

/// What a member's page shows, the same for every administrator: kept whole under the
/// read version, by member and what was typed to find a destination ([`MEMBER_VIEWS`]).
struct MemberView {
    account: Account,
    folder: Option<Folder>,
    ancestors: Vec<Folder>,
    folder_options: Vec<FolderOption>,
    /// The destinations are narrowed: the Move card offers a search.
    move_search: bool,
    mc: MessageCenter,
    /// The member users as read; [`MemberPage::users`] are their states at the view.
    kept_users: Arc<UsersAndInvitations>,
    effective: Vec<MemberContact>,
    tags: Vec<(String, String)>,
    max_tags: usize,
    audit: Vec<AuditEvent>,
    /// The types nobody receives for this member, and why.
    gaps: Vec<(&'static str, &'static str)>,
}

static MEMBER_VIEWS: KeptByVersion<Arc<MemberView>> = KeptByVersion::of_anything_up_to(64);

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
}

impl MemberView {
    fn audit_target(&self) -> &str {
        &self.account.id
    }
    fn option_label(&self, option: &FolderOption) -> String {
        format!("{}{}", "\u{a0}\u{a0}\u{a0}".repeat(option.depth.max(0) as usize), option.label)
    }
    fn tags_action(&self) -> String {
        format!("/members/{}/tags", self.account.id)
    }
    fn is_current_folder(&self, option: &FolderOption) -> bool {
        self.account.folder_id.as_deref() == Some(option.id.as_str())
    }
}

async fn render_member(state: &AppState, admin: &CurrentAdmin, id: AccountId, forms: MemberForms) -> Reply {
    let status = if forms.display_name_error.is_some()
        || forms.security_email_error.is_some()
        || forms.move_error.is_some()
        || forms.invite_error.is_some()
        || forms.tag_error.is_some()
    {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let move_query = forms.move_query.clone();
    let key = format!("{id}\n{move_query}");
    let view = MEMBER_VIEWS
        .run_kept(&state.pool, key, move |c| {
            // The breadcrumb runs down to the member's own folder.
            let (account, ancestors) = directory::get_account_and_path(c, &id)?;
            let folder = ancestors.last().cloned();
            let path = Folder::path_label(&ancestors);
            let options = if account.is_removed() {
                (Vec::new(), false)
            } else {
                directory::move_choices(c, folder.as_ref().map(|f| (f.id.as_str(), path.as_str())), &move_query)?
            };
            let (mc, contacts) = message_center::message_center_and_contacts(c, &account.id)?;
            let users = member_users::kept_users_of(c, &account.id)?;
            let effective = scope::member_contacts_of(c, contacts, &account.id, folder.as_ref().map(|f| f.path.as_str()), account.is_removed())?;
            let tags = tags::tags_of(c, TaggedKind::Account, std::slice::from_ref(&account.id))?.remove(&account.id).unwrap_or_default();
            let audit = audit::recent(c, &account.id, HISTORY_ROWS)?;
            let gap = crate::coverage::MemberGap {
                account_id: account.id.clone(),
                display_name: account.display_name.clone(),
                folder_id: account.folder_id.clone().unwrap_or_default(),
                gaps: mc.uncovered(),
            };
            let why = crate::coverage::reasons(c, std::slice::from_ref(&gap))?;
            let gaps = gap.gaps.iter().map(|t| (t.label(), why.get(&(gap.account_id.clone(), t)).map_or("no recipient", |r| r.label()))).collect();
            let (folder_options, move_search) = options;
            Ok::<_, AppError>(Arc::new(MemberView {
                account,
                folder,
                ancestors,
                folder_options,
                move_search,
                mc,
                kept_users: users,
                effective,
                tags,
                max_tags: MAX_TAGS,
                audit,
                gaps,
            }))
        })
        .await?;
    let chrome = Chrome::new(admin, "directory");
    let users = member_users::users_at(&view.kept_users, db::now_utc());
    html(status, &MemberPage { chrome, rd: (*state.directory).clone(), forms, users, view })
}

#[derive(Deserialize)]
struct MemberQuery {
    move_q: Option<String>,
}

async fn member_page(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, query: web::Query<MemberQuery>) -> Reply {
    let id = account_id(&path)?;
    let move_query = crate::web::render::search_text(query.move_q.as_deref())?;
    render_member(&state, &admin, id, MemberForms { move_query, ..MemberForms::default() }).await
}

#[derive(Deserialize)]
struct InviteForm {
    email: String,
}

async fn invite_member_user(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<InviteForm>) -> Reply {
    let id = account_id(&path)?;
    let typed = form.data.email;
    let refuse = |message: String| MemberForms { invite_email: Some(typed.clone()), invite_error: Some(message), ..Default::default() };
    let email = match EmailAddress::parse(&typed) {
        Ok(e) => e,
        Err(e) => return render_member(&state, &admin, id, refuse(e.message)).await,
    };
    let (account, who, url, secrets) = (id.to_string(), admin.username.clone(), state.settings.public_url.clone(), state.secrets.clone());
    let actor = admin.actor();
    match db::run(&state.pool, move |c| member_users::invite(c, &account, &email, &who, &url, &secrets, &actor)).await {
        Ok(user) => {
            admin.flash.say(format!("An invitation is on its way to {}. It can be used for 7 days.", user.email));
            Ok(redirect(&format!("/members/{id}")))
        }
        Err(e @ (InviteError::EmailTaken(_) | InviteError::AlreadyActive(_) | InviteError::AccountRemoved(_) | InviteError::AddressLimit { .. })) => {
            render_member(&state, &admin, id, refuse(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn update_member(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<MemberForm>) -> Reply {
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
    let actor = admin.actor();
    match db::run(&state.pool, move |c| directory::update_account(c, &target, Some(&name), Some(email.as_ref()), &actor)).await {
        Ok(account) => {
            admin.flash.say("Saved.");
            Ok(redirect(&format!("/members/{}", account.id)))
        }
        Err(e @ DirectoryError::AccountRemoved(_)) => Err(AppError::Conflict(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct MoveForm {
    destination: String,
}

async fn move_member(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<MoveForm>) -> Reply {
    let id = account_id(&path)?;
    let refuse = |message: String| MemberForms { move_error: Some(message), ..Default::default() };
    let destination = match FolderId::parse(&form.data.destination) {
        Ok(d) => d,
        Err(e) => return render_member(&state, &admin, id, refuse(e.message)).await,
    };
    let target = id.clone();
    let actor = admin.actor();
    match db::run(&state.pool, move |c| {
        let account = crate::membership::move_account(c, &target, &destination, &actor)?;
        Ok::<_, DirectoryError>((account, directory::get_folder(c, &destination)?))
    })
    .await
    {
        Ok((account, folder)) => {
            tracing::info!(account.id = %account.id, folder.id = ?account.folder_id, "member moved");
            let place = if folder.is_root() { "the root folder".to_owned() } else { folder.name };
            admin.flash.say(format!("{} is moved to {place}; its contacts follow the new folder.", account.display_name));
            Ok(redirect(&format!("/members/{}", account.id)))
        }
        Err(e @ (DirectoryError::FolderNotFound(_) | DirectoryError::AccountRemoved(_) | DirectoryError::MoveBlocked(_))) => {
            render_member(&state, &admin, id, refuse(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn remove_member_user(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<(String, i64)>, _form: CsrfForm) -> Reply {
    let (id, user) = path.into_inner();
    let id = account_id(&id)?;
    let (account, actor) = (id.to_string(), admin.actor());
    match db::run(&state.pool, move |c| member_users::remove_user(c, &account, user, &actor)).await {
        Ok(removed) => admin.flash.say(format!("{} no longer looks after this Message Center; their sessions ended.", removed.email)),
        Err(InviteError::Invalid) => admin.flash.say("That member user was already removed."),
        Err(e) => return Err(e.into()),
    }
    Ok(redirect(&format!("/members/{id}#users-title")))
}

async fn remove_member(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, _form: CsrfForm) -> Reply {
    let id = account_id(&path)?;
    let actor = admin.actor();
    let account = db::run(&state.pool, move |c| directory::remove_account(c, &id, &actor)).await?;
    tracing::info!(account.id = %account.id, "member removed from the directory");
    admin.flash.say(format!("{} is removed from the resource directory. Its record is kept.", account.display_name));
    Ok(redirect(&format!("/members/{}", account.id)))
}

// ---------------------------------------------------------------- tags

async fn tag_member(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<TagFields>) -> Reply {
    let id = account_id(&path)?;
    match set_tag(&state, admin.actor(), TaggedKind::Account, id.to_string(), &form.data).await? {
        Ok(notice) => {
            admin.flash.say(notice);
            Ok(redirect(&format!("/members/{id}#tags")))
        }
        Err(error) => {
            let forms = MemberForms { tag_key: form.data.key.clone(), tag_value: form.data.value.clone(), tag_error: Some(error), ..Default::default() };
            render_member(&state, &admin, id, forms).await
        }
    }
}

async fn untag_member(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<TagKeyField>) -> Reply {
    let id = account_id(&path)?;
    admin.flash.say(remove_tag(&state, admin.actor(), TaggedKind::Account, id.to_string(), &form.data).await?);
    Ok(redirect(&format!("/members/{id}#tags")))
}
