//! `/healthz` (the process answers) and `/readyz` (the database is reachable, this build's
//! migrations are applied and the job workers run), for load balancers and orchestrators.
//! Neither needs a session; neither says more than which check failed.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::db;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz)).route("/readyz", web::get().to(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body("ok\n")
}

/// How long `/readyz` waits for a database connection before it says the database cannot be reached.
const DATABASE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let (pool, url) = (state.pool.clone(), state.settings.database_url.clone());
    let database = web::block(move || db::readiness(&pool, &url, DATABASE_WAIT)).await.unwrap_or(Err("the check could not run"));
    let workers = state.workers.status();
    let ready = database.is_ok() && workers.is_ok();
    let said = |r: Result<String, String>| match r {
        Ok(s) | Err(s) => s,
    };
    let body = json!({
        "status": if ready { "ready" } else { "not ready" },
        "database": said(database.map(|()| "ok".to_owned()).map_err(str::to_owned)),
        "workers": said(workers),
    });
    let mut resp = if ready { HttpResponse::Ok() } else { HttpResponse::ServiceUnavailable() };
    resp.json(body)
}
