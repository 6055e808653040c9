//! `PublishNotification`, our own action: MessageType, Subject, Content, and AccountId
//! or FolderId (neither: the whole directory).

use serde_json::json;

use super::error::ApiError;
use super::params::Params;
use super::{ApiResult, object};
use crate::audit::Actor;
use crate::db;
use crate::domain::{AccountId, FolderId, MessageType, TargetId};
use crate::notifications::{self, NewNotification};
use crate::state::AppState;

pub async fn dispatch(state: &AppState, actor: &Actor, action: &str, p: &Params) -> Option<ApiResult> {
    match action {
        "PublishNotification" => Some(publish(state, actor, p).await),
        _ => None,
    }
}

async fn publish(state: &AppState, actor: &Actor, p: &Params) -> ApiResult {
    let message_type = p.parse("MessageType", MessageType::parse)?;
    let subject = p.required("Subject")?.to_owned();
    let content = p.required("Content")?.to_owned();
    let new = NewNotification::parse(message_type, &subject, &content)?;
    let account = p.parse_opt("AccountId", AccountId::parse)?;
    let folder = p.parse_opt("FolderId", FolderId::parse)?;
    let target = match (account, folder) {
        (Some(_), Some(_)) => return Err(ApiError::invalid("AccountId", "Give AccountId or FolderId, not both.")),
        (Some(a), None) => Some(TargetId::Account(a)),
        (None, Some(f)) => Some(TargetId::Folder(f)),
        (None, None) => None,
    };
    let actor = actor.clone();
    let (n, members) = db::run(&state.pool, move |c| {
        let scope = format!("publish:API access key {}", actor.id);
        notifications::publish(c, &new, target.as_ref(), &actor, Some((&scope, crate::limits::PUBLISH_PER_KEY)))
    })
    .await?;
    Ok(object(json!({ "NotificationId": n.id.to_string(), "Members": members })))
}
