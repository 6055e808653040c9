//! The error policy, in one place.
//!
//! - `domain` and the services return their own `thiserror` enums, whose messages say
//!   what to fix (`DirectoryError::TooDeep`…).
//! - Console handlers return `Result<_, AppError>`. A failure the person can act on on
//!   a form is shown by rendering the form again with its message (the handler does
//!   that); anything else becomes an `AppError`, rendered here: 404 page, 403 for a
//!   stale form, 409/400 with the service's message, 503 when the database pool is
//!   exhausted, and for anything unexpected an opaque 500 page while the whole cause
//!   chain goes to the log.
//! - The API has its own `ApiError` (Alibaba codes), converted from the same service
//!   errors in `api::error`.
//! - `diesel::NotFound` is a 404; a database failure is never turned into "not found"
//!   and never logged-and-ignored.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::auth::AuthError;
use crate::directory::DirectoryError;
use crate::jobs::JobError;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("sign-in required")]
    Unauthenticated { next: String },
    #[error("This form has expired or did not come from this site. Go back, reload the page and try again.")]
    Csrf,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("The database is busy. Wait a moment and try again.")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(BoxError),
}

impl AppError {
    pub fn internal(e: impl Into<BoxError>) -> AppError {
        AppError::Internal(e.into())
    }
}

/// The error chain on one line: `outer: middle: root cause`.
pub fn cause_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

/// What a person reads when a concurrent change won a race the service did not name.
pub const CHANGED_MEANWHILE: &str = "Something this depends on changed at the same moment. Reload the page and try again.";

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => AppError::NotFound("The page you asked for does not exist.".into()),
            ref other if crate::db::is_unavailable(other) => {
                tracing::warn!(error = %other, "the database could not be reached");
                AppError::Unavailable
            }
            ref other if crate::db::is_unique_violation(other) || crate::db::is_foreign_key_violation(other) => {
                tracing::info!(error = %other, "a concurrent change won");
                AppError::Conflict(CHANGED_MEANWHILE.into())
            }
            other => AppError::internal(other),
        }
    }
}

impl From<crate::db::PoolError> for AppError {
    fn from(e: crate::db::PoolError) -> Self {
        tracing::warn!(error = %e, "database pool exhausted");
        AppError::Unavailable
    }
}

impl From<DirectoryError> for AppError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::FolderNotFound(_) | DirectoryError::AccountNotFound(_) => AppError::NotFound(e.to_string()),
            DirectoryError::Db(db) => db.into(),
            DirectoryError::Pool(p) => p.into(),
            DirectoryError::NoDirectory => AppError::internal(e),
            DirectoryError::TooDeep
            | DirectoryError::FolderNameTaken(_)
            | DirectoryError::HasSubfolders(_)
            | DirectoryError::HasAccounts(_)
            | DirectoryError::NotEmpty
            | DirectoryError::RootFolder
            | DirectoryError::AccountRemoved(_)
            | DirectoryError::MoveBlocked(_) => AppError::Conflict(e.to_string()),
        }
    }
}

impl From<AuthError> for AppError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::BadCredentials | AuthError::UsernameTaken(_) => AppError::BadRequest(e.to_string()),
            AuthError::Db(db) => db.into(),
            AuthError::Pool(p) => p.into(),
            AuthError::Hash(_) | AuthError::Unseal => AppError::internal(e),
        }
    }
}

impl From<JobError> for AppError {
    fn from(e: JobError) -> Self {
        match e {
            JobError::Db(db) => db.into(),
            JobError::Pool(p) => p.into(),
            other => AppError::internal(other),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::internal(e)
    }
}

/// A 500 that is not ours (every handler answers with an `AppError`) comes from the
/// framework around the handlers: in this server, the session store, that is, the
/// database. It gets the 503 page (with Retry-After) instead of an empty 500.
pub fn framework_failure<B>(res: actix_web::dev::ServiceResponse<B>) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::middleware::ErrorHandlerResponse;
    let ours = res.response().error().is_some_and(|e| e.as_error::<AppError>().is_some());
    if ours {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    if let Some(e) = res.response().error() {
        tracing::warn!(error = %e, "a request failed around its handler (the session store could not reach the database)");
    }
    let (req, _) = res.into_parts();
    let busy = AppError::Unavailable.error_response();
    Ok(ErrorHandlerResponse::Response(actix_web::dev::ServiceResponse::new(req, busy).map_into_right_body()))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Unauthenticated { .. } => StatusCode::SEE_OTHER,
            AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let AppError::Unauthenticated { next } = self {
            let location = format!("/login?next={}", percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC));
            return HttpResponse::SeeOther().insert_header((header::LOCATION, location)).insert_header(("HX-Redirect", "/login")).finish();
        }
        let (title, message) = match self {
            AppError::Internal(e) => {
                tracing::error!(error = %cause_chain(e.as_ref()), "request failed");
                (
                    "Something went wrong",
                    "The server could not finish this request. It has been logged; try again, and tell your administrator if it keeps happening.".to_owned(),
                )
            }
            AppError::NotFound(m) => ("Not found", m.clone()),
            AppError::Csrf => ("Form expired", self.to_string()),
            AppError::Unavailable => ("Busy", self.to_string()),
            AppError::BadRequest(m) | AppError::Conflict(m) => ("That did not work", m.clone()),
            AppError::Unauthenticated { .. } => unreachable!("handled above"),
        };
        let page = ErrorPage { status: status.as_u16(), title, message };
        let body = page.render().unwrap_or_else(|_| format!("{} {}", status.as_u16(), title));
        let mut resp = HttpResponse::build(status);
        resp.content_type("text/html; charset=utf-8");
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.insert_header((header::RETRY_AFTER, "2"));
        }
        resp.body(body)
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::middleware::ErrorHandlers;
    use actix_web::{App, test, web};

    use super::*;

    #[actix_web::test]
    async fn a_failure_around_the_handlers_answers_503_and_our_own_500_stays() {
        let app = test::init_service(
            App::new()
                .wrap(ErrorHandlers::new().handler(StatusCode::INTERNAL_SERVER_ERROR, framework_failure))
                .route("/store", web::get().to(|| async { Err::<String, _>(actix_web::error::ErrorInternalServerError("session store: connection refused")) }))
                .route("/ours", web::get().to(|| async { Err::<String, AppError>(AppError::internal("a bug")) })),
        )
        .await;
        let store = test::call_service(&app, test::TestRequest::get().uri("/store").to_request()).await;
        assert_eq!(store.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(store.headers().contains_key("retry-after"));
        let ours = test::call_service(&app, test::TestRequest::get().uri("/ours").to_request()).await;
        assert_eq!(ours.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
