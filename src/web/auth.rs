use crate::web::Reply;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::session::{self, AnyUser, CsrfForm, CurrentUser};
use super::{Chrome, html, redirect};
use crate::auth::login::{self, LoginError, Principal};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout))
        .route("/password", web::get().to(password_page))
        .route("/password", web::post().to(change_password));
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    csrf: String,
    username: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Only same-site paths, so the sign-in page cannot send anyone elsewhere.
fn safe_next(next: Option<&str>) -> String {
    next.and_then(super::render::local_path).unwrap_or("/directory").to_owned()
}

async fn login_page(session: Session, query: web::Query<NextQuery>) -> Reply {
    let page = LoginPage { csrf: session::csrf_token(&session)?, username: String::new(), next: safe_next(query.next.as_deref()), error: None };
    html(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn login(state: web::Data<AppState>, req: HttpRequest, session: Session, form: CsrfForm<LoginForm>) -> Reply {
    let LoginForm { username, password, next } = form.data;
    let client = req.peer_addr().map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string());
    match login::sign_in(&state.pool, &state.hasher, &username, &password, &client, crate::state::RequestId::of(&req)).await {
        Ok(Principal::Admin(admin)) => {
            session::sign_in(&session, admin.id, &admin.username, admin.role(), admin.session_epoch)?;
            tracing::info!(admin.id = admin.id, "administrator signed in");
            Ok(redirect(&safe_next(next.as_deref())))
        }
        Ok(Principal::Member(user)) => {
            session::sign_in_member(&session, user.id, &user.account_id, &user.email, user.session_epoch)?;
            tracing::info!(member_user.id = user.id, "member user signed in");
            Ok(redirect("/my/message-center"))
        }
        Err(e @ (LoginError::BadCredentials | LoginError::Throttled(_))) => {
            let page = LoginPage { csrf: session::csrf_token(&session)?, username, next: safe_next(next.as_deref()), error: Some(e.to_string()) };
            let mut resp = html(if matches!(e, LoginError::Throttled(_)) { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::UNPROCESSABLE_ENTITY }, &page)?;
            if let LoginError::Throttled(limit) = e {
                resp.headers_mut().insert(actix_web::http::header::RETRY_AFTER, limit.retry_after_seconds().into());
            }
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

async fn logout(session: Session, _user: AnyUser, _form: CsrfForm) -> HttpResponse {
    session::sign_out(&session);
    redirect("/login")
}

#[derive(Template)]
#[template(path = "auth/password.html")]
struct PasswordPage {
    chrome: Chrome,
    error: Option<String>,
}

fn chrome_of(user: &CurrentUser) -> Chrome {
    match user {
        CurrentUser::Admin(a) => Chrome::new(a, "password"),
        CurrentUser::Member(m) => Chrome::member(m),
    }
}

async fn password_page(user: CurrentUser) -> Reply {
    html(StatusCode::OK, &PasswordPage { chrome: chrome_of(&user), error: None })
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    again: String,
}

async fn change_password(state: web::Data<AppState>, session: Session, user: CurrentUser, form: CsrfForm<PasswordForm>) -> Reply {
    let PasswordForm { current, new, again } = form.data;
    let (who, name) = match &user {
        CurrentUser::Admin(a) => (login::Who::Admin(a.id), a.username.clone()),
        CurrentUser::Member(m) => (login::Who::Member(m.user_id), m.email.clone()),
    };
    let refuse = |status, error: String| html(status, &PasswordPage { chrome: chrome_of(&user), error: Some(error) });
    let new = match crate::domain::Password::parse_for(&new, &[&name]) {
        Err(e) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, e.message),
        Ok(_) if new != again => return refuse(StatusCode::UNPROCESSABLE_ENTITY, "The two new passwords are not the same".into()),
        Ok(p) => p,
    };
    match login::change_password(&state.pool, &state.hasher, who, &name, &current, &new, &user.actor()).await {
        Ok(epoch) => {
            session::keep_after_password_change(&session, epoch)?;
            user.flash().say("Your password is changed. Your other sessions have ended.");
            Ok(redirect("/password"))
        }
        Err(LoginError::BadCredentials) => refuse(StatusCode::UNPROCESSABLE_ENTITY, "The current password is not correct".into()),
        Err(LoginError::Throttled(limit)) => {
            let mut resp = refuse(StatusCode::TOO_MANY_REQUESTS, LoginError::Throttled(limit).to_string())?;
            resp.headers_mut().insert(actix_web::http::header::RETRY_AFTER, limit.retry_after_seconds().into());
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}
