//! `ListAuditEvents`, our own action: the audit trail, newest first, filtered by Actor,
//! EventAction, TargetId, StartTime and EndTime, paged with MaxResults/NextToken.

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use super::error::ApiError;
use super::params::Params;
use super::{ApiResult, iso_time, object};
use crate::audit::{self, AuditEvent, Filter};
use crate::db;
use crate::state::AppState;

pub async fn dispatch(state: &AppState, action: &str, p: &Params) -> Option<ApiResult> {
    match action {
        "ListAuditEvents" => Some(list(state, p).await),
        _ => None,
    }
}

fn time_param(p: &Params, name: &str) -> Result<Option<PrimitiveDateTime>, ApiError> {
    let Some(v) = p.get(name) else { return Ok(None) };
    let t = OffsetDateTime::parse(v.trim(), &Rfc3339)
        .map_err(|_| ApiError::invalid(name, "Use ISO 8601 with a time zone, such as 2026-11-28T09:00:00Z."))?
        .to_offset(UtcOffset::UTC);
    Ok(Some(PrimitiveDateTime::new(t.date(), t.time())))
}

fn text_param(p: &Params, name: &str) -> Option<String> {
    p.get(name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// An entry as the API shows it. `Changes` lists each field with its value before and after.
pub fn event_json(e: &AuditEvent) -> Value {
    let changes: Vec<Value> = serde_json::from_str::<serde_json::Map<String, Value>>(&e.changes)
        .unwrap_or_default()
        .into_iter()
        .map(|(field, v)| {
            let (before, after) = match v {
                Value::Array(mut pair) if pair.len() == 2 => {
                    let after = pair.pop().unwrap_or(Value::Null);
                    (pair.pop().unwrap_or(Value::Null), after)
                }
                other => (Value::Null, other),
            };
            json!({ "Field": field, "Before": before, "After": after })
        })
        .collect();
    json!({
        "EventId": e.seq.to_string(),
        "Time": iso_time(&e.at),
        "ActorType": e.actor_kind,
        "ActorId": e.actor_id,
        "Actor": e.actor_name,
        "Via": e.via,
        "SourceRequestId": e.request_id,
        "Action": e.action,
        "TargetId": e.target_id,
        "RelatedId": e.related_id,
        "Changes": changes,
    })
}

async fn list(state: &AppState, p: &Params) -> ApiResult {
    let filter = Filter {
        actor: text_param(p, "Actor"),
        // Not `Action`: that is the RPC parameter naming the API action itself.
        action: text_param(p, "EventAction"),
        target: text_param(p, "TargetId"),
        since: time_param(p, "StartTime")?,
        until: time_param(p, "EndTime")?,
    };
    if let (Some(s), Some(u)) = (filter.since, filter.until)
        && u <= s
    {
        return Err(ApiError::invalid("EndTime", "EndTime must be after StartTime."));
    }
    let (before, max, tokens) = p.cursor("ListAuditEvents", &state.secrets)?;
    let page = db::run(&state.pool, move |c| Ok::<_, crate::errors::StorageError>(audit::list(c, &filter, before, max)?)).await?;
    let events: Vec<Value> = page.events.iter().map(event_json).collect();
    Ok(object(json!({
        "AuditEvents": events,
        "MaxResults": max,
        "NextToken": page.next.map(|seq| tokens.after(seq)),
    })))
}
