use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::session::{self, AnyUser, CsrfForm};
use super::{html, redirect};
use crate::auth::{AuthError, admins, member_users};
use crate::db;
use crate::errors::AppError;
use crate::startup::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout));
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    csrf: String,
    username: String,
    next: String,
    error: Option<String>,
}

/// One of two outcomes, without a crate for it.
mod either {
    pub enum Either<L, R> {
        Left(L),
        Right(R),
    }
    pub use Either::{Left, Right};
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Only same-site paths, so the sign-in page cannot send anyone elsewhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n.to_owned(),
        _ => "/directory".to_owned(),
    }
}

async fn login_page(session: Session, query: web::Query<NextQuery>) -> Result<HttpResponse, AppError> {
    let page = LoginPage { csrf: session::csrf_token(&session)?, username: String::new(), next: safe_next(query.next.as_deref()), error: None };
    html(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn login(state: web::Data<AppState>, session: Session, form: CsrfForm<LoginForm>) -> Result<HttpResponse, AppError> {
    let LoginForm { username, password, next } = form.data;
    let name = username.clone();
    // Administrators sign in with a user name, member users with their email.
    let outcome = if username.contains('@') {
        db::run(&state.pool, move |c| member_users::verify_login(c, &name, &password)).await.map(either::Right)
    } else {
        db::run(&state.pool, move |c| admins::verify_login(c, &name, &password)).await.map(either::Left)
    };
    match outcome {
        Ok(either::Left(admin)) => {
            session::sign_in(&session, admin.id, &admin.username)?;
            tracing::info!(admin.id = admin.id, "administrator signed in");
            Ok(redirect(&safe_next(next.as_deref())))
        }
        Ok(either::Right(user)) => {
            session::sign_in_member(&session, user.id, &user.account_id, &user.email)?;
            tracing::info!(member_user.id = user.id, "member user signed in");
            Ok(redirect("/my/message-center"))
        }
        Err(AuthError::BadCredentials) => {
            let page = LoginPage { csrf: session::csrf_token(&session)?, username, next: safe_next(next.as_deref()), error: Some(AuthError::BadCredentials.to_string()) };
            html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

async fn logout(session: Session, _user: AnyUser, _form: CsrfForm<serde::de::IgnoredAny>) -> HttpResponse {
    session::sign_out(&session);
    redirect("/login")
}
