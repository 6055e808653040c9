//! Resource-directory actions: the directory, folders and member accounts.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::params::Params;
use super::{Answer, ApiResult, iso_time, object};
use crate::audit::Actor;
use crate::db;
use crate::directory::tags::{self, TagsById};
use crate::directory::{self, Account, DirectoryError, Folder, JoinMethod, KeptByVersion, NewAccount, ResourceDirectory};
use crate::domain::{AccountId, DisplayName, FolderId, FolderName, SearchText, TaggedKind};
use crate::state::AppState;

/// Runs the action if this area has it.
pub async fn dispatch(state: &AppState, actor: &Actor, action: &str, p: &Params) -> Option<ApiResult> {
    Some(match action {
        "GetResourceDirectory" => get_resource_directory(state).await,
        "CreateFolder" => create_folder(state, actor, p).await,
        "GetFolder" => get_folder(state, p).await,
        "UpdateFolder" => update_folder(state, actor, p).await,
        "DeleteFolder" => delete_folder(state, actor, p).await,
        "ListFoldersForParent" => list_folders_for_parent(state, p).await,
        "ListAncestors" => list_ancestors(state, p).await,
        "CreateResourceAccount" => create_resource_account(state, actor, p).await,
        "GetAccount" => get_account(state, p).await,
        "UpdateAccount" => update_account(state, actor, p).await,
        "ListAccounts" => list_accounts(state, p, false).await,
        "ListAccountsForParent" => list_accounts(state, p, true).await,
        "MoveAccount" => move_account(state, actor, p).await,
        "RemoveCloudAccount" => remove_cloud_account(state, actor, p).await,
        "GetPayerForAccount" => get_payer_for_account(state, p).await,
        _ => return None,
    })
}

fn folder_json(f: &Folder) -> Value {
    json!({
        "FolderId": f.id,
        "FolderName": f.shown_name(),
        "ParentFolderId": f.parent_id,
        "CreateTime": iso_time(&f.created_at),
    })
}

/// An account as the API shows it, written straight from its row.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AccountOut<'a> {
    account_id: &'a str,
    account_name: &'a str,
    display_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    folder_id: Option<&'a str>,
    join_method: &'static str,
    join_time: String,
    modify_time: String,
    resource_directory_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_directory_path: Option<String>,
    status: &'static str,
    #[serde(rename = "Type")]
    kind: &'static str,
    /// In the lists only.
    #[serde(skip_serializing_if = "Option::is_none")]
    deletion_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<TagsOut<'a>>,
}

fn account_out<'a>(a: &'a Account, rd: &'a ResourceDirectory, folder: Option<&Folder>) -> AccountOut<'a> {
    AccountOut {
        account_id: &a.id,
        account_name: &a.account_name,
        display_name: &a.display_name,
        folder_id: a.folder_id.as_deref(),
        join_method: if a.join_method == JoinMethod::Invited.as_str() { "invited" } else { "created" },
        join_time: iso_time(&a.joined_at),
        modify_time: iso_time(&a.modified_at),
        resource_directory_id: &rd.id,
        resource_directory_path: folder.map(|f| format!("{}/{}", f.directory_path(&rd.id), a.id)),
        status: "CreateSuccess",
        kind: "ResourceAccount",
        deletion_status: None,
        tags: None,
    }
}

fn account_json(a: &Account, rd: &ResourceDirectory, folder: Option<&Folder>) -> Value {
    json!(account_out(a, rd, folder))
}

/// `Tags: {Tag: [{Key, Value}]}`, the lists' XML-derived nesting.
#[derive(Serialize)]
struct TagsOut<'a> {
    #[serde(rename = "Tag")]
    tag: Vec<TagOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagOut<'a> {
    key: &'a str,
    value: &'a str,
}

fn tags_out<'a>(by_id: &'a TagsById, id: &str) -> TagsOut<'a> {
    TagsOut { tag: by_id.get(id).map(|t| t.iter().map(|(key, value)| TagOut { key, value }).collect()).unwrap_or_default() }
}

