//! The public verification link (rule C6): the GET shows whose address is being
//! verified and a Confirm button; the POST confirms. No sign-in.

use crate::web::Reply;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;

use super::html;
use super::session::{self, CsrfForm};
use crate::contacts::{self, VerificationView, VerifyError};
use crate::db;
use crate::domain::Token;
use crate::state::AppState;
use crate::web::filters;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/verify/{token}", web::get().to(show)).route("/verify/{token}", web::post().to(confirm));
}

#[derive(Template)]
#[template(path = "verify/confirm.html")]
struct ConfirmPage {
    csrf: String,
    token: String,
    view: VerificationView,
}

#[derive(Template)]
#[template(path = "verify/done.html")]
struct DonePage {
    name: String,
    address: String,
}

#[derive(Template)]
#[template(path = "verify/expired.html")]
struct ExpiredPage {
    view: VerificationView,
}

#[derive(Template)]
#[template(path = "verify/invalid.html")]
struct InvalidPage;

fn refusal(e: VerifyError) -> Reply {
    match e {
        VerifyError::Invalid => html(StatusCode::NOT_FOUND, &InvalidPage),
        VerifyError::Expired(view) => html(StatusCode::GONE, &ExpiredPage { view }),
        VerifyError::Storage(s) => Err(s.into()),
    }
}

async fn show(state: web::Data<AppState>, session: Session, path: web::Path<String>) -> Reply {
    let Ok(token) = Token::parse(&path) else { return refusal(VerifyError::Invalid) };
    let raw = token.expose().to_owned();
    match db::run(&state.pool, move |c| contacts::lookup(c, &token)).await {
        Ok(view) => html(StatusCode::OK, &ConfirmPage { csrf: session::csrf_token(&session)?, token: raw, view }),
        Err(e) => refusal(e),
    }
}

async fn confirm(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>, _form: CsrfForm) -> Reply {
    let Ok(token) = Token::parse(&path) else { return refusal(VerifyError::Invalid) };
    let request_id = crate::state::RequestId::of(&req);
    match db::run(&state.pool, move |c| contacts::confirm(c, &token, request_id)).await {
        Ok(contact) => html(StatusCode::OK, &DonePage { name: contact.name, address: contact.email }),
        Err(e) => refusal(e),
    }
}
