//! Alibaba Cloud request signatures, both schemes the official SDKs use
//! (ALIBABA_RPC.md §2.3–2.4). Pure functions: the caller supplies the secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

/// RFC 3986: everything but letters, digits and `-_.~` is encoded.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The parts of an `Authorization: ACS3-HMAC-SHA256 …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V3Authorization {
    pub access_key_id: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

pub const V3_ALGORITHM: &str = "ACS3-HMAC-SHA256";

impl V3Authorization {
    pub fn parse(header: &str) -> Option<V3Authorization> {
        let rest = header.strip_prefix(V3_ALGORITHM)?.trim_start();
        let (mut id, mut headers, mut sig) = (None, None, None);
        for part in rest.split(',') {
            let (k, v) = part.trim().split_once('=')?;
            match k {
                "Credential" => id = Some(v.to_owned()),
                "SignedHeaders" => headers = Some(v.split(';').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect()),
                "Signature" => sig = Some(v.to_ascii_lowercase()),
                _ => {}
            }
        }
        Some(V3Authorization { access_key_id: id?, signed_headers: headers?, signature: sig? })
    }
}

/// The V3 canonical request. `query` is the decoded query string; `header` looks a
/// signed header up by its lower-case name.
pub fn v3_canonical_request<'a>(
    method: &str,
    path: &str,
    query: &[(String, String)],
    signed_headers: &[String],
    header: impl Fn(&str) -> Option<&'a str>,
    body_sha256_hex: &str,
) -> Option<String> {
    let mut q: Vec<&(String, String)> = query.iter().collect();
    q.sort_by(|a, b| a.0.cmp(&b.0));
    let canonical_query = q.iter().map(|(k, v)| format!("{k}={}", percent_encode(v))).collect::<Vec<_>>().join("&");
    let mut names: Vec<&String> = signed_headers.iter().collect();
    names.sort();
    let mut canonical_headers = String::new();
    for name in &names {
        let value = header(name)?;
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(value.trim());
        canonical_headers.push('\n');
    }
    let signed = names.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(";");
    Some(format!("{method}\n{path}\n{canonical_query}\n{canonical_headers}\n{signed}\n{body_sha256_hex}"))
}

pub fn v3_signature(secret: &str, canonical_request: &str) -> String {
    let string_to_sign = format!("{V3_ALGORITHM}\n{}", sha256_hex(canonical_request.as_bytes()));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The V1 (HMAC-SHA1) signature over every parameter except `Signature`.
pub fn v1_signature(secret: &str, method: &str, params: &[(String, String)]) -> String {
    let mut p: Vec<(String, String)> = params.iter().filter(|(k, _)| k != "Signature").map(|(k, v)| (percent_encode(k), percent_encode(v))).collect();
    p.sort();
    let canonical = p.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let string_to_sign = format!("{method}&{}&{}", percent_encode("/"), percent_encode(&canonical));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()).expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Compares two signatures without leaking where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// The captured request of ALIBABA_RPC.md §2.3 (secret `testsecret`).
    #[test]
    fn v3_matches_the_captured_sdk_request() {
        let query = pairs(&[
            ("EmailAddress", "someone@example.com"),
            ("MessageTypes.1", "AccountExpenses"),
            ("MessageTypes.2", "SecurityMessage"),
            ("Name", "tom"),
            ("PhoneNumber", "86-13900001234"),
            ("Title", "TechnicalDirector"),
        ]);
        let auth = V3Authorization::parse(
            "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=accept;host;user-agent;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=6a24efc5be3c770d8920b1f8b10332ae02d7b17b38963f0a69f90b1984923f90",
        )
        .unwrap();
        assert_eq!(auth.access_key_id, "testid");
        let headers = [
            ("host", "127.0.0.1:8080"),
            ("x-acs-version", "2022-04-19"),
            ("x-acs-action", "AddMessageContact"),
            ("user-agent", "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2"),
            ("x-acs-date", "2026-11-28T02:48:39Z"),
            ("x-acs-signature-nonce", "252f21873601738236e7940fde6a6409"),
            ("accept", "application/json"),
            ("x-acs-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("x-acs-credentials-provider", "static_ak"),
        ];
        let canonical =
            v3_canonical_request("POST", "/", &query, &auth.signed_headers, |n| headers.iter().find(|(k, _)| *k == n).map(|(_, v)| *v), &sha256_hex(b""))
                .unwrap();
        assert_eq!(sha256_hex(canonical.as_bytes()), "eea289b339bea1fcf281ef7ec24f31b97092939babaf5d3f9a9e4ab231c1c7d9");
        assert_eq!(v3_signature("testsecret", &canonical), auth.signature);
        assert_ne!(v3_signature("wrongsecret", &canonical), auth.signature);
    }

    /// The captured V1 request of ALIBABA_RPC.md §2.4.
    #[test]
    fn v1_matches_the_captured_sdk_request() {
        let params = pairs(&[
            ("Action", "AddMessageContact"),
            ("Format", "json"),
            ("Version", "2022-04-19"),
            ("Timestamp", "2026-11-28T02:48:40Z"),
            ("SignatureNonce", "9727f46cf39bf5de4dfdee12233f9156"),
            ("EmailAddress", "a@example.com"),
            ("MessageTypes.1", "ServiceMessage"),
            ("MessageTypes.2", "FaultMessage"),
            ("Name", "tom"),
            ("Title", "CEO"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("AccessKeyId", "testid"),
            ("Signature", "sKM0wYywjhID3HjfBxAiPoEsASQ="),
        ]);
        assert_eq!(v1_signature("testsecret", "POST", &params), "sKM0wYywjhID3HjfBxAiPoEsASQ=");
    }

    #[test]
    fn values_are_encoded_the_rfc3986_way() {
        assert_eq!(percent_encode("张三 a*b~c/d"), "%E5%BC%A0%E4%B8%89%20a%2Ab~c%2Fd");
    }
}
