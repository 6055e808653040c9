//! Each member's Message Center (rules M1–M4): per message type, who receives the
//! member's notifications. Two kinds of recipient: the member's own, and the contacts
//! the resource directory associated with the member, which the directory writes one
//! way and the member may opt out of or remove.

mod models;
mod service;
pub mod verification;

pub use models::{DirectoryEntry, MessageCenter, OwnRecipient, Recipient, RecipientKind};
pub use service::*;

/// At most this many recipients of its own per member (rule M6).
pub const MAX_OWN_RECIPIENTS: i64 = 50;

/// Why a Message Center change was refused.
#[derive(Debug, thiserror::Error)]
pub enum McError {
    #[error("Member {0} does not exist")]
    AccountNotFound(String),
    #[error("There is no such recipient in this Message Center")]
    RecipientNotFound,
    #[error("There is no such directory contact in this Message Center")]
    EntryNotFound,
    #[error("A Message Center has at most {} recipients of its own: remove one first", MAX_OWN_RECIPIENTS)]
    TooManyRecipients,
    #[error("At most {} confirmation emails a minute can go to {address}. Try again after {}.", verification::PER_ADDRESS.max, crate::domain::when_utc(*retry_at))]
    AddressLimit { address: String, retry_at: time::PrimitiveDateTime },
    #[error("This recipient's address is confirmed already")]
    AlreadyConfirmed,
    #[error(transparent)]
    Storage(#[from] crate::errors::StorageError),
}

crate::errors::storage_errors!(McError);
