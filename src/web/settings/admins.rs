//! Settings → Administrators: who may sign in to the console and what each may do; add one
//! with a password, change a role, reset another's password (their sessions end), remove
//! (never the last administrator who can change things).

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use crate::auth::admin_invitations::{self, AdminInviteError, Pending};
use crate::auth::admins::{self, Admin};
use crate::auth::{AuthError, Role};
use crate::db;
use crate::domain::{EmailAddress, Password, Username};
use crate::state::AppState;
use crate::web::filters;
use crate::web::session::{CsrfForm, CurrentAdmin};
use crate::web::{Chrome, Reply, html, redirect};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/administrators", web::get().to(page))
        .route("/settings/administrators", web::post().to(add))
        .route("/settings/administrators/{id}/role", web::post().to(set_role))
        .route("/settings/administrators/{id}/password", web::post().to(reset_password))
        .route("/settings/administrators/{id}/remove", web::post().to(remove))
        .route("/settings/administrators/invite", web::post().to(invite));
}

/// The add or invite form as typed, with its messages.
#[derive(Debug, Default)]
struct AddForm {
    username: String,
    email: String,
    role: String,
    /// (form, field, message): form is "add" or "invite".
    error: Option<(&'static str, &'static str, String)>,
}

#[derive(Template)]
#[template(path = "settings/admins.html")]
struct AdminsPage {
    chrome: Chrome,
    admins: Vec<Admin>,
    pending: Vec<Pending>,
    now: time::PrimitiveDateTime,
    me: i32,
    add: AddForm,
    /// A row's refused change: (administrator, message).
    row_error: Option<(i32, String)>,
}

impl AdminsPage {
    fn roles(&self) -> [Role; 2] {
        Role::ALL
    }
    fn add_error(&self, field: &str) -> Option<&str> {
        self.error_of("add", field)
    }
    fn invite_error(&self, field: &str) -> Option<&str> {
        self.error_of("invite", field)
    }
    fn error_of(&self, form: &str, field: &str) -> Option<&str> {
        self.add.error.as_ref().filter(|(f, name, _)| *f == form && *name == field).map(|(_, _, m)| m.as_str())
    }
    fn typed(&self, form: &str) -> (&str, &str) {
        match &self.add.error {
            Some((f, _, _)) if *f == form => (&self.add.username, &self.add.role),
            _ => ("", Role::Admin.as_str()),
        }
    }
    /// Where an invited administrator's newest link went, while they have no password.
    fn pending_of(&self, id: &i32) -> Option<&Pending> {
        self.pending.iter().find(|p| p.admin_id == *id)
    }
    fn row_error_of(&self, id: &i32) -> Option<&str> {
        self.row_error.as_ref().filter(|(a, _)| a == id).map(|(_, m)| m.as_str())
    }
}

async fn render(state: &AppState, admin: &CurrentAdmin, add: AddForm, row_error: Option<(i32, String)>) -> Reply {
    let (admins, pending) = db::run(&state.pool, |c| Ok::<_, AuthError>((admins::list_admins(c)?, admin_invitations::pending(c)?))).await?;
    let status = if add.error.is_some() || row_error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let chrome = Chrome::new(admin, "settings");
    html(status, &AdminsPage { chrome, admins, pending, now: db::now_utc(), me: admin.id, add, row_error })
}

async fn page(state: web::Data<AppState>, admin: CurrentAdmin) -> Reply {
    render(&state, &admin, AddForm::default(), None).await
}

#[derive(Deserialize)]
struct AddFields {
    username: String,
    password: String,
    role: String,
}