fn tags_json(by_id: &TagsById, id: &str) -> Value {
    json!(tags_out(by_id, id))
}

fn root_id(rd: &ResourceDirectory) -> FolderId {
    FolderId::parse(&rd.root_folder_id).expect("stored ids are valid")
}

/// A folder id parameter; absent means the root.
fn folder_param(p: &Params, name: &str) -> Result<Option<FolderId>, ApiError> {
    p.parse_opt(name, FolderId::parse)
}

async fn get_resource_directory(state: &AppState) -> ApiResult {
    let rd = db::run(&state.pool, directory::get_directory).await?;
    Ok(object(json!({
        "ResourceDirectory": {
            "ResourceDirectoryId": rd.id,
            "RootFolderId": rd.root_folder_id,
            "MasterAccountId": rd.master_account_id,
            "MasterAccountName": rd.master_account_name,
            "CreateTime": iso_time(&rd.created_at),
            "ControlPolicyStatus": "Disabled",
            "MemberDeletionStatus": "Disabled",
            "MemberAccountDisplayNameSyncStatus": "Disabled",
            "IdentityInformation": "",
        }
    })))
}

async fn create_folder(state: &AppState, actor: &Actor, p: &Params) -> ApiResult {
    let actor = actor.clone();
    let name = p.parse("FolderName", FolderName::parse)?;
    let parent = folder_param(p, "ParentFolderId")?;
    let tagged = p.tags("Tag")?;
    let folder = db::run(&state.pool, move |c| {
        db::transaction(c, |c| {
            let parent = match parent {
                Some(id) => id,
                None => root_id(&directory::get_directory(c)?),
            };
            let folder = directory::create_folder(c, &parent, &name, &actor)?;
            tags::write_tags(c, TaggedKind::Folder, std::slice::from_ref(&folder.id), &tagged)?;
            Ok::<_, DirectoryError>(folder)
        })
    })
    .await?;
    Ok(object(json!({ "Folder": folder_json(&folder) })))
}

async fn get_folder(state: &AppState, p: &Params) -> ApiResult {
    let id = p.parse("FolderId", FolderId::parse)?;
    let folder = db::run(&state.pool, move |c| directory::get_folder(c, &id)).await?;
    let mut v = folder_json(&folder);
    v["ResourceDirectoryPath"] = json!(folder.directory_path(&state.directory.id));
    Ok(object(json!({ "Folder": v })))
}

async fn update_folder(state: &AppState, actor: &Actor, p: &Params) -> ApiResult {
    let actor = actor.clone();
    let id = p.parse("FolderId", FolderId::parse)?;
    let name = p.parse("NewFolderName", FolderName::parse)?;
    let folder = db::run(&state.pool, move |c| directory::rename_folder(c, &id, &name, &actor)).await?;
    Ok(object(json!({ "Folder": folder_json(&folder) })))
}

async fn delete_folder(state: &AppState, actor: &Actor, p: &Params) -> ApiResult {
    let actor = actor.clone();
    let id = p.parse("FolderId", FolderId::parse)?;
    db::run(&state.pool, move |c| directory::delete_folder(c, &id, &actor)).await?;
    Ok(object(json!({})))
}

/// QueryKeyword, parsed like a console search.
fn keyword(p: &Params) -> Result<Option<String>, ApiError> {
    Ok(p.parse_opt("QueryKeyword", SearchText::parse)?.flatten().map(|t| t.as_str().to_owned()))
}

