use super::ParseError;

/// A folder's name: 1 to 24 characters, letters (any script), digits, `_`, `.` and `-`
/// (Alibaba's rule, widened to non-Latin letters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderName(String);

impl FolderName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let len = s.chars().count();
        if len == 0 {
            return Err(ParseError::new("Enter a folder name"));
        }
        if len > 24 {
            return Err(ParseError::new(format!("The folder name must be at most 24 characters long (it has {len})")));
        }
        if let Some(c) = s.chars().find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))) {
            return Err(ParseError::new(format!(
                "The folder name may contain letters, digits, _ . and - only ({:?} is not allowed)",
                c
            )));
        }
        Ok(FolderName(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A member's display name: 2 to 50 characters, letters (any script), digits, spaces,
/// `_`, `.`, `-` and `@`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let len = s.chars().count();
        if len == 0 {
            return Err(ParseError::new("Enter a display name"));
        }
        if !(2..=50).contains(&len) {
            return Err(ParseError::new(format!("The display name must be 2 to 50 characters long (it has {len})")));
        }
        if let Some(c) = s.chars().find(|c| !(c.is_alphanumeric() || matches!(c, ' ' | '_' | '.' | '-' | '@'))) {
            return Err(ParseError::new(format!(
                "The display name may contain letters, digits, spaces, _ . - and @ only ({:?} is not allowed)",
                c
            )));
        }
        Ok(DisplayName(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name of a member's own Message Center recipient: 1 to 50 characters, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientName(String);

impl RecipientName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let len = s.chars().count();
        if len == 0 {
            return Err(ParseError::new("Enter the recipient's name"));
        }
        if len > 50 {
            return Err(ParseError::new(format!("The name must be at most 50 characters long (it has {len})")));
        }
        if s.chars().any(char::is_control) {
            return Err(ParseError::new("The name may not contain control characters"));
        }
        Ok(RecipientName(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An administrator's or member user's sign-in name: 3 to 32 of a-z, 0-9, `.`, `_`, `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if !(3..=32).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')) {
            return Err(ParseError::new("A user name is 3 to 32 characters: lower-case letters, digits, . _ and -"));
        }
        Ok(Username(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: at least 10 characters, at most 128.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let len = s.chars().count();
        if len < 10 {
            return Err(ParseError::new("The password must be at least 10 characters long"));
        }
        if len > 128 {
            return Err(ParseError::new("The password must be at most 128 characters long"));
        }
        Ok(Password(s.to_owned()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_follow_the_rule() {
        assert!(FolderName::parse("prod-eu_1.a").is_ok());
        assert!(FolderName::parse("财务").is_ok());
        assert_eq!(FolderName::parse("  ops ").unwrap().as_str(), "ops");
        assert!(FolderName::parse("").is_err());
        assert!(FolderName::parse(&"a".repeat(25)).is_err());
        assert!(FolderName::parse("a b").is_err());
        assert!(FolderName::parse("<script>").is_err());
    }

    #[test]
    fn display_names_follow_the_rule() {
        assert!(DisplayName::parse("Retail prod").is_ok());
        assert!(DisplayName::parse("x").is_err());
        assert!(DisplayName::parse(&"a".repeat(51)).is_err());
        assert!(DisplayName::parse("a\u{0}b").is_err());
    }
}
