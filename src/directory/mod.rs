//! The resource directory: the root, nested folders and member accounts.
//! Each public function takes a connection and runs one transaction.

pub mod demo;
pub mod import;
mod models;
mod search;
mod service;
pub mod tags;

pub use models::{Account, Folder, FolderOption, FolderSummary, JoinMethod, ResourceDirectory};
pub use search::{Count, Turn, first_turn, with_offered_version, with_one_version};
pub(crate) use search::{KeptByVersion, Version, offer, offer_here, offer_with_deliveries, offered, version_columns, version_columns_with, withdraw_offer};
pub use service::*;

/// Why a directory operation was refused; the message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("The resource directory has not been set up yet: start the server once")]
    NoDirectory,
    #[error("Folder {0} does not exist")]
    FolderNotFound(String),
    #[error("Member {0} does not exist")]
    AccountNotFound(String),
    #[error("Folders can nest at most {} levels below the root: create this folder higher up", crate::domain::MAX_FOLDER_DEPTH)]
    TooDeep,
    #[error("A folder named {0:?} already exists in that folder: choose another name")]
    FolderNameTaken(String),
    #[error("The folder still holds {0} subfolder(s): delete them first")]
    HasSubfolders(i64),
    #[error("The folder still holds {0} member(s): move or remove them first")]
    HasAccounts(i64),
    #[error("A member or folder was added to this folder at the same moment, so it is not empty any more")]
    NotEmpty,
    #[error("The root folder cannot be renamed or deleted")]
    RootFolder,
    #[error("Member {0} cannot move while contacts are being unbound from one of its folders. Try again when the unbinding task has finished (see Tasks).")]
    MoveBlocked(String),
    #[error("Member {0} was removed from the resource directory")]
    AccountRemoved(String),
    #[error("{resource} would have {count} tags: a folder or member has at most {} (remove some first)", crate::domain::MAX_TAGS)]
    TooManyTags { resource: String, count: i64 },
    #[error(transparent)]
    Storage(#[from] crate::errors::StorageError),
}

crate::errors::storage_errors!(DirectoryError);