async fn list_folders_for_parent(state: &AppState, p: &Params) -> ApiResult {
    let parent = folder_param(p, "ParentFolderId")?;
    let keyword = keyword(p)?;
    let tagged = p.tags("Tag")?;
    let page = p.page()?;
    let parent = parent.unwrap_or_else(|| root_id(&state.directory));
    let (found, tag_map) = db::run(&state.pool, move |c| {
        directory::with_one_version(|| {
            directory::get_folder(c, &parent)?;
            let found = directory::list_subfolders_tagged(c, &parent, keyword.as_deref(), &tagged, page)?;
            let ids: Vec<String> = found.items.iter().map(|s| s.folder.id.clone()).collect();
            let tag_map = tags::tags_of(c, TaggedKind::Folder, &ids)?;
            Ok::<_, DirectoryError>((found, tag_map))
        })
    })
    .await?;
    let folders: Vec<Value> = found
        .items
        .iter()
        .map(|s| {
            json!({ "FolderId": s.folder.id, "FolderName": s.folder.name, "CreateTime": iso_time(&s.folder.created_at), "Tags": tags_json(&tag_map, &s.folder.id) })
        })
        .collect();
    Ok(object(json!({ "Folders": { "Folder": folders }, "TotalCount": found.total, "PageNumber": page.number, "PageSize": page.size })))
}

async fn list_ancestors(state: &AppState, p: &Params) -> ApiResult {
    let child = p.parse("ChildId", FolderId::parse)?;
    let ancestors = db::run(&state.pool, move |c| {
        let folder = directory::get_folder(c, &child)?;
        directory::ancestors(c, &folder)
    })
    .await?;
    let folders: Vec<Value> =
        ancestors.iter().map(|f| json!({ "FolderId": f.id, "FolderName": f.shown_name(), "CreateTime": iso_time(&f.created_at) })).collect();
    Ok(object(json!({ "Folders": { "Folder": folders } })))
}

fn account_name_prefix(p: &Params) -> Result<Option<String>, ApiError> {
    match p.get("AccountNamePrefix") {
        None => Ok(None),
        Some(v)
            if (2..=37).contains(&v.len())
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                && v.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric()) =>
        {
            Ok(Some(v.to_owned()))
        }
        Some(_) => Err(ApiError::invalid("AccountNamePrefix", "Use 2 to 37 letters, digits, _ . or -, starting with a letter or digit.")),
    }
}

/// Alibaba's answer to a `DryRun` request that would have succeeded.
fn dry_run_passed() -> ApiError {
    ApiError::new(400, "DryRunOperation", "Request validation has been passed with DryRun flag set.")
}

async fn create_resource_account(state: &AppState, actor: &Actor, p: &Params) -> ApiResult {
    let actor = actor.clone();
    let display_name = p.parse("DisplayName", DisplayName::parse)?;
    let prefix = account_name_prefix(p)?;
    let parent = folder_param(p, "ParentFolderId")?;
    let tagged = p.tags("Tag")?;
    let dry = p.bool("DryRun")?.unwrap_or(false);
    let (rd, account, folder) = db::run(&state.pool, move |c| {
        let create = |c: &mut db::AnyConnection| {
            let rd = directory::get_directory(c)?;
            let folder = parent.unwrap_or_else(|| root_id(&rd));
            let new = NewAccount { display_name, folder, security_email: None, account_name_prefix: prefix, join_method: JoinMethod::Created };
            let account = crate::membership::create_account(c, &new, &actor)?;
            tags::write_tags(c, TaggedKind::Account, std::slice::from_ref(&account.id), &tagged)?;
            let folder = directory::get_folder(c, &new.folder)?;
            Ok::<_, DirectoryError>((rd, account, folder))
        };
        if dry { db::dry_run(c, create) } else { db::transaction(c, create) }
    })
    .await?;
    if dry {
        return Err(dry_run_passed());
    }
    Ok(object(json!({ "Account": account_json(&account, &rd, Some(&folder)) })))
}

