//! Each member's Message Center (rules M1–M4): per message type, who receives the
//! member's notifications. Two kinds of recipient: the member's own, and the contacts
//! the resource directory associated with the member, which the directory writes one
//! way and the member may opt out of or remove.

mod models;
mod service;

pub use models::{DirectoryEntry, MessageCenter, OwnRecipient, Recipient, RecipientKind};
pub use service::*;

/// Why a Message Center change was refused.
#[derive(Debug, thiserror::Error)]
pub enum McError {
    #[error("Member {0} does not exist")]
    AccountNotFound(String),
    #[error("There is no such recipient in this Message Center")]
    RecipientNotFound,
    #[error("There is no such directory contact in this Message Center")]
    EntryNotFound,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Pool(#[from] crate::db::PoolError),
}
