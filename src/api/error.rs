//! API errors: Alibaba's JSON error body (`RequestId`, `Code`, `Message`) with the
//! status the SDKs map to their exceptions (4xx ClientException, 5xx ServerException),
//! and every conversion of a service's error into one.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::json;

use crate::auth::AuthError;
use crate::contacts::ContactError;
use crate::directory::DirectoryError;
use crate::errors::{StorageError, cause_chain};
use crate::notifications::NotifyError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::from_u16(status).expect("a valid status"), code: code.to_owned(), message: message.into() }
    }
    pub fn missing(param: &str) -> ApiError {
        ApiError::new(400, &format!("MissingParameter.{param}"), format!("You must specify {param}."))
    }
    pub fn invalid(param: &str, why: impl std::fmt::Display) -> ApiError {
        ApiError::new(400, &format!("InvalidParameter.{param}"), format!("The {param} is invalid. {why}"))
    }
    pub fn internal(e: &(dyn std::error::Error + 'static)) -> ApiError {
        tracing::error!(error = %cause_chain(e), "API request failed");
        ApiError::new(500, "InternalError", "The request processing has failed due to some unknown error. Try again later.")
    }

    pub fn to_response(&self, request_id: &str) -> HttpResponse {
        HttpResponse::build(self.status)
            .content_type("application/json;charset=utf-8")
            .json(json!({ "RequestId": request_id, "Code": self.code, "Message": self.message, "HostId": "rd-contacts" }))
    }
}

impl ApiError {
    pub fn unavailable() -> ApiError {
        ApiError::new(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server. Try again later.")
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        if crate::db::is_unavailable(&e) {
            tracing::warn!(error = %e, "the database could not be reached");
            return ApiError::unavailable();
        }
        if crate::db::is_unique_violation(&e) || crate::db::is_foreign_key_violation(&e) {
            tracing::info!(error = %e, "a concurrent change won");
            return ApiError::new(429, "ConcurrentCallNotSupported", "The operation conflicts with other operations. Please try again later.");
        }
        ApiError::internal(&e)
    }
}

impl From<crate::db::PoolError> for ApiError {
    fn from(e: crate::db::PoolError) -> Self {
        tracing::warn!(error = %e, "database pool exhausted");
        ApiError::unavailable()
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Db(db) => db.into(),
            StorageError::Pool(p) => p.into(),
            StorageError::Render(r) => ApiError::internal(&r),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Storage(s) => s.into(),
            other => ApiError::internal(&other),
        }
    }
}

impl From<DirectoryError> for ApiError {
    fn from(e: DirectoryError) -> Self {
        let msg = e.to_string();
        match e {
            DirectoryError::FolderNotFound(_) => ApiError::new(404, "EntityNotExists.Folder", "The resource directory folder does not exist."),
            DirectoryError::AccountNotFound(_) | DirectoryError::AccountRemoved(_) => {
                ApiError::new(404, "EntityNotExists.Account", "The member account does not exist in the resource directory.")
            }
            DirectoryError::NoDirectory => ApiError::new(404, "EntityNotExists.ResourceDirectory", "The resource directory is not enabled."),
            DirectoryError::TooDeep => ApiError::new(400, "LimitExceeded.FolderDepth", msg),
            DirectoryError::FolderNameTaken(_) => ApiError::new(409, "EntityAlreadyExists.Folder", msg),
            DirectoryError::HasSubfolders(_) => ApiError::new(409, "DeleteConflict.Folder.SubFolder", "This folder has sub folders."),
            DirectoryError::HasAccounts(_) => ApiError::new(409, "DeleteConflict.Folder.Account", "This folder has accounts."),
            DirectoryError::NotEmpty => ApiError::new(409, "DeleteConflict.Folder.Account", msg),
            DirectoryError::RootFolder => ApiError::new(400, "InvalidParameter.FolderId", msg),
            DirectoryError::MoveBlocked(_) => {
                ApiError::new(429, "ConcurrentCallNotSupported", format!("The operation conflicts with other operations. Please try again later. {msg}"))
            }
            DirectoryError::TooManyTags { .. } => ApiError::new(400, "LimitExceeded.Tags", msg),
            DirectoryError::Storage(s) => s.into(),
        }
    }
}

impl From<ContactError> for ApiError {
    fn from(e: ContactError) -> Self {
        let msg = e.to_string();
        match e {
            ContactError::NotFound(_) => ApiError::new(404, "EntityNotExists.Contact", "This Contact does not exist."),
            ContactError::QuotaExceeded { .. } => ApiError::new(409, "QuotaExceeded.Contacts", msg),
            ContactError::NameTaken(_) => ApiError::new(400, "InvalidParameter.Name.AlreadyUsed", "The Name already exists. Please change to another name."),
            ContactError::DailyLimit { .. } | ContactError::AddressLimit { .. } => ApiError::new(409, "SendValidateCodeExceedsLimitForAccount", msg),
            ContactError::NothingToVerify(_) => ApiError::new(404, "EntityNotExists.Contact.Verification", "This contact verification does not exist."),
            ContactError::NoPendingChange(_) => {
                ApiError::new(400, "ContactStatusMismatchAction", format!("The contact has no pending update to cancel: {msg}."))
            }
            ContactError::Deleting => {
                ApiError::new(400, "ContactStatusMismatchAction", "The status of the contact does not allow the specified operation: it is being deleted.")
            }
            ContactError::DeletionRunning => ApiError::new(
                429,
                "ConcurrentCallNotSupported",
                "The operation conflicts with other operations. Please try again later: the contact is being deleted.",
            ),
            // Alibaba documents EntityNotExists.Contact for this action; a deletion that
            // never began does not exist either.
            ContactError::NoDeletion => ApiError::new(404, "EntityNotExists.Contact", format!("This Contact deletion does not exist. {msg}.")),
            ContactError::QuotaBelowUsage { .. } => ApiError::new(400, "InvalidParameter.Quota", msg),
            ContactError::NotActive(_) => {
                ApiError::new(400, "ContactStatusMismatchAction", format!("The status of the contact does not allow the specified operation. {msg}"))
            }
            ContactError::DuplicateTarget(_) | ContactError::AlreadyBound(_) => {
                ApiError::new(400, "InvalidParameter.Members.Duplicate", format!("The Members contains duplicate values. {msg}"))
            }
            ContactError::NotBound(_) => ApiError::new(400, "InvalidParameter.Members", format!("The Members is invalid. {msg}")),
            ContactError::InvalidMember(_) => ApiError::new(400, "InvalidMember", format!("The member does not exist in the resource directory. {msg}")),
            ContactError::TooManyTargets { .. } => {
                ApiError::new(400, "LimitExceeded.ContactMembers", format!("The maximum number of contact members exceeds the limit. {msg}"))
            }
            ContactError::Directory(d) => d.into(),
            ContactError::Storage(s) => s.into(),
        }
    }
}

impl From<NotifyError> for ApiError {
    fn from(e: NotifyError) -> Self {
        let msg = e.to_string();
        match e {
            NotifyError::InvalidTarget(_) => ApiError::new(400, "InvalidMember", msg),
            NotifyError::InvalidSubject(m) => ApiError::invalid("Subject", m),
            NotifyError::InvalidContent(m) => ApiError::invalid("Content", m),
            NotifyError::Throttled(_) => ApiError::new(
                400,
                "Throttling.User",
                format!("Request was denied due to user flow control: at most {} notifications a minute per access key.", crate::limits::PUBLISH_PER_KEY.max),
            ),
            NotifyError::Directory(d) => d.into(),
            NotifyError::Storage(s) => s.into(),
        }
    }
}
