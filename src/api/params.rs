//! The parameters of one API call: the query string and a form body merged, with
//! typed accessors that answer with Alibaba's `MissingParameter.*`/`InvalidParameter.*`.

use super::error::ApiError;
use crate::domain::{PageRequest, ParseError};

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
    fn paging_is_bounded() {
        assert_eq!(params(&[]).page().unwrap(), PageRequest { number: 1, size: 10, clamp: false });
        assert_eq!(params(&[("PageSize", "101")]).page().unwrap_err().code, "InvalidParameter.PageSize");
        assert_eq!(params(&[("PageNumber", "0")]).page().unwrap_err().code, "InvalidParameter.PageNumber");
    }
}
