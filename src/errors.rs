//! The error policy, in one place.
//!
//! - `domain` and the services return their own `thiserror` enums, whose messages say
//!   what to fix (`DirectoryError::TooDeep`…).
//! - Console handlers return `Result<_, AppError>` (`web::error`, where every conversion
//!   into it lives). A failure the person can act on on a form is shown by rendering the
//!   form again with its message (the handler does that); anything else becomes an
//!   `AppError`: 404 page, 403 for a stale form, 409/400 with the service's message, 503
//!   when the database cannot be reached (an exhausted pool, a cut connection, a lock held
//!   too long), and for anything unexpected an opaque 500 page while the whole cause chain
//!   goes to the log.
//! - The API has its own `ApiError` (Alibaba codes), converted from the same service
//!   errors in `api::error`, and only there.
//! - Every service's error enum has its own rule violations and one `Storage` variant
//!   (`StorageError`: database, pool, email template); no handler turns one service's
//!   error into another's.
//! - `diesel::NotFound` is a 404; a database failure is never turned into "not found"
//!   and never logged-and-ignored.

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What every service can fail on besides its own rules: the database, the pool, or an
/// email's template. Each service's error enum has one `Storage` variant for it.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Pool(#[from] crate::db::PoolError),
    #[error("could not render an email: {0}")]
    Render(#[from] askama::Error),
}

/// The conversions `?` needs in a service whose error enum has `Storage(StorageError)`.
macro_rules! storage_errors {
    ($error:ty) => {
        impl From<diesel::result::Error> for $error {
            fn from(e: diesel::result::Error) -> Self {
                Self::Storage(e.into())
            }
        }
        impl From<$crate::db::PoolError> for $error {
            fn from(e: $crate::db::PoolError) -> Self {
                Self::Storage(e.into())
            }
        }
        impl From<askama::Error> for $error {
            fn from(e: askama::Error) -> Self {
                Self::Storage(e.into())
            }
        }
    };
}
pub(crate) use storage_errors;

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
