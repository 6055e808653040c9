//! The public link of an administrator's invitation: the GET shows who invited whom and a
//! password form; the POST sets the password and signs the new administrator in.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;

use super::session::{self, CsrfForm};
use super::{Reply, html, redirect};
use crate::auth::admin_invitations::{self, AdminInvitationView, AdminInviteError};
use crate::db;
use crate::domain::{Password, Token};
use crate::state::AppState;
use crate::web::filters;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin-invite/{token}", web::get().to(show)).route("/admin-invite/{token}", web::post().to(accept));
}

#[derive(Template)]
#[template(path = "admin_invite/accept.html")]
struct AcceptPage {
    csrf: String,
    token: String,
    view: AdminInvitationView,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_invite/expired.html")]
struct ExpiredPage {
    view: AdminInvitationView,
}

#[derive(Template)]
#[template(path = "admin_invite/invalid.html")]
struct InvalidPage;

fn refusal(e: AdminInviteError) -> Reply {
    match e {
        AdminInviteError::Invalid => html(StatusCode::NOT_FOUND, &InvalidPage),
        AdminInviteError::Expired(view) => html(StatusCode::GONE, &ExpiredPage { view }),
        other => Err(other.into()),
    }
}

async fn show(state: web::Data<AppState>, session: Session, path: web::Path<String>) -> Reply {
    let Ok(token) = Token::parse(&path) else { return refusal(AdminInviteError::Invalid) };
    let raw = token.expose().to_owned();
    match db::run(&state.pool, move |c| admin_invitations::invitation(c, &token)).await {
        Ok(view) => html(StatusCode::OK, &AcceptPage { csrf: session::csrf_token(&session)?, token: raw, view, error: None }),
        Err(e) => refusal(e),
    }
}

async fn accept(state: web::Data<AppState>, req: HttpRequest, session: Session, path: web::Path<String>, form: CsrfForm) -> Reply {
    let Ok(token) = Token::parse(&path) else { return refusal(AdminInviteError::Invalid) };
    let field = |name: &str| form.pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str());
    let (password, again) = (field("password"), field("password_again"));
    let lookup = token.clone();
    let view = match db::run(&state.pool, move |c| admin_invitations::invitation(c, &lookup)).await {
        Ok(view) => view,
        Err(e) => return refusal(e),
    };
    let problem = match Password::parse_for(password, &[&view.username, &view.email]) {
        Err(e) => Some(e.message),
        Ok(_) if password != again => Some("The two passwords are not the same".to_owned()),
        Ok(_) => None,
    };
    if let Some(error) = problem {
        let page = AcceptPage { csrf: session::csrf_token(&session)?, token: token.expose().to_owned(), view, error: Some(error) };
        return html(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    // Hashed before the transaction: no connection waits on argon2.
    let hash = state.hasher.hash(password).await?;
    let request_id = crate::state::RequestId::of(&req);
    match db::run(&state.pool, move |c| admin_invitations::accept(c, &token, &hash, request_id)).await {
        Ok(admin) => {
            session::sign_in(&session, admin.id, &admin.username, admin.role(), admin.session_epoch)?;
            Ok(redirect("/directory"))
        }
        Err(e) => refusal(e),
    }
}
