//! The Alibaba Cloud-compatible RPC API (ResourceDirectoryMaster 2022-04-19):
//! `POST /` (and `GET /` with V1 query signing). This module checks the signature,
//! the time window and the nonce, then dispatches on the action; one file per area.

mod audit;
mod contacts;
mod coverage;
mod directory;
pub mod error;
mod notifications;
pub mod params;
pub mod signature;
mod tags;

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use self::error::ApiError;
use self::params::Params;
use self::signature::{V3_ALGORITHM, V3Authorization};
use crate::audit::Actor;
use crate::auth::Role;
use crate::auth::access_keys::{self, REQUEST_WINDOW};
use crate::db;
use crate::state::AppState;

pub const VERSION: &str = "2022-04-19";
/// The older Resource Manager version: its SDK sends the same directory actions.
pub const RM_VERSION: &str = "2020-03-31";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::post().to(endpoint)).route("/", web::get().guard(actix_web::guard::fn_guard(|ctx| is_api_call(ctx.head()))).to(endpoint));
}

/// A GET of `/` is an API call (not the console) when it is signed the V1 way (the query
/// has `Action`/`Signature`) or the V3 way (an `Authorization: ACS3-…` header or an
/// `x-acs-action` header).
fn is_api_call(head: &actix_web::dev::RequestHead) -> bool {
    let q = head.uri.query().unwrap_or("");
    let v1 = q.split('&').any(|pair| pair.starts_with("Signature=") || pair.starts_with("Action="));
    let v3 =
        head.headers.get("authorization").and_then(|v| v.to_str().ok()).is_some_and(|a| a.starts_with("ACS3-")) || head.headers.contains_key("x-acs-action");
    v1 || v3
}

/// A successful answer: the action's fields, to which the endpoint adds `RequestId`.
pub type ApiResult = Result<Answer, ApiError>;

/// The fields of a successful answer.
pub enum Answer {
    /// Built as JSON values (`json!`): the small answers.
    Fields(Map<String, Value>),
    /// A JSON object written straight from typed rows: the long lists, where a `Value`
    /// a field would cost more than their read. It has no `null` in it.
    Written(String),
}

impl Answer {
    /// An object written from a typed answer, whose absent fields are skipped.
    pub fn written(fields: &impl serde::Serialize) -> Answer {
        Answer::Written(serde_json::to_string(fields).expect("API answers serialize"))
    }

    /// The answer's JSON body, with `RequestId` in it.
    fn body(self, request_id: &str) -> String {
        match self {
            Answer::Fields(mut fields) => {
                fields.insert("RequestId".into(), Value::String(request_id.to_owned()));
                let mut body = Value::Object(fields);
                drop_nulls(&mut body);
                body.to_string()
            }
            Answer::Written(object) => {
                let id = serde_json::to_string(request_id).expect("a string serializes");
                match object.strip_prefix('{') {
                    Some("}") | None => format!("{{\"RequestId\":{id}}}"),
                    Some(rest) => format!("{{\"RequestId\":{id},{rest}"),
                }
            }
        }
    }
}

/// A JSON object from `json!({…})`.
pub fn object(v: Value) -> Answer {
    Answer::Fields(match v {
        Value::Object(m) => m,
        _ => Map::new(),
    })
}

/// The largest request body taken: room for PublishNotification's 20,000 characters.
pub const BODY_LIMIT: usize = 256 * 1024;

/// Reads the body up to `BODY_LIMIT`; beyond it, a JSON error the SDKs can read.
async fn read_body(mut payload: web::Payload) -> Result<Bytes, ApiError> {
    use futures_util::StreamExt;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::new(400, "InvalidParameter", "The request body could not be read."))?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(ApiError::new(413, "RequestEntityTooLarge", format!("The request body is larger than {} KB.", BODY_LIMIT / 1024)));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

async fn endpoint(state: web::Data<AppState>, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    let request_id = crate::state::RequestId::of(&req);
    let outcome = match read_body(payload).await {
        // A read action's views start from the version read with its key (`secret_of`).
        Ok(body) => crate::directory::with_offered_version(true, false, handle(&state, &req, &body)).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(answer) => HttpResponse::Ok().content_type("application/json;charset=utf-8").body(answer.body(&request_id)),
        Err(e) => {
            tracing::info!(code = %e.code, status = e.status.as_u16(), "API call refused");
            e.to_response(&request_id)
        }
    }
}

/// Fields without a value are left out, as Alibaba's answers leave them out: an SDK
/// reads an absent field as unset, while some clients choke on `null`.
fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, field| !field.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// The request after authentication: which action, and its parameters.
struct Call {
    access_key_id: String,
    role: Role,
    action: String,
    version: String,
    params: Params,
}

