//! `GET /metrics`: the Prometheus text format (see `crate::observability`). With
//! `RDC_METRICS_TOKEN` set it answers only `Authorization: Bearer <token>`; without it, only
//! requests made directly from this machine (a loopback peer and no proxy's forwarding
//! headers), so that a console published through a reverse proxy does not publish it too.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;

use crate::db;
use crate::errors::StorageError;
use crate::observability;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics));
}

/// Why this request may not read the metrics, if it may not.
fn refusal(req: &HttpRequest, token: Option<&[u8]>) -> Option<HttpResponse> {
    match token {
        Some(token) => {
            let given = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
            if given.is_some_and(|g| super::session::constant_time_eq(g.trim().as_bytes(), token)) {
                None
            } else {
                Some(
                    HttpResponse::Unauthorized()
                        .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
                        .body("Send the metrics token: Authorization: Bearer <RDC_METRICS_TOKEN>.\n"),
                )
            }
        }
        None => {
            let direct = req.peer_addr().is_some_and(|a| a.ip().is_loopback());
            let proxied = ["forwarded", "x-forwarded-for", "x-real-ip"].iter().any(|h| req.headers().contains_key(*h));
            if direct && !proxied {
                None
            } else {
                Some(HttpResponse::Forbidden().body("Metrics are served to this machine only: set RDC_METRICS_TOKEN to read them from elsewhere.\n"))
            }
        }
    }
}

async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, crate::web::AppError> {
    if let Some(refused) = refusal(&req, state.settings.metrics_token.as_ref().map(|t| t.expose_secret())) {
        return Ok(refused);
    }
    db::run(&state.pool, |c| Ok::<_, StorageError>(observability::scrape(c)?)).await?;
    observability::pool(state.pool.state());
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(observability::render()))
}
