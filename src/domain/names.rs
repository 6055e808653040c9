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
            let why = if c.is_ascii_digit() { format!("\u{201c}{c}\u{201d} is not allowed") } else { super::not_allowed(c) };
            return Err(ParseError::new(format!("The folder name may contain letters, digits, _ . and - only: {why}")));
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
            return Err(ParseError::new(format!("The display name may contain letters, digits, spaces, _ . - and @ only: {}", super::not_allowed(c))));
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

/// A new password: at least 12 characters, at most 128, hard to guess.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

/// The shortest password we take.
pub const MIN_PASSWORD_CHARS: usize = 12;

impl Password {
    /// At least 12 characters, at most 128, and not easy to guess: zxcvbn's estimate
    /// (common passwords, words, names, keyboard patterns, dates) must be "safely
    /// unguessable" (score 3 of 4) or better.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Password::parse_for(s, &[])
    }

    /// The same, also refusing passwords built from the user's own name or email.
    pub fn parse_for(s: &str, user_inputs: &[&str]) -> Result<Self, ParseError> {
        let len = s.chars().count();
        if len < MIN_PASSWORD_CHARS {
            return Err(ParseError::new(format!("The password must be at least {MIN_PASSWORD_CHARS} characters long")));
        }
        if len > 128 {
            return Err(ParseError::new("The password must be at most 128 characters long"));
        }
        // The pieces of the user's name or address: none may appear in the password.
        let words: Vec<String> =
            user_inputs.iter().flat_map(|i| i.split(|c: char| !c.is_alphanumeric())).filter(|w| w.chars().count() >= 4).map(str::to_lowercase).collect();
        let lower = s.to_lowercase();
        if words.iter().any(|w| lower.contains(w.as_str())) {
            return Err(ParseError::new("The password must not contain your user name or email address"));
        }
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let estimate = zxcvbn::zxcvbn(s, &words);
        if (estimate.score() as u8) < 3 {
            let why = estimate.feedback().and_then(|f| f.warning()).map(|w| format!(" ({w})")).unwrap_or_default();
            return Err(ParseError::new(format!(
                "This password is too easy to guess{why}. Use a longer passphrase of unrelated words, or one your password manager makes up"
            )));
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
    fn a_password_is_long_and_hard_to_guess() {
        assert!(Password::parse("Tide-lantern-91-quartz").is_ok());
        for weak in ["short1!", "password1234", "aaaaaaaaaaaaaaaa", "qwertyuiopasdf", "123456789012"] {
            assert!(Password::parse(weak).is_err(), "{weak} is refused");
        }
        assert!(Password::parse("password1234").unwrap_err().message.contains("too easy to guess"));
        assert!(Password::parse("zorbulaxquimbly7").is_ok());
        assert!(Password::parse_for("zorbulaxquimbly7", &["zorbulax.quimbly@example.com"]).is_err(), "not from the user's own name or address");
    }

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
