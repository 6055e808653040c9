//! The console: actix handlers and askama pages, grouped like the pages. Handlers read
//! top to bottom: extract, parse, one service call, then a redirect or a page.

mod auth;
mod confirm;
mod contacts;
mod directory;
pub mod error;
mod message_center;
mod notifications;
mod outbox;
mod render;
pub mod session;

pub use error::AppError;
mod verify;

use actix_web::{HttpRequest, HttpResponse, web};

pub use render::{Chrome, html, redirect, redirect_for};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(actix_files::Files::new("/static", static_dir()).prefer_utf8(true))
        .route("/healthz", web::get().to(healthz))
        .configure(auth::routes)
        .configure(directory::routes)
        .configure(contacts::routes)
        .configure(verify::routes)
        .configure(confirm::routes)
        .configure(message_center::routes)
        .configure(notifications::routes)
        .configure(outbox::routes)
        .default_service(web::to(not_found));
}

/// Static assets ship in the repository; found next to Cargo.toml when run from the
/// source tree, or through `RDC_STATIC_DIR`.
fn static_dir() -> String {
    std::env::var("RDC_STATIC_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/static").to_owned())
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, crate::web::AppError> {
    Err(crate::web::AppError::NotFound(format!("There is no page at {}.", req.path())))
}
