//! Builds everything a running server needs (pool, mailer, sealed-secret box, the
//! directory itself) and the actix `App`; used by `main` and by the tests.

use actix_session::SessionMiddleware;
use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpMessage, web};
use sha2::{Digest, Sha512};
use tracing::Instrument;

use crate::auth::SecretBox;
use crate::config::Settings;
use crate::db;
use crate::errors::BoxError;
use crate::jobs::{Periodic, Registry};
use crate::mail::Mailer;
pub use crate::state::{AppState, RequestId};
use crate::{api, auth, contacts, directory, jobs, notifications, web as console};

/// Every kind of background job, and the periodic upkeep, in one place.
pub fn job_registry() -> Registry {
    let mut r = Registry::new();
    r.register::<jobs::send_email::SendEmail>()
        .register::<contacts::bindings::BindMembers>()
        .register::<contacts::bindings::UnbindMembers>()
        .register::<contacts::deletion::DeleteContact>()
        .register::<notifications::FanOut>()
        .register::<notifications::SendNotification>()
        .every(Periodic {
            name: "forget old API nonces",
            every: time::Duration::minutes(3),
            run: |c, _| Ok(auth::access_keys::purge_nonces(c, db::now_utc())?),
        })
        .every(Periodic {
            name: "purge finished jobs",
            every: time::Duration::hours(1),
            run: |c, u| Ok(jobs::purge_finished(c, db::now_utc() - u.settings.retention)?),
        })
        .every(Periodic { name: "purge ended sessions", every: time::Duration::minutes(10), run: |c, _| Ok(auth::sessions::purge_expired(c, db::now_utc())?) })
        .every(Periodic {
            name: "purge audit entries past their retention",
            every: time::Duration::hours(1),
            run: |c, u| Ok(crate::audit::purge(c, u.settings.audit_retention_days)?),
        })
        .every(Periodic {
            name: "ask contacts to confirm their address again",
            every: time::Duration::minutes(30),
            run: |c, u| match u.settings.reconfirm_months {
                Some(months) => {
                    contacts::ask_reconfirmation(c, months, &u.sender).map_err(|e| jobs::JobError::Failed { message: e.to_string(), transient: true })
                }
                None => Ok(0),
            },
        })
        .every(Periodic { name: "forget old rate-limit events", every: time::Duration::minutes(10), run: |c, _| Ok(crate::limits::purge(c, db::now_utc())?) });
    r
}

/// What the first start created, to be shown once.
#[derive(Debug)]
pub struct FirstRun {
    pub admin: Option<(String, String)>,
}

/// Opens the database, and under the start-up lock migrates it, makes sure the directory
/// exists and, on a fresh deployment, creates the first administrator: any number of
/// servers may start together on one database, and exactly one creates (and shows) it.
pub fn prepare(settings: Settings, mailer: Mailer) -> Result<(AppState, FirstRun), BoxError> {
    let pool = db::open(&settings.database_url, pool_size(&settings))?;
    let mut conn = pool.get()?;
    let (directory, admin) = db::with_startup_lock(&settings.database_url, &mut conn, |c| {
        db::run_migrations(c)?;
        let directory = directory::ensure_directory(c, "Management account")?;
        Ok((directory, auth::admins::ensure_first_admin(c)?))
    })?;
    drop(conn);
    let secrets = SecretBox::new(secrecy::ExposeSecret::expose_secret(&settings.secret_key));
    Ok((
        AppState {
            settings,
            pool,
            directory: std::sync::Arc::new(directory),
            mailer,
            secrets,
            registry: std::sync::Arc::new(job_registry()),
            hasher: auth::passwords::Hasher::default(),
            workers: Default::default(),
        },
        FirstRun { admin },
    ))
}

fn pool_size(settings: &Settings) -> u32 {
    pool_size_for(crate::db::is_postgres_url(&settings.database_url), cores(), settings.workers)
}

/// The cores this process may run on (2 when the system cannot tell).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// Request handlers run diesel on the HTTP workers' blocking threads; job workers hold one
/// connection each. On PostgreSQL the pool grows with the cores, to hold the threads below
/// (10 connections on 2 cores, 32 at most); SQLite keeps 8 beside the jobs.
fn pool_size_for(postgres: bool, cores: usize, job_workers: usize) -> u32 {
    let requests = if postgres { (3 * cores).max(8) } else { 8 };
    (requests + job_workers).min(32) as u32
}

