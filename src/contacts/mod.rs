//! Notification contacts: creation, email verification, modification (rules C1–C6).
//! Each public function takes a connection and runs one transaction.

pub mod bindings;
pub mod deletion;
mod jobs;
mod models;
pub mod propagation;
pub mod scope;
mod service;
mod verification;

pub use crate::domain::when_utc;
pub use models::{Contact, ContactRow, ContactStatus, RECONFIRM_GRACE, Verification, VerificationView};
pub use service::*;
pub use verification::{DAILY_LIMIT, LINK_VALIDITY, PER_ADDRESS_PER_MINUTE, Sender, ask_reconfirmation, confirm, lookup, sent_in_last_day};

use time::PrimitiveDateTime;

/// Why a contact operation was refused; the message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    #[error("Contact {0} does not exist")]
    NotFound(String),
    #[error("The directory already has {used} of {quota} contacts. Raise the quota under Settings → Quotas to add more.")]
    QuotaExceeded { used: i64, quota: i64 },
    #[error("A contact named {0:?} already exists: choose another name")]
    NameTaken(String),
    #[error("At most {} verification emails can be sent per day, and that many went out in the last 24 hours. The next one can be sent after {}.", verification::DAILY_LIMIT, crate::domain::when_utc(*next_at))]
    DailyLimit { next_at: PrimitiveDateTime },
    #[error("At most {} verification emails per minute can go to {address}. Try again after {}.", verification::PER_ADDRESS_PER_MINUTE, crate::domain::when_utc(*next_at))]
    AddressLimit { address: String, next_at: PrimitiveDateTime },
    #[error("Nothing is waiting for verification at {0}")]
    NothingToVerify(String),
    #[error("The contact has no pending {0} change")]
    NoPendingChange(&'static str),
    #[error("The contact is being deleted and cannot be changed")]
    Deleting,
    #[error("The contact is being deleted already: wait for the task to finish")]
    DeletionRunning,
    #[error("The contact is not being deleted, and its last deletion did not fail")]
    NoDeletion,
    #[error("Only an Active contact can be bound: this one is {0}. Its owner must confirm the email address first.")]
    NotActive(&'static str),
    #[error("{0} is named twice: name each target once")]
    DuplicateTarget(String),
    #[error("The contact is already bound to {0}")]
    AlreadyBound(String),
    #[error("The contact is not bound to {0}")]
    NotBound(String),
    #[error("{0} is not a folder or member of this resource directory")]
    InvalidMember(String),
    #[error("A contact can be bound to at most 10 targets; this one has {bound}. Unbind one first.")]
    TooManyTargets { bound: i64 },
    #[error("The quota cannot be lower than the {used} contacts in use")]
    QuotaBelowUsage { used: i64 },
    #[error(transparent)]
    Directory(#[from] crate::directory::DirectoryError),
    #[error(transparent)]
    Storage(#[from] crate::errors::StorageError),
}

crate::errors::storage_errors!(ContactError);

/// Why a verification link did not work.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Unknown, used, or for an address that is no longer waiting: the page says the same
    /// for all of them, so it reveals nothing.
    #[error("This link cannot be used")]
    Invalid,
    #[error("This link expired")]
    Expired(VerificationView),
    #[error(transparent)]
    Storage(#[from] crate::errors::StorageError),
}

crate::errors::storage_errors!(VerifyError);
