use std::fmt;

use rand::RngExt;

use super::ParseError;

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` random letters and digits, from the thread's CSPRNG.
pub fn random_alphanumeric(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| ALPHANUMERIC[rng.random_range(0..ALPHANUMERIC.len())] as char).collect()
}

fn has_shape(s: &str, prefix: &str, len: usize) -> bool {
    s.strip_prefix(prefix).is_some_and(|rest| rest.len() == len && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The resource directory's id: `rd-` and 6 letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceDirectoryId(String);

impl ResourceDirectoryId {
    pub fn generate() -> Self {
        ResourceDirectoryId(format!("rd-{}", random_alphanumeric(6)))
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if has_shape(s, "rd-", 6) {
            Ok(ResourceDirectoryId(s.to_owned()))
        } else {
            Err(ParseError::new("A resource directory id is rd- followed by 6 letters or digits"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A folder id: the root's (`r-` and 6 letters or digits) or another folder's (`fd-` and 10).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FolderId(String);

impl FolderId {
    pub fn generate_root() -> Self {
        FolderId(format!("r-{}", random_alphanumeric(6)))
    }
    pub fn generate() -> Self {
        FolderId(format!("fd-{}", random_alphanumeric(10)))
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if has_shape(s, "r-", 6) || has_shape(s, "fd-", 10) {
            Ok(FolderId(s.to_owned()))
        } else {
            Err(ParseError::new("A folder id is r- followed by 6 letters or digits, or fd- followed by 10"))
        }
    }
    pub fn is_root(&self) -> bool {
        self.0.starts_with("r-")
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A member account id: 16 digits, not starting with 0.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountId(String);

impl AccountId {
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let first = rng.random_range(1..10u8);
        let rest: String = (0..15).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect();
        AccountId(format!("{first}{rest}"))
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.len() == 16 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(s.to_owned()))
        } else {
            Err(ParseError::new("A member account id is 16 digits"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Anything a contact can be bound to: the directory (by its id or the root's), a folder,
/// or a member.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TargetId {
    Directory(ResourceDirectoryId),
    Folder(FolderId),
    Account(AccountId),
}

impl TargetId {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if let Ok(rd) = ResourceDirectoryId::parse(s) {
            Ok(TargetId::Directory(rd))
        } else if let Ok(f) = FolderId::parse(s) {
            Ok(TargetId::Folder(f))
        } else if let Ok(a) = AccountId::parse(s) {
            Ok(TargetId::Account(a))
        } else {
            Err(ParseError::new("A target is a resource directory id (rd-…), a folder id (r-… or fd-…) or a 16-digit member id"))
        }
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
display_as_str!(ResourceDirectoryId, FolderId, AccountId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back() {
        for _ in 0..100 {
            let rd = ResourceDirectoryId::generate();
            assert_eq!(ResourceDirectoryId::parse(rd.as_str()).unwrap(), rd);
            let root = FolderId::generate_root();
            assert!(FolderId::parse(root.as_str()).unwrap().is_root());
            let fd = FolderId::generate();
            assert!(!FolderId::parse(fd.as_str()).unwrap().is_root());
            let acc = AccountId::generate();
            assert_eq!(AccountId::parse(acc.as_str()).unwrap(), acc);
            assert!(!acc.as_str().starts_with('0'));
        }
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in ["", "fd-", "fd-abc", "fd-abcdefghij1", "r-abc", "rd-12345", "fd-abcde!ghij", "123456789012345", "12345678901234567", "abcdefghijklmnop"] {
            assert!(FolderId::parse(bad).is_err() || AccountId::parse(bad).is_err(), "{bad}");
            assert!(TargetId::parse(bad).is_err(), "{bad}");
        }
        assert!(matches!(TargetId::parse("rd-abc123"), Ok(TargetId::Directory(_))));
        assert!(matches!(TargetId::parse("r-abc123"), Ok(TargetId::Folder(_))));
        assert!(matches!(TargetId::parse("1234567890123456"), Ok(TargetId::Account(_))));
    }
}
