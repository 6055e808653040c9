//! What the real clients of the Alibaba API send beyond the Python SDK's basics: tags,
//! GetPayerForAccount, token paging, V3 GET, DryRun, clearing a phone number, and the
//! exact answer shapes Terraform and the SDKs read.

use actix_web::http::{Method, StatusCode};
use serde_json::Value;

use crate::contacts::contact;
use crate::support::TestApp;

async fn member(app: &mut TestApp, name: &str, folder: Option<&str>) -> String {
    let mut params = vec![("DisplayName", name)];
    if let Some(f) = folder {
        params.push(("ParentFolderId", f));
    }
    let resp = app.api("CreateResourceAccount", &params).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    resp.json()["Account"]["AccountId"].as_str().unwrap().to_owned()
}

fn tag_list(v: &Value) -> Vec<(String, String)> {
    v["Tags"]["Tag"].as_array().unwrap().iter().map(|t| (t["Key"].as_str().unwrap().to_owned(), t["Value"].as_str().unwrap().to_owned())).collect()
}

#[actix_web::test]
async fn tags_on_members_are_set_listed_filtered_and_removed_the_way_terraform_reads_them() {
    let mut app = TestApp::spawn().await;
    let a = member(&mut app, "tagged one", None).await;
    let b = member(&mut app, "tagged two", None).await;
    let plain = member(&mut app, "untagged", None).await;
    let set = app
        .api(
            "TagResources",
            &[("ResourceType", "Account"), ("ResourceId.1", &a), ("ResourceId.2", &b), ("Tag.1.Key", "env"), ("Tag.1.Value", "prod"), ("Tag.2.Key", "team")],
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    // A key set again takes its new value.
    app.api("TagResources", &[("ResourceType", "Account"), ("ResourceId.1", &b), ("Tag.1.Key", "env"), ("Tag.1.Value", "test")]).await;

    // Terraform reads a member with ListTagResources under the 2020-03-31 version.
    let listed = app.api_as(Method::POST, "2020-03-31", "ListTagResources", &[("ResourceType", "Account"), ("ResourceId.1", &a)]).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let rows = listed.json()["TagResources"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0]["ResourceId"].as_str(), rows[0]["ResourceType"].as_str(), rows[0]["TagKey"].as_str()),
        (Some(a.as_str()), Some("Account"), Some("env"))
    );
    assert_eq!(rows[0]["TagValue"], "prod");
    assert!(listed.json().get("NextToken").is_none(), "no NextToken on the last page");
    // A member without tags still answers a TagResources array.
    let none = app.api("ListTagResources", &[("ResourceType", "Account"), ("ResourceId.1", &plain)]).await;
    assert_eq!(none.json()["TagResources"], serde_json::json!([]));

    // The lists filter by tag and show tags when asked.
    let prod = app.api("ListAccounts", &[("Tag.1.Key", "env"), ("Tag.1.Value", "prod"), ("IncludeTags", "true")]).await.json();
    let accounts = prod["Accounts"]["Account"].as_array().unwrap();
    assert_eq!(accounts.iter().map(|x| x["AccountId"].as_str().unwrap()).collect::<Vec<_>>(), [a.as_str()]);
    assert_eq!(tag_list(&accounts[0]), [("env".to_owned(), "prod".to_owned()), ("team".to_owned(), String::new())]);
    let any_env = app.api("ListAccounts", &[("Tag.1.Key", "env")]).await.json();
    assert_eq!(any_env["TotalCount"], 2, "a key without a value matches any value");
    let got = app.api("GetAccount", &[("AccountId", &b), ("IncludeTags", "true")]).await.json();
    assert_eq!(tag_list(&got["Account"]), [("env".to_owned(), "test".to_owned()), ("team".to_owned(), String::new())]);

    let keys = app.api("ListTagKeys", &[("ResourceType", "Account")]).await.json();
    assert_eq!(keys["Tags"], serde_json::json!([{ "Key": "env" }, { "Key": "team" }]));
    let values = app.api("ListTagValues", &[("ResourceType", "Account"), ("TagKey", "env")]).await.json();
    assert_eq!(values["Tags"], serde_json::json!([{ "Value": "prod" }, { "Value": "test" }]));

    // The legacy spelling removes too; All removes every tag.
    let removed = app.api("UnTagResources", &[("ResourceType", "Account"), ("ResourceId.1", &a), ("TagKey.1", "team")]).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    app.api("UntagResources", &[("ResourceType", "Account"), ("ResourceId.1", &b), ("All", "true")]).await;
    let left = app.api("ListTagResources", &[("ResourceType", "Account")]).await.json();
    assert_eq!(left["TagResources"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn tags_follow_alibabas_limits_and_an_unknown_resource_is_not_found() {
    let mut app = TestApp::spawn().await;
    let a = member(&mut app, "limited", None).await;
    let mut twenty: Vec<(String, String)> = Vec::new();
    for i in 1..=20 {
        twenty.push((format!("Tag.{i}.Key"), format!("k{i}")));
    }
    let mut params: Vec<(&str, &str)> = vec![("ResourceType", "Account"), ("ResourceId.1", &a)];
    params.extend(twenty.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert_eq!(app.api("TagResources", &params).await.status, StatusCode::OK);
    let one_more = app.api("TagResources", &[("ResourceType", "Account"), ("ResourceId.1", &a), ("Tag.1.Key", "k21")]).await;
    assert_eq!(one_more.json()["Code"], "LimitExceeded.Tags");
    let reserved = app.api("TagResources", &[("ResourceType", "Account"), ("ResourceId.1", &a), ("Tag.1.Key", "aliyun:x")]).await;
    assert_eq!(reserved.json()["Code"], "InvalidParameter.Tag.Key");
    let long = "v".repeat(129);
    let too_long = app.api("TagResources", &[("ResourceType", "Account"), ("ResourceId.1", &a), ("Tag.1.Key", "x"), ("Tag.1.Value", &long)]).await;
    assert_eq!(too_long.json()["Code"], "InvalidParameter.Tag.Value");
    let unknown = app.api("TagResources", &[("ResourceType", "Account"), ("ResourceId.1", "1234567890123456"), ("Tag.1.Key", "x")]).await;
    assert_eq!(unknown.json()["Code"], "EntityNotExists.Account");
    let kind = app.api("ListTagResources", &[("ResourceType", "Bucket")]).await;
    assert_eq!(kind.json()["Code"], "InvalidParameter.ResourceType");
}

#[actix_web::test]
async fn folders_are_created_with_tags_and_listed_by_them() {
    let mut app = TestApp::spawn().await;
    let created = app.api("CreateFolder", &[("FolderName", "tagged"), ("Tag.1.Key", "cost"), ("Tag.1.Value", "ops")]).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.json()["Folder"]["FolderId"].as_str().unwrap().to_owned();
    app.api("CreateFolder", &[("FolderName", "plain")]).await;
    let listed = app.api("ListFoldersForParent", &[("Tag.1.Key", "cost"), ("Tag.1.Value", "ops")]).await.json();
    let folders = listed["Folders"]["Folder"].as_array().unwrap();
    assert_eq!(folders.len(), 1);
    assert_eq!(folders[0]["FolderId"], id.as_str());
    assert_eq!(tag_list(&folders[0]), [("cost".to_owned(), "ops".to_owned())]);
    let rows = app.api("ListTagResources", &[("ResourceType", "Folder"), ("ResourceId.1", &id)]).await.json();
    assert_eq!(rows["TagResources"][0]["TagValue"], "ops");
    // A deleted folder's tags go with it.
    app.api("DeleteFolder", &[("FolderId", &id)]).await;
    assert_eq!(app.api("ListTagResources", &[("ResourceType", "Folder")]).await.json()["TagResources"], serde_json::json!([]));
}

#[actix_web::test]
async fn get_payer_for_account_names_the_management_account() {
    let mut app = TestApp::spawn().await;
    let a = member(&mut app, "paid for", None).await;
    let rd = app.api("GetResourceDirectory", &[]).await.json();
    let payer = app.api("GetPayerForAccount", &[("AccountId", &a)]).await;
    assert_eq!(payer.status, StatusCode::OK, "{}", payer.body);
    assert_eq!(payer.json()["PayerAccountId"], rd["ResourceDirectory"]["MasterAccountId"]);
    assert_eq!(payer.json()["PayerAccountName"], rd["ResourceDirectory"]["MasterAccountName"]);
    assert_eq!(app.api("GetPayerForAccount", &[("AccountId", "1234567890123456")]).await.json()["Code"], "EntityNotExists.Account");
}

#[actix_web::test]
async fn list_accounts_pages_by_max_results_and_next_token_to_the_last_member() {
    let mut app = TestApp::spawn().await;
    for i in 0..7 {
        member(&mut app, &format!("paged {i}"), None).await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut calls = 0;
    loop {
        let mut params = vec![("MaxResults", "3")];
        if let Some(t) = &token {
            params.push(("NextToken", t));
        }
        let page = app.api("ListAccounts", &params).await.json();
        seen.extend(page["Accounts"]["Account"].as_array().unwrap().iter().map(|a| a["AccountId"].as_str().unwrap().to_owned()));
        calls += 1;
        match page.get("NextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
        assert!(calls < 10);
    }
    assert_eq!((calls, seen.len()), (3, 7), "three pages of 3, 3 and 1");
    seen.dedup();
    assert_eq!(seen.len(), 7, "no member twice");
    let bad = app.api("ListAccounts", &[("NextToken", "not-a-token")]).await;
    assert_eq!((bad.status, bad.json()["Code"].as_str()), (StatusCode::BAD_REQUEST, Some("InvalidParameter.NextToken")));
    // PageNumber/PageSize still work.
    assert_eq!(app.api("ListAccounts", &[("PageNumber", "3"), ("PageSize", "3")]).await.json()["Accounts"]["Account"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn a_v3_signed_get_reaches_the_api_not_the_console() {
    let mut app = TestApp::spawn().await;
    let resp = app.api_as(Method::GET, "2022-04-19", "GetResourceDirectory", &[]).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    assert!(resp.json()["ResourceDirectory"]["RootFolderId"].is_string());
}

#[actix_web::test]
async fn dry_run_checks_without_writing() {
    let mut app = TestApp::spawn().await;
    let dry = app.api("CreateResourceAccount", &[("DisplayName", "not really"), ("DryRun", "true")]).await;
    assert_eq!((dry.status, dry.json()["Code"].as_str()), (StatusCode::BAD_REQUEST, Some("DryRunOperation")));
    assert_eq!(app.api("ListAccounts", &[]).await.json()["TotalCount"], 0, "nothing was created");
    let invalid = app.api("CreateResourceAccount", &[("DisplayName", "x"), ("DryRun", "true")]).await;
    assert_eq!(invalid.json()["Code"], "InvalidParameter.DisplayName", "its own validation error otherwise");
    let missing = app.api("CreateResourceAccount", &[("DisplayName", "lost one"), ("ParentFolderId", "fd-0000000000"), ("DryRun", "true")]).await;
    assert_eq!(missing.json()["Code"], "EntityNotExists.Folder");

    let a = member(&mut app, "kept name", None).await;
    let update = app.api("UpdateAccount", &[("AccountId", &a), ("NewDisplayName", "new name"), ("DryRun", "true")]).await;
    assert_eq!(update.json()["Code"], "DryRunOperation");
    assert_eq!(app.api("GetAccount", &[("AccountId", &a)]).await.json()["Account"]["DisplayName"], "kept name");
}

#[actix_web::test]
async fn an_empty_phone_number_clears_it_and_cancelling_a_phone_change_leaves_the_email_change() {
    let mut app = TestApp::spawn().await;
    let mut params = contact("tom", "old@example.com");
    params.push(("PhoneNumber", "86-13900001234"));
    let id = app.api("AddMessageContact", &params).await.json()["Contact"]["ContactId"].as_str().unwrap().to_owned();
    let got = app.api("GetMessageContact", &[("ContactId", &id)]).await.json();
    assert_eq!(got["Contact"]["PhoneNumber"], "86-13900001234");
    let cleared = app.api("UpdateMessageContact", &[("ContactId", &id), ("PhoneNumber", "")]).await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
    let got = app.api("GetMessageContact", &[("ContactId", &id)]).await.json();
    assert!(got["Contact"].get("PhoneNumber").is_none(), "cleared, and left out rather than null: {got}");

    // An Active contact with a pending email change; cancelling the phone leaves it.
    let id = app.active_contact("ann", "ann@example.com").await;
    app.api("UpdateMessageContact", &[("ContactId", &id), ("EmailAddress", "ann-new@example.com")]).await;
    let phone_only = app.api("CancelMessageContactUpdate", &[("ContactId", &id), ("PhoneNumber", "86-13900001234")]).await;
    assert_eq!(phone_only.json()["Code"], "ContactStatusMismatchAction");
    let pending = app.api("ListMessageContactVerifications", &[("ContactId", &id)]).await.json();
    assert_eq!(pending["ContactVerifications"][0]["Target"], "ann-new@example.com", "the email change still waits");
    let email = app.api("CancelMessageContactUpdate", &[("ContactId", &id), ("EmailAddress", "ann-new@example.com")]).await;
    assert_eq!(email.status, StatusCode::OK);
    app.run_pending_jobs().await;
}

#[actix_web::test]
async fn an_unsupported_action_is_a_400_never_a_404_that_terraform_would_read_as_gone() {
    let mut app = TestApp::spawn().await;
    for action in ["DeleteAccount", "CreateControlPolicy", "NoSuchAction"] {
        let resp = app.api(action, &[]).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{action}");
        assert_eq!(resp.json()["Code"], "OperationNotSupported.Action");
        assert!(resp.json()["Message"].as_str().unwrap().contains(action));
    }
}

#[actix_web::test]
async fn answers_have_the_reference_fields_and_no_nulls() {
    let mut app = TestApp::spawn().await;
    let a = member(&mut app, "fields", None).await;
    let got = app.api("GetAccount", &[("AccountId", &a)]).await.json();
    let account = &got["Account"];
    assert_eq!(account["EmailStatus"], "", "a documented value");
    assert_eq!((account["IdentityInformation"].as_str(), account["Location"].as_str()), (Some(""), Some("")));
    let listed = app.api("ListAccounts", &[]).await.json();
    assert_eq!(listed["Accounts"]["Account"][0]["DeletionStatus"], "");
    let root = app.api("GetResourceDirectory", &[]).await.json()["ResourceDirectory"]["RootFolderId"].as_str().unwrap().to_owned();
    let folder = app.api("GetFolder", &[("FolderId", &root)]).await.json();
    assert!(folder["Folder"].get("ParentFolderId").is_none(), "the root has no parent: left out, not null ({folder})");
    assert!(!app.api("ListMessageContacts", &[]).await.body.contains("null"));

    let xml = app.api_v1_get("GetResourceDirectory", &[("Format", "XML")]).await;
    assert_eq!(xml.json()["Code"], "InvalidParameter.Format", "XML is refused with a clear code, not ignored");

    let c = app.add_contact("never", "never@example.com").await;
    let status = app.api("GetMessageContactDeletionStatus", &[("ContactId", &c)]).await;
    assert_eq!((status.status, status.json()["Code"].as_str()), (StatusCode::NOT_FOUND, Some("EntityNotExists.Contact")));

    let subject = app.api("PublishNotification", &[("MessageType", "SecurityMessage"), ("Subject", &"s".repeat(201)), ("Content", "body")]).await;
    assert_eq!(subject.json()["Code"], "InvalidParameter.Subject");
    app.run_pending_jobs().await;
}
