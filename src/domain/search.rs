//! What someone types into a search box.

use super::ParseError;

/// Search text: trimmed, 1 to 100 characters, no control characters (a NUL would reach
/// PostgreSQL as an error, and a very long pattern makes SQLite's LIKE give up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    pub const MAX_CHARS: usize = 100;

    /// `None` for an empty search (everything matches).
    pub fn parse(s: &str) -> Result<Option<SearchText>, ParseError> {
        let t = s.trim();
        if t.is_empty() {
            return Ok(None);
        }
        if t.chars().any(char::is_control) {
            return Err(ParseError::new("Search for letters, digits, spaces and punctuation: control characters cannot be searched for"));
        }
        if t.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new(format!("Search for at most {} characters", Self::MAX_CHARS)));
        }
        Ok(Some(SearchText(t.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_short_and_free_of_control_characters() {
        assert_eq!(SearchText::parse("  retail ").unwrap().unwrap().as_str(), "retail");
        assert_eq!(SearchText::parse("   ").unwrap(), None);
        assert!(SearchText::parse("a\0b").is_err());
        assert!(SearchText::parse("tab\there").is_err());
        assert!(SearchText::parse(&"x".repeat(50_000)).unwrap_err().message.contains("at most 100"));
        assert!(SearchText::parse("张三 (ops) 100%_").is_ok());
    }
}