/// HTTP workers: one for each core, as actix would start.
pub fn http_workers() -> usize {
    cores()
}

/// Threads each of `http_workers` HTTP workers may run database work on (tokio's default
/// is 512). A request beyond them waits in the queue, not on a thread of its own that then
/// waits for a pooled connection: under 50 connections the server had run some 60 such
/// threads, each with its stack and its share of the allocator's arenas (resident memory
/// 126 MB on SQLite at 100,000 members, against 100 MB allowed).
///
/// On SQLite the threads do the database's work themselves: together as many as the pool
/// has connections (with as many per worker as the whole pool, 20 threads for 10
/// connections reached 102 MB, and pages were no faster).
///
/// On PostgreSQL they mostly wait on the server, whose backends need the same cores: three
/// threads for each core in all, split across the workers, and never more than the pool
/// holds beside the job workers, so that no request's thread waits for a connection. With
/// the whole pool for each worker (20 threads for 2 cores) the member and folder pages
/// served as many requests a second, but their p99 at 50 connections was 110–140 ms
/// against 57–86 ms: every query's answer woke one thread among twenty, and the requests
/// that waited longest waited on the scheduler and on the pool.
pub fn blocking_threads(settings: &Settings, http_workers: usize) -> usize {
    let postgres = crate::db::is_postgres_url(&settings.database_url);
    threads_for(postgres, cores(), http_workers, settings.workers)
}

fn threads_for(postgres: bool, cores: usize, http_workers: usize, job_workers: usize) -> usize {
    let pool = pool_size_for(postgres, cores, job_workers) as usize;
    let workers = http_workers.max(1);
    if postgres { (3 * cores).min(pool.saturating_sub(job_workers).max(workers)).div_ceil(workers) } else { pool.div_ceil(workers) }
}

/// The session cookie key, derived from the secret so that it is 64 bytes whatever
/// form the secret takes.
fn cookie_key(secret: &[u8]) -> Key {
    let mut h = Sha512::new();
    h.update(b"rd-contacts session cookies v1\0");
    h.update(secret);
    Key::from(&h.finalize())
}

/// The app of one HTTP worker, built on the worker's own thread as it starts. The thread
/// first asks the kernel for the configured scheduler slice ([`crate::latency`]); the
/// threads it starts for database work inherit it.
pub fn worker_app(
    state: AppState,
) -> App<
    impl ServiceFactory<ServiceRequest, Config = (), Response = ServiceResponse<impl actix_web::body::MessageBody>, Error = actix_web::Error, InitError = ()>,
> {
    static SAID: std::sync::Once = std::sync::Once::new();
    let slice = crate::latency::ask_for(state.settings.thread_slice);
    SAID.call_once(|| match slice {
        crate::latency::Slice::Set(slice) => tracing::info!(slice_us = slice.as_micros() as u64, "request threads ask the kernel for short scheduler slices"),
        crate::latency::Slice::KernelDefault => tracing::info!("request threads keep the kernel's scheduler slice (RDC_THREAD_SLICE_US=0)"),
        crate::latency::Slice::Unsupported => tracing::info!("this kernel keeps its own scheduler slice (custom slices need Linux 6.12 or later)"),
    });
    app(state)
}

pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<ServiceRequest, Config = (), Response = ServiceResponse<impl actix_web::body::MessageBody>, Error = actix_web::Error, InitError = ()>,
> {
    let secure = state.settings.secure_cookies();
    // Over https the cookie is a `__Host-` one: Secure, for this host only, path `/`.
    let name = if secure { "__Host-rdc_session" } else { "rdc_session" };
    let session = SessionMiddleware::builder(
        console::session::DbSessionStore::new(state.pool.clone()),
        cookie_key(secrecy::ExposeSecret::expose_secret(&state.settings.secret_key)),
    )
    .cookie_name(name.into())
    .cookie_http_only(true)
    .cookie_same_site(SameSite::Lax)
    .cookie_secure(secure)
    .cookie_content_security(CookieContentSecurity::Private)
    .session_lifecycle(PersistentSession::default().session_ttl(actix_web::cookie::time::Duration::hours(12)))
    .build();
    let headers = DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; \
             base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ))
        .add(("Referrer-Policy", "same-origin"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"));
    App::new()
        .app_data(web::Data::new(state))
        .app_data(web::FormConfig::default().limit(64 * 1024))
        .app_data(web::QueryConfig::default().error_handler(|_, _| {
            crate::web::AppError::BadRequest(
                "A value in this page's address is not valid (a page number, for one, is a whole number from 1). Go back, or open the page from the menu."
                    .into(),
            )
            .into()
        }))
        .app_data(web::PathConfig::default().error_handler(|_, _| crate::web::AppError::NotFound("There is no such page.".into()).into()))
        .wrap(actix_web::middleware::from_fn(crate::web::session::read_only_guard))
        .wrap(actix_web::middleware::ErrorHandlers::new().default_handler(crate::web::error::in_layout))
        .wrap(session)
        .wrap(actix_web::middleware::ErrorHandlers::new().handler(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, crate::web::error::framework_failure))
        .wrap(headers)
        .wrap_fn(move |req, srv| {
            // One id per request: in every log line of the request (a span), in the
            // X-Request-Id header, and as the API's RequestId.
            let id = uuid::Uuid::new_v4().to_string().to_uppercase();
            req.extensions_mut().insert(RequestId(id.clone()));
            let (method, started, is_static) = (req.method().clone(), std::time::Instant::now(), req.path().starts_with("/static/"));
            let versioned = is_static && req.query_string().starts_with("v=");
            let span = tracing::info_span!("request", request.id = %id);
            let writes_nothing = matches!(method, actix_web::http::Method::GET | actix_web::http::Method::HEAD);
            // The Notifications page reads the deliveries' number with its session.
            let with_deliveries = writes_nothing && req.path() == "/notifications";
            let call = crate::directory::with_offered_version(writes_nothing, with_deliveries, srv.call(req));
            async move {
                let mut res = call.await?;
                // The route's pattern, never the path itself: `/verify/{token}` and not the token.
                let route = res.request().match_pattern().unwrap_or_else(|| "(no route)".to_owned());
                let status = res.status().as_u16();
                let headers = res.headers_mut();
                headers.insert(header::HeaderName::from_static("x-request-id"), HeaderValue::from_str(&id).expect("a uuid is a header value"));
                if !headers.contains_key(header::CACHE_CONTROL) {
                    // Signed-in pages, links' pages, the Outbox and API answers are nobody's to keep.
                    // A versioned asset never changes; an unversioned one is checked each time.
                    let policy = if versioned {
                        "public, max-age=31536000, immutable"
                    } else if is_static {
                        "no-cache"
                    } else {
                        "no-store"
                    };
                    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
                }
                if secure {
                    headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
                }
                let elapsed = started.elapsed();
                crate::observability::request(&route, status, elapsed.as_secs_f64());
                tracing::info!(target: "rd_contacts::http", %method, route, status, ms = elapsed.as_millis() as u64, "request");
                Ok(res)
            }
            .instrument(span)
        })
        .configure(api::routes)
        .configure(console::routes)
}

#[cfg(test)]
mod tests {
    use super::{pool_size_for, threads_for};

    #[test]
    fn on_postgresql_the_http_workers_threads_fit_in_the_pool_beside_the_job_workers() {
        for cores in 1..=64 {
            for jobs in 0..=4 {
                let pool = pool_size_for(true, cores, jobs) as usize;
                let each = threads_for(true, cores, cores, jobs);
                assert!(each >= 1, "every worker can reach the database ({cores} cores)");
                assert!(pool <= 32, "{pool} connections for {cores} cores");
                if cores * 3 + jobs <= 32 {
                    assert!(each * cores <= pool - jobs, "{cores} cores, {jobs} job workers: {each} threads a worker, {pool} connections");
                }
            }
        }
        // This machine's size: ten connections, three threads for each of two workers.
        assert_eq!((pool_size_for(true, 2, 2), threads_for(true, 2, 2, 2)), (10, 3));
    }

    #[test]
    fn sqlite_keeps_its_pool_and_shares_it_between_the_workers() {
        assert_eq!((pool_size_for(false, 2, 2), threads_for(false, 2, 2, 2)), (10, 5));
        assert_eq!(pool_size_for(false, 16, 2), 10, "SQLite's pool does not grow with the cores");
    }
}
