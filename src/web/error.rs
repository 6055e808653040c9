//! `AppError`, what console handlers return, and every conversion into it: a known
//! failure becomes the page or status that says what to do; anything unexpected is logged
//! with its whole cause chain and answered with an opaque 500 page (see `crate::errors`).

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::auth::AuthError;
use crate::auth::login::LoginError;
use crate::auth::member_users::InviteError;
use crate::contacts::{ContactError, VerifyError};
use crate::directory::DirectoryError;
use crate::errors::{BoxError, StorageError, cause_chain};
use crate::jobs::JobError;
use crate::message_center::McError;
use crate::message_center::verification::LinkError;
use crate::notifications::NotifyError;

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
    /// Signed in, but not allowed to (a viewer's change).
    #[error("{0}")]
    Forbidden(String),
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

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Db(db) => db.into(),
            StorageError::Pool(p) => p.into(),
            StorageError::Render(r) => AppError::internal(r),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::internal(e)
    }
}

impl From<DirectoryError> for AppError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::FolderNotFound(_) | DirectoryError::AccountNotFound(_) => AppError::NotFound(e.to_string()),
            DirectoryError::Storage(s) => s.into(),
            DirectoryError::NoDirectory => AppError::internal(e),
            DirectoryError::TooDeep
            | DirectoryError::FolderNameTaken(_)
            | DirectoryError::HasSubfolders(_)
            | DirectoryError::HasAccounts(_)
            | DirectoryError::NotEmpty
            | DirectoryError::RootFolder
            | DirectoryError::AccountRemoved(_)
            | DirectoryError::MoveBlocked(_)
            | DirectoryError::TooManyTags { .. } => AppError::Conflict(e.to_string()),
        }
    }
}

impl From<AuthError> for AppError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::BadCredentials | AuthError::UsernameTaken(_) => AppError::BadRequest(e.to_string()),
            AuthError::AdminNotFound(_) | AuthError::KeyNotFound(_) => AppError::NotFound(e.to_string()),
            AuthError::LastAdmin(_) => AppError::Conflict(e.to_string()),
            AuthError::Storage(s) => s.into(),
            AuthError::Hash(_) | AuthError::Unseal => AppError::internal(e),
        }
    }
}

impl From<LoginError> for AppError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::BadCredentials => AppError::BadRequest(e.to_string()),
            LoginError::Throttled(_) => AppError::Conflict(e.to_string()),
            LoginError::Storage(s) => s.into(),
            LoginError::Hash(_) => AppError::internal(e),
        }
    }
}

impl From<JobError> for AppError {
    fn from(e: JobError) -> Self {
        match e {
            JobError::Storage(s) => s.into(),
            other => AppError::internal(other),
        }
    }
}

impl From<ContactError> for AppError {
    fn from(e: ContactError) -> Self {
        match e {
            ContactError::NotFound(_) => AppError::NotFound(format!("{e}. It may have been deleted: see the Contacts list.")),
            ContactError::Storage(s) => s.into(),
            ContactError::Directory(d) => d.into(),
            other => AppError::Conflict(other.to_string()),
        }
    }
}

impl From<crate::directory::demo::DemoError> for AppError {
    fn from(e: crate::directory::demo::DemoError) -> Self {
        use crate::directory::demo::DemoError;
        match e {
            DemoError::NotEmpty { .. } => AppError::Conflict(e.to_string()),
            DemoError::Directory(d) => d.into(),
            DemoError::Storage(s) => s.into(),
        }
    }
}

impl From<VerifyError> for AppError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::Storage(s) => s.into(),
            other => AppError::NotFound(other.to_string()),
        }
    }
}

impl From<McError> for AppError {
    fn from(e: McError) -> Self {
        match e {
            McError::AccountNotFound(_) | McError::RecipientNotFound | McError::EntryNotFound => AppError::NotFound(e.to_string()),
            McError::TooManyRecipients | McError::AddressLimit { .. } | McError::AlreadyConfirmed => AppError::Conflict(e.to_string()),
            McError::Storage(s) => s.into(),
        }
    }
}

impl From<LinkError> for AppError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::Storage(s) => s.into(),
            other => AppError::NotFound(other.to_string()),
        }
    }
}

