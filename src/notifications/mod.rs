//! Delivering notifications (rule M5): a notification (message type, subject, content)
//! for one member, a folder's members or the whole directory goes to each member's
//! Message Center recipients of that type, one email per distinct address per member,
//! through the job queue; every attempt is logged.

pub mod delivery;
mod jobs;
mod service;

pub use service::*;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{0} is not a member or folder of this resource directory")]
    InvalidTarget(String),
    #[error("{0}")]
    InvalidSubject(String),
    #[error("{0}")]
    InvalidContent(String),
    #[error("Too many notifications: wait {} seconds and try again", .0.retry_after_seconds())]
    Throttled(crate::limits::Exceeded),
    #[error(transparent)]
    Directory(#[from] crate::directory::DirectoryError),
    #[error(transparent)]
    Storage(#[from] crate::errors::StorageError),
}

crate::errors::storage_errors!(NotifyError);
