//! The Outbox: the messages the file mailer wrote, so that a newcomer can follow a
//! verification link without any mail server; and a test email to check the set-up.

use crate::web::Reply;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::session::{CsrfForm, CurrentAdmin};
use super::{Chrome, html, redirect};
use crate::db;
use crate::domain::{EmailAddress, PageRequest};
use crate::jobs::{JobError, send_email};
use crate::mail::{self, Email, OutboxMessage};
use crate::state::AppState;
use crate::web::AppError;
use crate::web::filters;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/outbox", web::get().to(outbox))
        .route("/outbox/test", web::post().to(send_test))
        .route("/outbox/{id}", web::get().to(message))
        .route("/outbox/{id}/html", web::get().to(message_html));
}

const PER_PAGE: i64 = 25;

#[derive(Template)]
#[template(path = "outbox/list.html")]
struct OutboxPage {
    chrome: Chrome,
    transport: String,
    file_outbox: bool,
    messages: Vec<OutboxMessage>,
    page: i64,
    pages: i64,
    total: usize,
    test_to: String,
    test_error: Option<String>,
}

#[derive(Deserialize)]
struct OutboxQuery {
    page: Option<i64>,
}

async fn render_outbox(state: &AppState, admin: &CurrentAdmin, page: Option<i64>, test_to: String, test_error: Option<String>) -> Reply {
    let request = PageRequest::with_size(page, PER_PAGE);
    let (messages, total) = match state.mailer.outbox_dir() {
        Some(dir) => {
            let dir = dir.to_owned();
            let offset = request.offset() as usize;
            web::block(move || mail::read_outbox(&dir, offset, PER_PAGE as usize)).await.map_err(AppError::internal)?.map_err(AppError::internal)?
        }
        None => (Vec::new(), 0),
    };
    let transport = format!("{:?}", state.mailer);
    let status = if test_error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = OutboxPage {
        chrome: Chrome::new(admin, "outbox"),
        transport,
        file_outbox: state.mailer.outbox_dir().is_some(),
        messages,
        page: request.number,
        pages: ((total as i64 + PER_PAGE - 1) / PER_PAGE).max(1),
        total,
        test_to,
        test_error,
    };
    html(status, &page)
}

async fn outbox(state: web::Data<AppState>, admin: CurrentAdmin, query: web::Query<OutboxQuery>) -> Reply {
    render_outbox(&state, &admin, query.page, String::new(), None).await
}

/// A piece of a message's text: plain, or a link (http or https) to click.
struct Piece {
    text: String,
    link: bool,
}

/// The text part cut into plain pieces and links, so that the link in a verification
/// email can be followed from the Outbox.
fn pieces(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = ["https://", "http://"].iter().filter_map(|p| rest.find(p)).min() {
        let end = rest[start..].find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"')).map_or(rest.len(), |e| start + e);
        // A sentence's last full stop or comma is not part of the link.
        let end = start + rest[start..end].trim_end_matches(['.', ',', ')', ';']).len();
        out.push(Piece { text: rest[..start].to_owned(), link: false });
        out.push(Piece { text: rest[start..end].to_owned(), link: true });
        rest = &rest[end..];
    }
    out.push(Piece { text: rest.to_owned(), link: false });
    out
}

#[derive(Template)]
#[template(path = "outbox/message.html")]
struct MessagePage {
    chrome: Chrome,
    message: OutboxMessage,
    text: Vec<Piece>,
}

async fn read_message(state: &AppState, id: String) -> Result<OutboxMessage, AppError> {
    let Some(dir) = state.mailer.outbox_dir().map(|d| d.to_owned()) else {
        return Err(AppError::NotFound("This server sends email through SMTP; it keeps no outbox.".into()));
    };
    let found = web::block(move || mail::read_outbox_message(&dir, &id)).await.map_err(AppError::internal)?.map_err(AppError::internal)?;
    found.ok_or_else(|| AppError::NotFound("There is no such message in the outbox.".into()))
}

async fn message(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>) -> Reply {
    let message = read_message(&state, path.into_inner()).await?;
    let text = pieces(&message.email.text);
    html(StatusCode::OK, &MessagePage { chrome: Chrome::new(&admin, "outbox"), message, text })
}

/// A message's HTML part, as its recipient's mail program would show it: in a sandboxed
/// frame of the message's page, where it can run nothing and load nothing from elsewhere.
async fn message_html(state: web::Data<AppState>, _admin: CurrentAdmin, path: web::Path<String>) -> Reply {
    let message = read_message(&state, path.into_inner()).await?;
    Ok(actix_web::HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"))
        .insert_header(("X-Frame-Options", "SAMEORIGIN"))
        .body(message.email.html))
}

#[cfg(test)]
mod tests {
    use super::pieces;

    #[test]
    fn links_in_a_message_are_cut_out_without_the_sentences_punctuation() {
        let p = pieces("Open https://rdc.example/verify/abc. Or http://x.test/y, then stop.");
        let links: Vec<&str> = p.iter().filter(|p| p.link).map(|p| p.text.as_str()).collect();
        assert_eq!(links, ["https://rdc.example/verify/abc", "http://x.test/y"]);
        assert_eq!(p.iter().map(|p| p.text.as_str()).collect::<String>(), "Open https://rdc.example/verify/abc. Or http://x.test/y, then stop.");
    }
}

#[derive(Template)]
#[template(path = "emails/test.txt")]
struct TestEmailText<'a> {
    console_url: &'a str,
}

#[derive(Template)]
#[template(path = "emails/test.html")]
struct TestEmailHtml<'a> {
    console_url: &'a str,
}

#[derive(Deserialize)]
struct TestForm {
    to: String,
}

async fn send_test(state: web::Data<AppState>, admin: CurrentAdmin, form: CsrfForm<TestForm>) -> Reply {
    let to = match EmailAddress::parse(&form.data.to) {
        Ok(to) => to,
        Err(e) => return render_outbox(&state, &admin, None, form.data.to, Some(e.message)).await,
    };
    let console_url = state.settings.public_url.as_str();
    let email = Email {
        to: to.as_str().to_owned(),
        subject: "rd-contacts test email".into(),
        text: TestEmailText { console_url }.render()?,
        html: TestEmailHtml { console_url }.render()?,
    };
    let typed = form.data.to.clone();
    match db::run(&state.pool, move |c| Ok::<_, JobError>(send_email::enqueue_limited(c, &email)?)).await? {
        Ok(_) => {
            admin.flash.say(format!("A test email is on its way to {typed}."));
            Ok(redirect("/outbox"))
        }
        Err(limit) => {
            let message = format!(
                "At most {} emails a minute can go to one address. Try again after {}.",
                crate::limits::MAIL_PER_ADDRESS.max,
                crate::domain::when_utc(limit.retry_at)
            );
            render_outbox(&state, &admin, None, typed, Some(message)).await
        }
    }
}
