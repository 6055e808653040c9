//! The parameters of one API call: the query string and a form body merged, with
//! typed accessors that answer with Alibaba's `MissingParameter.*`/`InvalidParameter.*`.

use super::error::ApiError;
use crate::domain::{PageRequest, ParseError, Tag, TagKey, TagValue, distinct_tags};
use crate::secrets::SecretBox;

/// Parameters every request may carry that no action reads.
const COMMON: &[&str] = &[
    "Action",
    "Version",
    "Format",
    "Timestamp",
    "SignatureNonce",
    "SignatureMethod",
    "SignatureVersion",
    "AccessKeyId",
    "Signature",
    "SecurityToken",
    "RegionId",
];

#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn new(pairs: Vec<(String, String)>) -> Params {
        Params { pairs: pairs.into_iter().filter(|(k, _)| !COMMON.contains(&k.as_str())).collect() }
    }

    /// A present, non-blank value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty())
    }

    /// The value as sent, even when empty (`PhoneNumber=""` clears a number).
    pub fn sent(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| ApiError::missing(name))
    }

    /// A required value parsed into a domain type.
    pub fn parse<T>(&self, name: &str, parse: impl Fn(&str) -> Result<T, ParseError>) -> Result<T, ApiError> {
        parse(self.required(name)?).map_err(|e| ApiError::invalid(name, e))
    }

    /// An optional value parsed into a domain type.
    pub fn parse_opt<T>(&self, name: &str, parse: impl Fn(&str) -> Result<T, ParseError>) -> Result<Option<T>, ApiError> {
        self.get(name).map(|v| parse(v).map_err(|e| ApiError::invalid(name, e))).transpose()
    }

    /// `Name.1`, `Name.2`, … in index order.
    pub fn list(&self, name: &str) -> Result<Vec<String>, ApiError> {
        let prefix = format!("{name}.");
        let mut items = Vec::new();
        for (k, v) in &self.pairs {
            if let Some(index) = k.strip_prefix(&prefix) {
                let n: u32 = index.parse().map_err(|_| ApiError::invalid(name, format!("{k} is not of the form {name}.N")))?;
                items.push((n, v.clone()));
            }
        }
        items.sort_by_key(|(n, _)| *n);
        Ok(items.into_iter().map(|(_, v)| v).collect())
    }

    /// Booleans in any case (`True` from the Python SDK, `true` from others).
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::invalid(name, "Use true or false.")),
        }
    }

    pub fn int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(ApiError::invalid(name, format!("Use a whole number from {min} to {max}."))),
            },
        }
    }

    /// `PageNumber` (from 1) and `PageSize` (1 to 100, default 10).
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let number = self.int("PageNumber", 1, 1_000_000)?;
        let size = self.int("PageSize", 1, PageRequest::MAX_SIZE)?;
        Ok(PageRequest::new(number, size))
    }

    /// Token paging where the action has it: with `MaxResults` (1 to 100, default 10) or
    /// a `NextToken`, the page after the token; otherwise `PageNumber`/`PageSize`. The
    /// answer is `Some` in token mode.
    pub fn page_or_token(&self, action: &str, secrets: &SecretBox) -> Result<(PageRequest, Option<Tokens>), ApiError> {
        if self.get("MaxResults").is_none() && self.get("NextToken").is_none() {
            return Ok((self.page()?, None));
        }
        let (page, tokens) = self.token_page(action, secrets)?;
        Ok((page, Some(tokens)))
    }

    /// Token paging only: `MaxResults` (1 to 100, default 10) after `NextToken`.
    pub fn token_page(&self, action: &str, secrets: &SecretBox) -> Result<(PageRequest, Tokens), ApiError> {
        let max = self.int("MaxResults", 1, PageRequest::MAX_SIZE)?;
        let tokens = Tokens { action: action.to_owned(), secrets: secrets.clone() };
        let skip = match self.get("NextToken") {
            Some(t) => tokens.open(t)?,
            None => 0,
        };
        Ok((PageRequest::from_offset(skip, max.unwrap_or(PageRequest::DEFAULT_SIZE)), tokens))
    }

    /// Keyset paging: `MaxResults` (1 to 100, default 10) and the position a `NextToken`
    /// sealed (none: from the start).
    pub fn cursor(&self, action: &str, secrets: &SecretBox) -> Result<(Option<i64>, i64, Tokens), ApiError> {
        let max = self.int("MaxResults", 1, PageRequest::MAX_SIZE)?.unwrap_or(PageRequest::DEFAULT_SIZE);
        let tokens = Tokens { action: action.to_owned(), secrets: secrets.clone() };
        let at = self.get("NextToken").map(|t| tokens.open(t)).transpose()?;
        Ok((at, max, tokens))
    }

    /// `Name.N.Key` / `Name.N.Value` pairs (the SDKs' flattened `Tag` lists), each key once.
    pub fn tags(&self, name: &str) -> Result<Vec<Tag>, ApiError> {
        let prefix = format!("{name}.");
        let mut found: std::collections::BTreeMap<u32, (Option<&str>, Option<&str>)> = Default::default();
        for (k, v) in &self.pairs {
            let Some(rest) = k.strip_prefix(&prefix) else { continue };
            let (index, field) = rest.split_once('.').ok_or_else(|| ApiError::invalid(name, format!("{k} is not of the form {name}.N.Key")))?;
            let n: u32 = index.parse().map_err(|_| ApiError::invalid(name, format!("{k} is not of the form {name}.N.Key")))?;
            let slot = found.entry(n).or_default();
            match field {
                "Key" => slot.0 = Some(v.as_str()),
                "Value" => slot.1 = Some(v.as_str()),
                _ => return Err(ApiError::invalid(name, format!("{k}: use {name}.N.Key and {name}.N.Value"))),
            }
        }
        let mut tags = Vec::new();
        for (n, (key, value)) in found {
            let key = key.ok_or_else(|| ApiError::missing(&format!("{name}.{n}.Key")))?;
            let key = TagKey::parse(key).map_err(|e| ApiError::invalid(&format!("{name}.Key"), e))?;
            let value = TagValue::parse(value.unwrap_or("")).map_err(|e| ApiError::invalid(&format!("{name}.Value"), e))?;
            tags.push(Tag { key, value });
        }
        distinct_tags(tags).map_err(|e| ApiError::invalid(name, e))
    }
}

