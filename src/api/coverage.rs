//! `ListCoverageGaps`, our own action: the members who would hear nothing about a message
//! type (all types when none is named), in a folder's subtree (the whole directory when
//! none is named), with why; MaxResults/NextToken paging.

use serde_json::{Value, json};

use super::error::ApiError;
use super::params::Params;
use super::{ApiResult, object};
use crate::coverage::{self, Reason, Within};
use crate::db;
use crate::directory::{self, DirectoryError};
use crate::domain::{FolderId, MessageType};
use crate::state::AppState;

pub async fn dispatch(state: &AppState, action: &str, p: &Params) -> Option<ApiResult> {
    match action {
        "ListCoverageGaps" => Some(list(state, p).await),
        _ => None,
    }
}

async fn list(state: &AppState, p: &Params) -> ApiResult {
    let only = p.parse_opt("MessageType", MessageType::parse)?;
    let folder = p.parse_opt("FolderId", FolderId::parse)?;
    let (page, tokens) = p.token_page("ListCoverageGaps", &state.secrets)?;
    let root = FolderId::parse(&state.directory.root_folder_id).expect("stored ids are valid");
    let (gaps, total, reasons) = db::run(&state.pool, move |c| {
        let id = folder.unwrap_or(root);
        let folder = directory::get_folder(c, &id)?;
        let (gaps, total) = coverage::members_with_gaps(c, Within::Subtree(&folder.path), only, page.offset(), page.size)?;
        let reasons = coverage::reasons(c, &gaps)?;
        Ok::<_, DirectoryError>((gaps, total, reasons))
    })
    .await
    .map_err(ApiError::from)?;
    let items: Vec<Value> = gaps
        .iter()
        .map(|g| {
            let why = |t: MessageType| reasons.get(&(g.account_id.clone(), t)).copied().unwrap_or(Reason::NoRecipient);
            let first = only.or_else(|| g.gaps.iter().next()).map_or(Reason::NoRecipient, why);
            json!({
                "AccountId": g.account_id,
                "DisplayName": g.display_name,
                "FolderId": g.folder_id,
                "MessageTypes": g.gaps.api_names(),
                "Reason": first.as_str(),
                "Reasons": g.gaps.iter().map(|t| json!({ "MessageType": t.api_name(), "Reason": why(t).as_str() })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(object(json!({
        "Gaps": items,
        "TotalCount": total,
        "MaxResults": page.size,
        "NextToken": tokens.next(&page, gaps.len(), total),
    })))
}