impl From<InviteError> for AppError {
    fn from(e: InviteError) -> Self {
        match e {
            InviteError::AccountNotFound(_) | InviteError::Invalid => AppError::NotFound(e.to_string()),
            InviteError::Storage(s) => s.into(),
            InviteError::Auth(a) => a.into(),
            other => AppError::Conflict(other.to_string()),
        }
    }
}

impl From<crate::auth::admin_invitations::AdminInviteError> for AppError {
    fn from(e: crate::auth::admin_invitations::AdminInviteError) -> Self {
        use crate::auth::admin_invitations::AdminInviteError;
        match e {
            AdminInviteError::Invalid => AppError::NotFound(e.to_string()),
            AdminInviteError::Storage(s) => s.into(),
            AdminInviteError::Auth(a) => a.into(),
            other => AppError::Conflict(other.to_string()),
        }
    }
}

impl From<NotifyError> for AppError {
    fn from(e: NotifyError) -> Self {
        match e {
            NotifyError::InvalidTarget(_) => AppError::NotFound(e.to_string()),
            NotifyError::InvalidSubject(m) | NotifyError::InvalidContent(m) => AppError::BadRequest(m),
            NotifyError::Throttled(_) => AppError::Conflict(e.to_string()),
            NotifyError::Directory(d) => d.into(),
            NotifyError::Storage(s) => s.into(),
        }
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
    home: &'a str,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Unauthenticated { .. } => StatusCode::SEE_OTHER,
            AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
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
            AppError::Forbidden(m) => ("Read-only access", m.clone()),
            AppError::Unauthenticated { .. } => unreachable!("handled above"),
        };
        let page = ErrorPage { status: status.as_u16(), title, message: message.clone(), home: "/" };
        let body = page.render().unwrap_or_else(|_| format!("{} {}", status.as_u16(), title));
        let mut resp = HttpResponse::build(status);
        resp.content_type("text/html; charset=utf-8");
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.insert_header((header::RETRY_AFTER, "2"));
        }
        let mut resp = resp.body(body);
        resp.extensions_mut().insert(Shown { title, message });
        resp
    }
}

/// What an error page said, kept on the response so that [`in_layout`] can say it again
/// inside the console's layout.
#[derive(Clone)]
struct Shown {
    title: &'static str,
    message: String,
}

#[derive(Template)]
#[template(path = "error_in_layout.html")]
struct ErrorInLayout {
    chrome: crate::web::Chrome,
    status: u16,
    title: &'static str,
    message: String,
    home: &'static str,
}

/// A signed-in user's error page keeps the console's header and navigation, and its way
/// back leads to their own start page (a member user's is its Message Center); anyone
/// else gets the bare page, whose way back is the sign-in page.
pub fn in_layout<B>(res: actix_web::dev::ServiceResponse<B>) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::FromRequest;
    use actix_web::middleware::ErrorHandlerResponse;

    use crate::web::session::CurrentUser;
    // A 500 keeps its own page and its error, which `framework_failure` and the logs read.
    let Some(shown) = res.response().extensions().get::<Shown>().cloned().filter(|_| res.status() != StatusCode::INTERNAL_SERVER_ERROR) else {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    };
    let user = CurrentUser::extract(res.request()).into_inner().ok();
    let status = res.status();
    let page = match &user {
        Some(CurrentUser::Admin(admin)) => {
            let chrome = crate::web::Chrome::new(admin, "");
            ErrorInLayout { chrome, status: status.as_u16(), title: shown.title, message: shown.message, home: "/directory" }.render()
        }
        Some(CurrentUser::Member(member)) => {
            let chrome = crate::web::Chrome::member(member);
            ErrorInLayout { chrome, status: status.as_u16(), title: shown.title, message: shown.message, home: "/my/message-center" }.render()
        }
        None => ErrorPage { status: status.as_u16(), title: shown.title, message: shown.message, home: "/login" }.render(),
    };
    let Ok(body) = page else {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    };
    let (req, old) = res.into_parts();
    let mut resp = HttpResponse::build(status);
    for (name, value) in old.headers() {
        if name != header::CONTENT_LENGTH {
            resp.append_header((name.clone(), value.clone()));
        }
    }
    Ok(ErrorHandlerResponse::Response(actix_web::dev::ServiceResponse::new(req, resp.body(body)).map_into_right_body()))
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