async fn handle(state: &AppState, req: &HttpRequest, body: &Bytes) -> ApiResult {
    let call = authenticate(state, req, body).await?;
    if !is_read_action(&call.action) {
        // It writes: its views read the version after its writes.
        crate::directory::withdraw_offer();
    }
    if call.version != VERSION && call.version != RM_VERSION {
        return Err(ApiError::new(400, "InvalidVersion", format!("Specified version {:?} is not supported; use {VERSION}.", call.version)));
    }
    if !call.role.can_change() && !is_read_action(&call.action) {
        return Err(ApiError::new(
            403,
            "Forbidden.ReadOnly",
            format!("This access key is read-only: {} changes something. Use a key with the admin role.", call.action),
        ));
    }
    let actor = Actor::access_key(&call.access_key_id, crate::state::RequestId::of(req));
    if let Some(result) = directory::dispatch(state, &actor, &call.action, &call.params).await {
        return result;
    }
    if let Some(result) = tags::dispatch(state, &actor, &call.action, &call.params).await {
        return result;
    }
    if let Some(result) = notifications::dispatch(state, &actor, &call.action, &call.params).await {
        return result;
    }
    if let Some(result) = audit::dispatch(state, &call.action, &call.params).await {
        return result;
    }
    if let Some(result) = coverage::dispatch(state, &call.action, &call.params).await {
        return result;
    }
    contacts::dispatch(state, &actor, &call.action, &call.params).await.unwrap_or_else(|| Err(unsupported(&call.action)))
}

/// Actions that only read (`Get…`, `List…`): all a read-only key may call.
pub fn is_read_action(action: &str) -> bool {
    action.starts_with("Get") || action.starts_with("List")
}

/// An action this server does not run. Never a 404: Terraform reads any 404 as "the
/// resource is gone", so `terraform destroy` would report success while nothing happened.
fn unsupported(action: &str) -> ApiError {
    ApiError::new(
        400,
        "OperationNotSupported.Action",
        format!("The action {action:?} is not supported by this rd-contacts server (see the README's API section for the supported actions)."),
    )
}

