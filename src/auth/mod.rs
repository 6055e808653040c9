//! Who may do what: console administrators (argon2 password hashes), API access keys
//! (secrets sealed at rest) and the replay guard for signed API requests.

pub mod access_keys;
pub mod admins;
pub mod login;
pub mod member_users;
pub mod passwords;
pub mod sessions;

pub use crate::secrets::SecretBox;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("The user name or password is not correct")]
    BadCredentials,
    #[error("An administrator named {0:?} already exists")]
    UsernameTaken(String),
    #[error("could not hash the password: {0}")]
    Hash(String),
    #[error("a stored secret could not be opened: was RDC_SECRET_KEY changed?")]
    Unseal,
    #[error(transparent)]
    Storage(#[from] crate::errors::StorageError),
}

crate::errors::storage_errors!(AuthError);