/// A member that is in the directory now (a removed one is not found), with its folder.
fn current_account(c: &mut crate::db::AnyConnection, id: &AccountId) -> Result<(Account, Option<Folder>), DirectoryError> {
    // The member with the folders on its path, kept under the search version: its own
    // folder is the path's last (none once removed).
    let (account, mut path) = directory::get_account_and_path(c, id)?;
    let folder = if account.folder_id.is_some() { path.pop() } else { None };
    if account.is_removed() {
        return Err(DirectoryError::AccountRemoved(id.to_string()));
    }
    Ok((account, folder))
}

/// What `GetAccount` reads, by account and whether with its tags; kept under the read
/// version, so that a call made again while nothing changed reads nothing.
static ACCOUNTS: KeptByVersion<Arc<(Account, Option<Folder>, TagsById)>> = KeptByVersion::of_anything_up_to(256);

/// A page of members, their folders and (when asked for) their tags.
type Listed = (crate::domain::Page<Account>, Vec<Folder>, TagsById);

/// What a page of `ListAccounts` reads, by its parameters; kept as [`ACCOUNTS`].
static ACCOUNT_LISTS: KeptByVersion<Arc<Listed>> = KeptByVersion::of_anything_up_to(64);

async fn get_account(state: &AppState, p: &Params) -> ApiResult {
    let id = p.parse("AccountId", AccountId::parse)?;
    let include_tags = p.bool("IncludeTags")?.unwrap_or(false);
    let key = format!("{id}\n{include_tags}");
    let got = ACCOUNTS
        .run_kept(&state.pool, key, move |c| {
            let (account, folder) = current_account(c, &id)?;
            let tag_map = if include_tags { tags::tags_of(c, TaggedKind::Account, std::slice::from_ref(&account.id))? } else { TagsById::new() };
            Ok::<_, DirectoryError>(Arc::new((account, folder, tag_map)))
        })
        .await?;
    let (account, folder, tag_map) = &*got;
    let mut v = account_json(account, &state.directory, folder.as_ref());
    // No account email change runs here: EmailStatus is one of the documented values
    // ("", WAIT_MODIFY, CANCELLED, EXPIRED), and it is "".
    v["EmailStatus"] = json!("");
    v["HasSecureMobilePhone"] = json!(false);
    v["IdentityInformation"] = json!("");
    v["Location"] = json!("");
    if include_tags {
        v["Tags"] = tags_json(tag_map, &account.id);
    }
    Ok(object(json!({ "Account": v })))
}

async fn update_account(state: &AppState, actor: &Actor, p: &Params) -> ApiResult {
    let actor = actor.clone();
    let id = p.parse("AccountId", AccountId::parse)?;
    let name = p.parse_opt("NewDisplayName", DisplayName::parse)?;
    account_type(p)?;
    let dry = p.bool("DryRun")?.unwrap_or(false);
    // With DryRun, the same checks and write in a transaction that is rolled back.
    let (account, folder) = db::run(&state.pool, move |c| {
        let update = |c: &mut db::AnyConnection| {
            directory::update_account(c, &id, name.as_ref(), None, &actor)?;
            current_account(c, &id)
        };
        if dry { db::dry_run(c, update) } else { update(c) }
    })
    .await?;
    if dry {
        return Err(dry_run_passed());
    }
    Ok(object(json!({ "Account": account_json(&account, &state.directory, folder.as_ref()) })))
}

/// `NewAccountType`: every member here is a resource account; a cloud account cannot be
/// made of one.
fn account_type(p: &Params) -> Result<(), ApiError> {
    match p.get("NewAccountType") {
        None | Some("ResourceAccount") => Ok(()),
        Some("CloudAccount") => {
            Err(ApiError::new(400, "OperationNotSupported.AccountType", "Members here are resource accounts: NewAccountType=CloudAccount is not supported."))
        }
        Some(_) => Err(ApiError::invalid("NewAccountType", "Use ResourceAccount or CloudAccount.")),
    }
}