fn decode_pairs(raw: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_bytes(raw).map_err(|_| ApiError::new(400, "InvalidParameter", "The request parameters could not be decoded."))
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Checks the signature (V3 header or V1 query), the time window and the nonce.
async fn authenticate(state: &AppState, req: &HttpRequest, body: &Bytes) -> Result<Call, ApiError> {
    let query = decode_pairs(req.query_string().as_bytes())?;
    let is_form = header(req, "content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let form = if is_form && !body.is_empty() { decode_pairs(body)? } else { Vec::new() };
    let all: Vec<(String, String)> = query.iter().chain(form.iter()).cloned().collect();
    let param = |name: &str| all.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if let Some((_, format)) = all.iter().find(|(k, v)| k == "Format" && !v.eq_ignore_ascii_case("JSON")) {
        return Err(ApiError::new(400, "InvalidParameter.Format", format!("Format {format:?} is not supported: answers are JSON only (use Format=JSON).")));
    }

    let authorization = header(req, "authorization").filter(|a| a.starts_with(V3_ALGORITHM));
    // The nonce goes with the key's read, to be recorded in the same statement, when the
    // call looks as if it could pass; a forged one's is forgotten once its signature fails.
    let claimed = |v3: &str, v1: &str| if authorization.is_some() { header(req, v3) } else { param(v1) };
    let action = claimed("x-acs-action", "Action");
    let for_a_read = action.is_some_and(is_read_action);
    let nonce = claimed("x-acs-signature-nonce", "SignatureNonce")
        .filter(|n| action.is_some() && valid_nonce(n) && claimed("x-acs-date", "Timestamp").is_some_and(|t| check_time(t).is_ok()))
        .map(str::to_owned);
    let (key_id, key, fresh, timestamp, nonce, action, version) = if let Some(auth) = authorization {
        let auth = V3Authorization::parse(auth).ok_or_else(|| ApiError::new(400, "IncompleteSignature", "The Authorization header is malformed."))?;
        // The headers that carry the request's meaning must be signed (the official SDKs
        // sign them all), or a captured signature could be replayed as another action.
        let mut must_sign: Vec<&str> = MUST_SIGN.to_vec();
        if !body.is_empty() {
            must_sign.push("content-type");
        }
        if let Some(missing) = must_sign.iter().find(|h| !auth.signed_headers.iter().any(|s| s == *h)) {
            return Err(ApiError::new(400, "IncompleteSignature", format!("The {missing} header must be signed: list it in SignedHeaders.")));
        }
        let (key, fresh) = check_in(state, &auth.access_key_id, nonce.as_deref(), for_a_read).await?;
        let body_hash = signature::sha256_hex(body);
        let canonical = signature::v3_canonical_request(req.method().as_str(), req.path(), &query, &auth.signed_headers, |n| header(req, n), &body_hash);
        let refused = if !header(req, "x-acs-content-sha256").is_some_and(|h| h.eq_ignore_ascii_case(&body_hash)) {
            Some(ApiError::new(400, "ContentSHA256NotMatch", "The x-acs-content-sha256 header does not match the request body."))
        } else if let Some(canonical) = canonical {
            (!signature::same(&signature::v3_signature(&key.secret, &canonical), &auth.signature)).then(signature_mismatch)
        } else {
            Some(ApiError::new(400, "IncompleteSignature", "A header named in SignedHeaders is missing from the request."))
        };
        if let Some(refused) = refused {
            return Err(forget_unsigned(state, fresh, nonce).await.unwrap_or(refused));
        }
        let required = |name: &str| {
            header(req, name).map(str::to_owned).ok_or_else(|| ApiError::new(400, "IncompleteSignature", format!("The {name} header is required.")))
        };
        (auth.access_key_id, key, fresh, required("x-acs-date")?, required("x-acs-signature-nonce")?, required("x-acs-action")?, required("x-acs-version")?)
    } else if let Some(sig) = param("Signature") {
        let key_id = param("AccessKeyId").ok_or_else(|| ApiError::missing("AccessKeyId"))?.to_owned();
        let (key, fresh) = check_in(state, &key_id, nonce.as_deref(), for_a_read).await?;
        if !signature::same(&signature::v1_signature(&key.secret, req.method().as_str(), &all), sig) {
            return Err(forget_unsigned(state, fresh, nonce).await.unwrap_or_else(signature_mismatch));
        }
        let required = |name: &str| param(name).map(str::to_owned).ok_or_else(|| ApiError::missing(name));
        (key_id, key, fresh, required("Timestamp")?, required("SignatureNonce")?, required("Action")?, required("Version")?)
    } else {
        return Err(ApiError::new(400, "MissingParameter.Signature", "The request is not signed: sign it with an AccessKey (ACS3-HMAC-SHA256 or HMAC-SHA1)."));
    };

    check_time(&timestamp)?;
    if !valid_nonce(&nonce) {
        return Err(ApiError::new(400, "InvalidParameter.SignatureNonce", "SignatureNonce must be a unique value of 1 to 128 characters for each request."));
    }
    if !fresh {
        return Err(ApiError::new(400, "SignatureNonceUsed", "The request signature nonce has been used."));
    }
    if key.enabled && access_keys::touch_due(&key_id) {
        let used = key_id.clone();
        db::run(&state.pool, move |c| access_keys::touch(c, &used).map_err(ApiError::from)).await?;
    }
    // Said only to whoever holds the secret: the signature was checked first.
    if !key.enabled {
        return Err(ApiError::new(400, "InvalidAccessKeyId.Inactive", "Specified access key is disabled."));
    }
    tracing::debug!(access_key.id = %key_id, action = %action, "signed API call");
    Ok(Call { access_key_id: key_id, role: key.role, action, version, params: Params::new(all) })
}

/// Headers a V3 signature must cover (and `content-type` when there is a body).
const MUST_SIGN: [&str; 6] = ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"];

fn signature_mismatch() -> ApiError {
    ApiError::new(400, "SignatureDoesNotMatch", "The request signature does not conform to Aliyun standards: check your AccessKey secret.")
}

fn valid_nonce(nonce: &str) -> bool {
    !nonce.trim().is_empty() && nonce.len() <= 128
}

/// The call's key, and whether its nonce (when given) was new and is now recorded
/// ([`access_keys::check_in`]: one statement on PostgreSQL).
async fn check_in(state: &AppState, key_id: &str, nonce: Option<&str>, for_a_read: bool) -> Result<(access_keys::KeyCheck, bool), ApiError> {
    let (id, nonce) = (key_id.to_owned(), nonce.map(str::to_owned));
    let secrets = state.secrets.clone();
    let read = db::run(&state.pool, move |c| access_keys::check_in(c, &secrets, &id, nonce.as_deref(), for_a_read)).await?;
    crate::directory::offer(read.version);
    let key = read.key.ok_or_else(|| ApiError::new(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."))?;
    Ok((key, read.fresh))
}

/// Forgets the nonce that [`check_in`] recorded for a call whose signature failed; an
/// error only when that could not be done.
async fn forget_unsigned(state: &AppState, fresh: bool, nonce: Option<String>) -> Option<ApiError> {
    let nonce = nonce.filter(|_| fresh)?;
    db::run(&state.pool, move |c| access_keys::forget_nonce(c, &nonce).map_err(ApiError::from)).await.err()
}

fn check_time(timestamp: &str) -> Result<(), ApiError> {
    let t = OffsetDateTime::parse(timestamp, &Rfc3339)
        .map_err(|_| ApiError::new(400, "InvalidTimeStamp.Format", "Specified time stamp is not in the form YYYY-MM-DDThh:mm:ssZ."))?;
    if (OffsetDateTime::now_utc() - t).abs() > REQUEST_WINDOW {
        return Err(ApiError::new(
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired: the request time must be within 15 minutes of the server's.",
        ));
    }
    Ok(())
}

/// API dates of directory objects: ISO-8601 in UTC with milliseconds.
pub fn iso_time(t: &time::PrimitiveDateTime) -> String {
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second(), t.millisecond())
}