/// Opaque, tamper-proof page tokens: the offset sealed with the server's key and bound
/// to the action, so a token can be neither forged, edited nor used by another list.
pub struct Tokens {
    action: String,
    secrets: SecretBox,
}

impl Tokens {
    /// The token for the page that starts after `skip` items.
    pub fn after(&self, skip: i64) -> String {
        self.secrets.seal(&format!("{}:{skip}", self.action)).replace('+', "-").replace('/', "_").trim_end_matches('=').to_owned()
    }

    fn open(&self, token: &str) -> Result<i64, ApiError> {
        let bad = || ApiError::invalid("NextToken", "Pass the NextToken of the previous answer, unchanged.");
        let mut standard = token.trim().replace('-', "+").replace('_', "/");
        while !standard.len().is_multiple_of(4) {
            standard.push('=');
        }
        let plain = self.secrets.open(&standard).ok_or_else(bad)?;
        let (action, skip) = plain.rsplit_once(':').ok_or_else(bad)?;
        if action != self.action {
            return Err(bad());
        }
        skip.parse::<i64>().ok().filter(|s| *s >= 0).ok_or_else(bad)
    }

    /// `NextToken` for an answer that showed `page` of `total`: absent on the last page.
    pub fn next(&self, page: &PageRequest, shown: usize, total: i64) -> Option<String> {
        let end = page.offset() + shown as i64;
        (shown > 0 && end < total).then(|| self.after(end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(list: &[(&str, &str)]) -> Params {
        Params::new(list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn lists_come_back_in_index_order() {
        let p = params(&[("Members.2", "b"), ("Members.10", "c"), ("Members.1", "a"), ("Other", "x")]);
        assert_eq!(p.list("Members").unwrap(), ["a", "b", "c"]);
        assert!(params(&[("Members.x", "a")]).list("Members").is_err());
    }

    #[test]
    fn booleans_are_read_in_any_case() {
        assert_eq!(params(&[("B", "True")]).bool("B").unwrap(), Some(true));
        assert_eq!(params(&[("B", "FALSE")]).bool("B").unwrap(), Some(false));
        assert_eq!(params(&[]).bool("B").unwrap(), None);
        assert_eq!(params(&[("B", "yes")]).bool("B").unwrap_err().code, "InvalidParameter.B");
    }

    #[test]
    fn a_page_token_cannot_be_forged_edited_or_used_by_another_list() {
        let secrets = SecretBox::new(b"a test key that is long enough for the derivation");
        let (first, tokens) = params(&[("MaxResults", "2")]).page_or_token("ListAccounts", &secrets).unwrap();
        assert_eq!((first.offset(), first.size), (0, 2));
        let token = tokens.unwrap().next(&first, 2, 5).unwrap();
        let (second, _) = params(&[("MaxResults", "2"), ("NextToken", &token)]).page_or_token("ListAccounts", &secrets).unwrap();
        assert_eq!(second.offset(), 2);
        let err = |p: Params, action: &str| p.page_or_token(action, &secrets).err().map(|e| e.code);
        assert_eq!(err(params(&[("NextToken", &token)]), "ListTagKeys").as_deref(), Some("InvalidParameter.NextToken"));
        let mut edited = token.clone().into_bytes();
        edited[5] = if edited[5] == b'A' { b'B' } else { b'A' };
        assert_eq!(err(params(&[("NextToken", std::str::from_utf8(&edited).unwrap())]), "ListAccounts").as_deref(), Some("InvalidParameter.NextToken"));
        assert_eq!(err(params(&[("NextToken", "2")]), "ListAccounts").as_deref(), Some("InvalidParameter.NextToken"));
        let (_, none) = params(&[]).page_or_token("ListAccounts", &secrets).unwrap();
        assert!(none.is_none(), "without MaxResults or NextToken, PageNumber paging");
    }

    #[test]
    fn tags_come_as_key_value_pairs_each_key_once() {
        let tags = params(&[("Tag.2.Key", "team"), ("Tag.1.Key", "env"), ("Tag.1.Value", "prod")]).tags("Tag").unwrap();
        assert_eq!(tags.iter().map(|t| (t.key.as_str(), t.value.as_str())).collect::<Vec<_>>(), [("env", "prod"), ("team", "")]);
        assert_eq!(params(&[("Tag.1.Value", "x")]).tags("Tag").unwrap_err().code, "MissingParameter.Tag.1.Key");
        assert_eq!(params(&[("Tag.1.Key", "a"), ("Tag.2.Key", "a")]).tags("Tag").unwrap_err().code, "InvalidParameter.Tag");
        assert_eq!(params(&[("Tag.1.Key", "acs:x")]).tags("Tag").unwrap_err().code, "InvalidParameter.Tag.Key");
    }

    #[test]
    fn paging_is_bounded() {
        assert_eq!(params(&[]).page().unwrap(), PageRequest { number: 1, size: 10, clamp: false, skip: None });
        assert_eq!(params(&[("PageSize", "101")]).page().unwrap_err().code, "InvalidParameter.PageSize");
        assert_eq!(params(&[("PageNumber", "0")]).page().unwrap_err().code, "InvalidParameter.PageNumber");
    }
}
