//! Tags on folders and members, with Alibaba's limits: at most 20 a resource, a key of 1
//! to 128 characters and a value of at most 128, neither starting with `aliyun` or
//! `acs:` (reserved), neither holding `http://` or `https://`.

use super::ParseError;

/// At most this many tags on one resource.
pub const MAX_TAGS: usize = 20;
const MAX_LEN: usize = 128;

/// What a tag is on: the API's `ResourceType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaggedKind {
    Account,
    Folder,
}

impl TaggedKind {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s.trim() {
            t if t.eq_ignore_ascii_case("Account") => Ok(TaggedKind::Account),
            t if t.eq_ignore_ascii_case("Folder") => Ok(TaggedKind::Folder),
            _ => Err(ParseError::new("Use Account (members) or Folder")),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            TaggedKind::Account => "Account",
            TaggedKind::Folder => "Folder",
        }
    }
}

fn check(what: &str, s: &str) -> Result<(), ParseError> {
    let len = s.chars().count();
    if len > MAX_LEN {
        return Err(ParseError::new(format!("A tag {what} must be at most {MAX_LEN} characters long (it has {len})")));
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(ParseError::new(format!("A tag {what} may not contain control characters: {}", super::not_allowed(c))));
    }
    let lower = s.to_lowercase();
    if lower.contains("http://") || lower.contains("https://") {
        return Err(ParseError::new(format!("A tag {what} may not contain http:// or https://")));
    }
    Ok(())
}

/// A tag key: 1 to 128 characters, not starting with the reserved `aliyun` or `acs:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagKey(String);

impl TagKey {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::new("Enter a tag key"));
        }
        check("key", s)?;
        let lower = s.to_lowercase();
        if lower.starts_with("aliyun") || lower.starts_with("acs:") {
            return Err(ParseError::new("Tag keys starting with aliyun or acs: are reserved: choose another key"));
        }
        Ok(TagKey(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tag value: at most 128 characters (it may be empty).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagValue(String);

impl TagValue {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        check("value", s)?;
        let lower = s.to_lowercase();
        if lower.starts_with("aliyun") || lower.starts_with("acs:") {
            return Err(ParseError::new("Tag values starting with aliyun or acs: are reserved: choose another value"));
        }
        Ok(TagValue(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One tag: a key and its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    pub key: TagKey,
    pub value: TagValue,
}

impl Tag {
    /// `key=value` (or just `key`) as typed in the console's tag filter.
    pub fn parse_pair(s: &str) -> Result<Self, ParseError> {
        let (k, v) = s.split_once('=').unwrap_or((s, ""));
        Ok(Tag { key: TagKey::parse(k)?, value: TagValue::parse(v)? })
    }
}

/// Tags to set: each key once, at most [`MAX_TAGS`].
pub fn distinct_tags(tags: Vec<Tag>) -> Result<Vec<Tag>, ParseError> {
    let mut seen = std::collections::HashSet::new();
    for t in &tags {
        if !seen.insert(t.key.as_str().to_owned()) {
            return Err(ParseError::new(format!("The tag key {:?} is named twice: name each key once", t.key.as_str())));
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(ParseError::new(format!("At most {MAX_TAGS} tags can be given at once (there are {})", tags.len())));
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_follow_alibabas_limits() {
        assert!(TagKey::parse("env").is_ok());
        assert!(TagKey::parse("").is_err());
        assert!(TagKey::parse(&"k".repeat(128)).is_ok());
        assert!(TagKey::parse(&"k".repeat(129)).is_err());
        assert!(TagKey::parse("aliyun:x").unwrap_err().to_string().contains("reserved"));
        assert!(TagKey::parse("ACS:x").is_err());
        assert!(TagKey::parse("see https://x").is_err());
        assert_eq!(TagValue::parse("").unwrap().as_str(), "");
        assert!(TagValue::parse(&"v".repeat(129)).is_err());
        assert_eq!(Tag::parse_pair("env=prod").unwrap().value.as_str(), "prod");
        assert_eq!(Tag::parse_pair("team").unwrap().value.as_str(), "");
    }

    #[test]
    fn a_key_is_given_once_and_at_most_twenty() {
        let t = |k: &str| Tag { key: TagKey::parse(k).unwrap(), value: TagValue::parse("").unwrap() };
        assert!(distinct_tags(vec![t("a"), t("a")]).is_err());
        assert!(distinct_tags((0..21).map(|i| t(&format!("k{i}"))).collect()).is_err());
        assert_eq!(distinct_tags((0..20).map(|i| t(&format!("k{i}"))).collect()).unwrap().len(), 20);
    }
}
