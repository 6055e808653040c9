//! The console: actix handlers and askama pages, grouped like the pages. Handlers read
//! top to bottom: extract, parse, one service call, then a redirect or a page.

/// A page whose template reads the fields of its kept view (`view: Arc<…>`, shared by
/// every administrator: `KeptByVersion::run_kept`) as its own.
macro_rules! reads_its_view {
    ($page:ty => $view:ty) => {
        impl std::ops::Deref for $page {
            type Target = $view;
            fn deref(&self) -> &$view {
                &self.view
            }
        }
    };
}

mod admin_invite;
mod audit;
mod auth;
mod confirm;
mod contacts;
mod coverage;
pub(crate) mod directory;
pub mod error;
mod health;
mod message_center;
mod metrics;
mod notifications;
mod outbox;
mod render;
pub mod session;
mod settings;
mod tasks;

pub use error::AppError;

/// What a console handler answers: a page, a fragment or a redirect, or an error page.
pub type Reply = Result<HttpResponse, AppError>;
mod verify;

use actix_web::{HttpRequest, HttpResponse, web};

pub use render::{Chrome, filters, html, redirect, redirect_for};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(actix_files::Files::new("/static", static_dir()).prefer_utf8(true))
        .route("/healthz", web::get().to(healthz))
        .configure(admin_invite::routes)
        .configure(audit::routes)
        .configure(health::routes)
        .configure(metrics::routes)
        .configure(auth::routes)
        .configure(directory::routes)
        .configure(contacts::routes)
        .configure(coverage::routes)
        .configure(settings::routes)
        .configure(verify::routes)
        .configure(confirm::routes)
        .configure(message_center::routes)
        .configure(notifications::routes)
        .configure(outbox::routes)
        .configure(tasks::routes)
        .default_service(web::to(not_found));
}

/// Static assets ship in the repository; found next to Cargo.toml when run from the
/// source tree, or through `RDC_STATIC_DIR`.
fn static_dir() -> String {
    std::env::var("RDC_STATIC_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/static").to_owned())
}

/// A short hash of the static files as served: pages link `/static/app.css?v=<it>`, so a
/// browser may keep an asset for good and still gets the new one after an upgrade.
pub fn asset_version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        use sha2::{Digest, Sha256};
        let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(static_dir()).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        names.sort();
        let mut h = Sha256::new();
        for name in names {
            h.update(name.file_name().map(|n| n.as_encoded_bytes()).unwrap_or_default());
            h.update(std::fs::read(&name).unwrap_or_default());
        }
        hex::encode(&h.finalize()[..6])
    })
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, crate::web::AppError> {
    Err(crate::web::AppError::NotFound(format!("There is no page at {}.", req.path())))
}