async fn add(state: web::Data<AppState>, admin: CurrentAdmin, form: CsrfForm<AddFields>) -> Reply {
    let AddFields { username, password, role } = form.data;
    let refuse = |field: &'static str, message: String| AddForm {
        username: username.clone(),
        email: String::new(),
        role: role.clone(),
        error: Some(("add", field, message)),
    };
    let name = match Username::parse(&username) {
        Ok(n) => n,
        Err(e) => return render(&state, &admin, refuse("username", e.message), None).await,
    };
    let password = match Password::parse_for(&password, &[name.as_str()]) {
        Ok(p) => p,
        Err(e) => return render(&state, &admin, refuse("password", e.message), None).await,
    };
    let role = match Role::parse(&role) {
        Ok(r) => r,
        Err(e) => return render(&state, &admin, refuse("role", e.message), None).await,
    };
    // Hashed before the transaction: no connection waits on argon2.
    let hash = state.hasher.hash(password.expose()).await?;
    let (n, actor) = (name.clone(), admin.actor());
    match db::run(&state.pool, move |c| admins::insert_admin(c, &n, &hash, role, &actor)).await {
        Ok(added) => {
            admin.flash.say(format!("{} can now sign in, as {}.", added.username, role.as_str()));
            Ok(redirect("/settings/administrators"))
        }
        Err(e @ AuthError::UsernameTaken(_)) => render(&state, &admin, refuse("username", e.to_string()), None).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct InviteFields {
    username: String,
    email: String,
    role: String,
}

async fn invite(state: web::Data<AppState>, admin: CurrentAdmin, form: CsrfForm<InviteFields>) -> Reply {
    let InviteFields { username, email, role } = form.data;
    let refuse = |field: &'static str, message: String| AddForm {
        username: username.clone(),
        email: email.clone(),
        role: role.clone(),
        error: Some(("invite", field, message)),
    };
    let name = match Username::parse(&username) {
        Ok(n) => n,
        Err(e) => return render(&state, &admin, refuse("username", e.message), None).await,
    };
    let address = match EmailAddress::parse(&email) {
        Ok(a) => a,
        Err(e) => return render(&state, &admin, refuse("email", e.message), None).await,
    };
    let parsed_role = match Role::parse(&role) {
        Ok(r) => r,
        Err(e) => return render(&state, &admin, refuse("role", e.message), None).await,
    };
    let (url, secrets, actor) = (state.settings.public_url.clone(), state.secrets.clone(), admin.actor());
    let to = address.clone();
    match db::run(&state.pool, move |c| admin_invitations::invite(c, &name, &to, parsed_role, &url, &secrets, &actor)).await {
        Ok(invited) => {
            admin.flash.say(format!("An invitation for {} is on its way to {}; the link works for seven days.", invited.username, address.as_str()));
            Ok(redirect("/settings/administrators"))
        }
        Err(e @ AdminInviteError::UsernameTaken(_)) => render(&state, &admin, refuse("username", e.to_string()), None).await,
        Err(e @ AdminInviteError::AddressLimit { .. }) => render(&state, &admin, refuse("email", e.to_string()), None).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct RoleField {
    role: String,
}

async fn set_role(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<i32>, form: CsrfForm<RoleField>) -> Reply {
    let id = path.into_inner();
    let role = match Role::parse(&form.data.role) {
        Ok(r) => r,
        Err(e) => return render(&state, &admin, AddForm::default(), Some((id, e.message))).await,
    };
    let actor = admin.actor();
    match db::run(&state.pool, move |c| admins::set_role(c, id, role, &actor)).await {
        Ok(changed) => {
            admin.flash.say(format!("{} is now {}; their sessions ended, and the next sign-in has the new role.", changed.username, role.as_str()));
            Ok(redirect("/settings/administrators"))
        }
        Err(e @ AuthError::LastAdmin(_)) => render(&state, &admin, AddForm::default(), Some((id, e.to_string()))).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct PasswordFields {
    password: String,
    password_again: String,
}

async fn reset_password(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<i32>, form: CsrfForm<PasswordFields>) -> Reply {
    let id = path.into_inner();
    let target = db::run(&state.pool, move |c| admins::get_admin(c, id)).await?;
    let PasswordFields { password, password_again } = form.data;
    let password = match Password::parse_for(&password, &[&target.username]) {
        Ok(_) if password != password_again => {
            return render(&state, &admin, AddForm::default(), Some((id, "The two passwords are not the same.".into()))).await;
        }
        Ok(p) => p,
        Err(e) => return render(&state, &admin, AddForm::default(), Some((id, e.message))).await,
    };
    let hash = state.hasher.hash(password.expose()).await?;
    let actor = admin.actor();
    let changed = db::run(&state.pool, move |c| admins::reset_password(c, id, &hash, &actor)).await?;
    admin.flash.say(format!("{} has a new password; their sessions ended. Tell them the password another way than email.", changed.username));
    if changed.id == admin.id {
        return Ok(redirect("/login"));
    }
    Ok(redirect("/settings/administrators"))
}

async fn remove(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<i32>, _form: CsrfForm) -> Reply {
    let id = path.into_inner();
    let actor = admin.actor();
    match db::run(&state.pool, move |c| admins::remove_admin(c, id, &actor)).await {
        Ok(removed) => {
            admin.flash.say(format!("{} is removed and signed out.", removed.username));
            Ok(redirect(if removed.id == admin.id { "/login" } else { "/settings/administrators" }))
        }
        Err(e @ AuthError::LastAdmin(_)) => render(&state, &admin, AddForm::default(), Some((id, e.to_string()))).await,
        Err(e) => Err(e.into()),
    }
}
