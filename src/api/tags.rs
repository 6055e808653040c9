//! Tags on folders and members: TagResources, UntagResources (also the legacy spelling
//! UnTagResources), ListTagResources, ListTagKeys and ListTagValues, with token paging.

use serde_json::{Value, json};

use super::error::ApiError;
use super::params::Params;
use super::{ApiResult, object};
use crate::audit::Actor;
use crate::db;
use crate::directory::tags;
use crate::domain::{TagKey, TaggedKind};
use crate::state::AppState;

/// Runs the action if this area has it.
pub async fn dispatch(state: &AppState, actor: &Actor, action: &str, p: &Params) -> Option<ApiResult> {
    Some(match action {
        "TagResources" => tag_resources(state, actor, p).await,
        "UntagResources" | "UnTagResources" => untag_resources(state, actor, p).await,
        "ListTagResources" => list_tag_resources(state, p).await,
        "ListTagKeys" => list_tag_keys(state, p).await,
        "ListTagValues" => list_tag_values(state, p).await,
        _ => return None,
    })
}

fn kind(p: &Params) -> Result<TaggedKind, ApiError> {
    p.parse("ResourceType", TaggedKind::parse)
}

/// `ResourceId.N`: 1 to 50 ids.
fn resource_ids(p: &Params, required: bool) -> Result<Vec<String>, ApiError> {
    let ids: Vec<String> = p.list("ResourceId")?.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
    if ids.is_empty() && required {
        return Err(ApiError::missing("ResourceId"));
    }
    if ids.len() > 50 {
        return Err(ApiError::invalid("ResourceId", format!("Name at most 50 resources a call (there are {}).", ids.len())));
    }
    Ok(ids)
}

async fn tag_resources(state: &AppState, actor: &Actor, p: &Params) -> ApiResult {
    let actor = actor.clone();
    let kind = kind(p)?;
    let ids = resource_ids(p, true)?;
    let new = p.tags("Tag")?;
    if new.is_empty() {
        return Err(ApiError::missing("Tag"));
    }
    db::run(&state.pool, move |c| tags::tag(c, kind, &ids, &new, &actor)).await?;
    Ok(object(json!({})))
}

async fn untag_resources(state: &AppState, actor: &Actor, p: &Params) -> ApiResult {
    let actor = actor.clone();
    let kind = kind(p)?;
    let ids = resource_ids(p, true)?;
    let all = p.bool("All")?.unwrap_or(false);
    let keys = p.list("TagKey")?.iter().map(|k| TagKey::parse(k).map_err(|e| ApiError::invalid("TagKey", e))).collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() && !all {
        return Err(ApiError::missing("TagKey"));
    }
    if keys.len() > 20 {
        return Err(ApiError::invalid("TagKey", "Name at most 20 tag keys a call."));
    }
    db::run(&state.pool, move |c| tags::untag(c, kind, &ids, if all { None } else { Some(&keys) }, &actor)).await?;
    Ok(object(json!({})))
}

/// The answer of a token-paged list: `NextToken` only when there is more.
fn with_token(mut body: Value, next: Option<String>) -> ApiResult {
    if let Some(t) = next {
        body["NextToken"] = json!(t);
    }
    Ok(object(body))
}

async fn list_tag_resources(state: &AppState, p: &Params) -> ApiResult {
    let kind = kind(p)?;
    let ids = resource_ids(p, false)?;
    let filter = p.tags("Tag")?;
    let (page, tokens) = p.token_page("ListTagResources", &state.secrets)?;
    let (rows, total) = db::run(&state.pool, move |c| tags::list_tag_resources(c, kind, &ids, &filter, page.offset(), page.size)).await?;
    let items: Vec<Value> =
        rows.iter().map(|r| json!({ "ResourceId": r.resource_id, "ResourceType": r.resource_type, "TagKey": r.key, "TagValue": r.value })).collect();
    let next = tokens.next(&page, rows.len(), total);
    with_token(json!({ "TagResources": items }), next)
}

async fn list_tag_keys(state: &AppState, p: &Params) -> ApiResult {
    let kind = kind(p)?;
    let filter = p.get("KeyFilter").map(str::to_owned);
    let (page, tokens) = p.token_page("ListTagKeys", &state.secrets)?;
    let (keys, total) = db::run(&state.pool, move |c| tags::tag_keys(c, kind, filter.as_deref(), page.offset(), page.size)).await?;
    let next = tokens.next(&page, keys.len(), total);
    with_token(json!({ "Tags": keys.iter().map(|k| json!({ "Key": k })).collect::<Vec<_>>() }), next)
}

async fn list_tag_values(state: &AppState, p: &Params) -> ApiResult {
    let kind = kind(p)?;
    let key = p.parse("TagKey", TagKey::parse)?;
    let filter = p.get("ValueFilter").map(str::to_owned);
    let (page, tokens) = p.token_page("ListTagValues", &state.secrets)?;
    let (values, total) = db::run(&state.pool, move |c| tags::tag_values(c, kind, &key, filter.as_deref(), page.offset(), page.size)).await?;
    let next = tokens.next(&page, values.len(), total);
    with_token(json!({ "Tags": values.iter().map(|v| json!({ "Value": v })).collect::<Vec<_>>() }), next)
}
