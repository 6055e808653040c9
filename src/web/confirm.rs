//! The public link that confirms an address a member user added (rule M6): the GET shows
//! what the address will receive and a Confirm button; the POST confirms. No sign-in.

use crate::web::Reply;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;

use super::html;
use super::session::{self, CsrfForm};
use crate::db;
use crate::domain::Token;
use crate::message_center::verification::{self, LinkError, LinkView};
use crate::state::AppState;
use crate::web::filters;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/confirm/{token}", web::get().to(show)).route("/confirm/{token}", web::post().to(confirm));
}

#[derive(Template)]
#[template(path = "confirm/confirm.html")]
struct ConfirmPage {
    csrf: String,
    token: String,
    view: LinkView,
}

#[derive(Template)]
#[template(path = "confirm/done.html")]
struct DonePage {
    view: LinkView,
}

#[derive(Template)]
#[template(path = "confirm/expired.html")]
struct ExpiredPage {
    view: LinkView,
}

#[derive(Template)]
#[template(path = "confirm/invalid.html")]
struct InvalidPage;

fn refusal(e: LinkError) -> Reply {
    match e {
        LinkError::Invalid => html(StatusCode::NOT_FOUND, &InvalidPage),
        LinkError::Expired(view) => html(StatusCode::GONE, &ExpiredPage { view }),
        LinkError::Storage(s) => Err(s.into()),
    }
}

async fn show(state: web::Data<AppState>, session: Session, path: web::Path<String>) -> Reply {
    let Ok(token) = Token::parse(&path) else { return refusal(LinkError::Invalid) };
    let raw = token.expose().to_owned();
    match db::run(&state.pool, move |c| verification::lookup(c, &token)).await {
        Ok(view) => html(StatusCode::OK, &ConfirmPage { csrf: session::csrf_token(&session)?, token: raw, view }),
        Err(e) => refusal(e),
    }
}

async fn confirm(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>, _form: CsrfForm) -> Reply {
    let Ok(token) = Token::parse(&path) else { return refusal(LinkError::Invalid) };
    let request_id = crate::state::RequestId::of(&req);
    match db::run(&state.pool, move |c| verification::confirm(c, &token, request_id)).await {
        Ok(view) => html(StatusCode::OK, &DonePage { view }),
        Err(e) => refusal(e),
    }
}