async fn list_accounts(state: &AppState, p: &Params, for_parent: bool) -> ApiResult {
    let parent = if for_parent { Some(p.parse("ParentFolderId", FolderId::parse)?) } else { None };
    let keyword = keyword(p)?;
    let tagged = p.tags("Tag")?;
    let include_tags = p.bool("IncludeTags")?.unwrap_or(false);
    // ListAccounts pages by MaxResults/NextToken as well as by PageNumber/PageSize.
    let (page, tokens) = if for_parent { (p.page()?, None) } else { p.page_or_token("ListAccounts", &state.secrets)? };
    let _turn = match keyword.as_deref().filter(|k| tagged.is_empty() && !k.trim().is_empty()) {
        Some(k) => Some(directory::first_turn(parent.as_ref().map(FolderId::as_str), k, page.end(), directory::Count::Wait).await),
        None => None,
    };
    let key = format!("{parent:?}\n{keyword:?}\n{tagged:?}\n{include_tags}\n{page:?}");
    let listed = ACCOUNT_LISTS
        .run_kept(&state.pool, key, move |c| {
            if let Some(parent) = &parent {
                directory::get_folder(c, parent)?;
            }
            let found = directory::list_accounts_tagged(c, parent.as_ref(), keyword.as_deref(), &tagged, page)?;
            let folders = directory::folders_by_id(c, found.items.iter().filter_map(|a| a.folder_id.clone()).collect())?;
            let ids: Vec<String> = found.items.iter().map(|a| a.id.clone()).collect();
            let tag_map = if include_tags { tags::tags_of(c, TaggedKind::Account, &ids)? } else { TagsById::new() };
            Ok::<_, DirectoryError>(Arc::new((found, folders, tag_map)))
        })
        .await?;
    let (found, folders, tag_map) = &*listed;
    let accounts = found
        .items
        .iter()
        .map(|a| {
            let folder = a.folder_id.as_ref().and_then(|id| folders.iter().find(|f| &f.id == id));
            AccountOut {
                deletion_status: Some(""),
                tags: include_tags.then(|| tags_out(tag_map, &a.id)),
                ..account_out(a, &state.directory, if for_parent { None } else { folder })
            }
        })
        .collect();
    let next_token = tokens.and_then(|t| t.next(&page, found.items.len(), found.total));
    Ok(Answer::written(&AccountsPage {
        accounts: AccountList { account: accounts },
        total_count: found.total,
        page_number: page.number,
        page_size: page.size,
        next_token,
    }))
}

/// A page of `ListAccounts`, written without a `Value` a field: the largest answer
/// the SDKs and Terraform read in a loop.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AccountsPage<'a> {
    accounts: AccountList<'a>,
    total_count: i64,
    page_number: i64,
    page_size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

#[derive(Serialize)]
struct AccountList<'a> {
    #[serde(rename = "Account")]
    account: Vec<AccountOut<'a>>,
}

async fn move_account(state: &AppState, actor: &Actor, p: &Params) -> ApiResult {
    let actor = actor.clone();
    let id = p.parse("AccountId", AccountId::parse)?;
    let dest = p.parse("DestinationFolderId", FolderId::parse)?;
    db::run(&state.pool, move |c| crate::membership::move_account(c, &id, &dest, &actor)).await?;
    Ok(object(json!({})))
}

async fn remove_cloud_account(state: &AppState, actor: &Actor, p: &Params) -> ApiResult {
    let actor = actor.clone();
    let id = p.parse("AccountId", AccountId::parse)?;
    db::run(&state.pool, move |c| directory::remove_account(c, &id, &actor)).await?;
    Ok(object(json!({})))
}

/// The member's billing account: the management account pays for every member here.
async fn get_payer_for_account(state: &AppState, p: &Params) -> ApiResult {
    let id = p.parse("AccountId", AccountId::parse)?;
    db::run(&state.pool, move |c| current_account(c, &id)).await?;
    let rd = &state.directory;
    Ok(object(json!({ "PayerAccountId": rd.master_account_id, "PayerAccountName": rd.master_account_name })))
}
