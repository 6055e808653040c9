//! API errors: Alibaba's JSON error body (`RequestId`, `Code`, `Message`) with the
//! status the SDKs map to their exceptions (4xx ClientException, 5xx ServerException).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::json;

use crate::auth::AuthError;
use crate::directory::DirectoryError;
use crate::errors::cause_chain;

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

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Db(db) => db.into(),
            AuthError::Pool(p) => p.into(),
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
            DirectoryError::Db(db) => db.into(),
            DirectoryError::Pool(p) => p.into(),
        }
    }
}
