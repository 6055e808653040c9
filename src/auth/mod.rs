//! Who may do what: console administrators (argon2 password hashes), API access keys
//! (secrets sealed at rest) and the replay guard for signed API requests.

pub mod access_keys;
pub mod admin_invitations;
pub mod admins;
pub mod login;
pub mod member_users;
pub mod passwords;
pub mod sessions;

pub use crate::secrets::SecretBox;

/// What an administrator or access key may do: `Admin` changes anything, `Viewer` reads
/// everything and changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    #[default]
    Admin,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Admin, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator (changes anything)",
            Role::Viewer => "Viewer (reads everything, changes nothing)",
        }
    }

    pub fn parse(s: &str) -> Result<Role, crate::domain::ParseError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| crate::domain::ParseError::new("Choose the role admin (changes anything) or viewer (reads only)."))
    }

    /// A stored role; an unknown one reads as the least powerful.
    pub fn stored(s: &str) -> Role {
        Role::parse(s).unwrap_or(Role::Viewer)
    }

    pub fn can_change(self) -> bool {
        self == Role::Admin
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    #[error("There is no administrator {0}")]
    AdminNotFound(String),
    #[error("{0} is the last administrator who can change things: give another administrator that role first")]
    LastAdmin(String),
    #[error("There is no access key {0}")]
    KeyNotFound(String),
    #[error(transparent)]
    Storage(#[from] crate::errors::StorageError),
}

crate::errors::storage_errors!(AuthError);
