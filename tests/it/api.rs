//! The Alibaba-compatible API: signatures, error codes and the directory actions.

use actix_web::http::StatusCode;
use time::OffsetDateTime;

use crate::support::TestApp;

fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[actix_web::test]
async fn a_wrong_secret_is_refused_with_signature_does_not_match() {
    let mut app = TestApp::spawn().await;
    app.api("GetResourceDirectory", &[]).await;
    let (id, _) = app.access_key.clone().unwrap();
    let resp = app.api_signed("GetResourceDirectory", &[], &id, "not-the-secret", &nonce(), OffsetDateTime::now_utc()).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert_eq!(resp.json()["Code"], "SignatureDoesNotMatch");
    assert!(resp.json()["RequestId"].as_str().is_some_and(|r| !r.is_empty()));
}

#[actix_web::test]
async fn an_unknown_access_key_is_refused() {
    let mut app = TestApp::spawn().await;
    let resp = app.api_signed("GetResourceDirectory", &[], "LTAInobody", "x", &nonce(), OffsetDateTime::now_utc()).await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert_eq!(resp.json()["Code"], "InvalidAccessKeyId.NotFound");
}

#[actix_web::test]
async fn a_request_more_than_fifteen_minutes_off_is_refused() {
    let mut app = TestApp::spawn().await;
    app.api("GetResourceDirectory", &[]).await;
    let (id, secret) = app.access_key.clone().unwrap();
    for skew in [time::Duration::minutes(16), time::Duration::minutes(-16)] {
        let resp = app.api_signed("GetResourceDirectory", &[], &id, &secret, &nonce(), OffsetDateTime::now_utc() + skew).await;
        assert_eq!(resp.json()["Code"], "InvalidTimeStamp.Expired", "{skew}");
    }
    let resp = app.api_signed("GetResourceDirectory", &[], &id, &secret, &nonce(), OffsetDateTime::now_utc() - time::Duration::minutes(14)).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
}

#[actix_web::test]
async fn a_replayed_nonce_is_refused_for_a_read_and_for_a_write() {
    let mut app = TestApp::spawn().await;
    app.api("GetResourceDirectory", &[]).await;
    let (id, secret) = app.access_key.clone().unwrap();
    let n = nonce();
    let first = app.api_signed("GetResourceDirectory", &[], &id, &secret, &n, OffsetDateTime::now_utc()).await;
    assert_eq!(first.status, StatusCode::OK);
    let again = app.api_signed("GetResourceDirectory", &[], &id, &secret, &n, OffsetDateTime::now_utc()).await;
    assert_eq!(again.json()["Code"], "SignatureNonceUsed");
    // An action that writes: its nonce is flushed before it runs, and a replay changes nothing.
    let n = nonce();
    let created = app.api_signed("CreateFolder", &[("FolderName", "ops")], &id, &secret, &n, OffsetDateTime::now_utc()).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let again = app.api_signed("CreateFolder", &[("FolderName", "ops")], &id, &secret, &n, OffsetDateTime::now_utc()).await;
    assert_eq!(again.json()["Code"], "SignatureNonceUsed");
    let folders = app.api("ListFoldersForParent", &[("QueryKeyword", "ops")]).await.json();
    assert_eq!(folders["TotalCount"], 1, "{folders}");
}

#[actix_web::test]
async fn a_forged_request_does_not_use_up_its_nonce_and_a_used_nonce_stays_used() {
    // The nonce is recorded in the key's statement, before the signature is checked: a
    // request signed with the wrong secret must leave it unrecorded, for a read and for a
    // write, and must not free a nonce a signed request already used.
    let mut app = TestApp::spawn().await;
    app.api("GetResourceDirectory", &[]).await;
    let (id, secret) = app.access_key.clone().unwrap();
    for action in ["GetResourceDirectory", "CreateFolder"] {
        let params: &[(&str, &str)] = if action == "CreateFolder" { &[("FolderName", "ops")] } else { &[] };
        let n = nonce();
        let forged = app.api_signed(action, params, &id, "not-the-secret", &n, OffsetDateTime::now_utc()).await;
        assert_eq!(forged.json()["Code"], "SignatureDoesNotMatch", "{action}");
        let signed = app.api_signed(action, params, &id, &secret, &n, OffsetDateTime::now_utc()).await;
        assert_eq!(signed.status, StatusCode::OK, "{action}: {}", signed.body);
        let forged = app.api_signed(action, params, &id, "not-the-secret", &n, OffsetDateTime::now_utc()).await;
        assert_eq!(forged.json()["Code"], "SignatureDoesNotMatch", "{action}");
        let replayed = app.api_signed(action, params, &id, &secret, &n, OffsetDateTime::now_utc()).await;
        assert_eq!(replayed.json()["Code"], "SignatureNonceUsed", "{action}");
    }
    let folders = app.api("ListFoldersForParent", &[("QueryKeyword", "ops")]).await.json();
    assert_eq!(folders["TotalCount"], 1, "{folders}");
}

/// Rule T5: the same signed request sent eight times at once is answered once.
#[actix_web::test]
async fn t5_a_nonce_replayed_by_simultaneous_requests_is_answered_once() {
    let mut app = TestApp::spawn().await;
    app.api("GetResourceDirectory", &[]).await;
    let (id, secret) = app.access_key.clone().unwrap();
    let (n, at) = (nonce(), OffsetDateTime::now_utc());
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let (mut c, id, secret, n) = (app.client(), id.clone(), secret.clone(), n.clone());
            async move { c.api_signed("GetResourceDirectory", &[], &id, &secret, &n, at).await }
        })
        .collect();
    let answers = futures_util::future::join_all(calls).await;
    let codes: Vec<String> =
        answers.iter().map(|r| if r.status == StatusCode::OK { "OK".to_owned() } else { r.json()["Code"].as_str().unwrap_or("").to_owned() }).collect();
    assert_eq!(codes.iter().filter(|c| *c == "OK").count(), 1, "{codes:?}");
    assert!(codes.iter().all(|c| c == "OK" || c == "SignatureNonceUsed"), "{codes:?}");
}

#[actix_web::test]
async fn an_unsigned_request_and_an_unknown_action_get_clear_codes() {
    let mut app = TestApp::spawn().await;
    let resp = app.post_raw("/?Action=GetResourceDirectory", &[]).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert_eq!(resp.json()["Code"], "MissingParameter.Signature");
    let resp = app.api("DoSomethingElse", &[]).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert_eq!(resp.json()["Code"], "OperationNotSupported.Action");
}

#[actix_web::test]
async fn folders_are_managed_through_the_api() {
    let mut app = TestApp::spawn().await;
    let rd = app.api("GetResourceDirectory", &[]).await.json();
    let root = rd["ResourceDirectory"]["RootFolderId"].as_str().unwrap().to_owned();
    assert!(rd["ResourceDirectory"]["ResourceDirectoryId"].as_str().unwrap().starts_with("rd-"));

    let created = app.api("CreateFolder", &[("FolderName", "dev")]).await.json();
    let dev = created["Folder"]["FolderId"].as_str().unwrap().to_owned();
    assert_eq!(created["Folder"]["ParentFolderId"], root.as_str(), "no parent means the root");
    assert!(created["Folder"]["CreateTime"].as_str().unwrap().ends_with('Z'));
    let child = app.api("CreateFolder", &[("FolderName", "team"), ("ParentFolderId", &dev)]).await.json();
    let team = child["Folder"]["FolderId"].as_str().unwrap().to_owned();

    let got = app.api("GetFolder", &[("FolderId", &team)]).await.json();
    let rd_id = rd["ResourceDirectory"]["ResourceDirectoryId"].as_str().unwrap();
    assert_eq!(got["Folder"]["ResourceDirectoryPath"], format!("{rd_id}/{root}/{dev}/{team}"));

    let ancestors = app.api("ListAncestors", &[("ChildId", &team)]).await.json();
    let ids: Vec<&str> = ancestors["Folders"]["Folder"].as_array().unwrap().iter().map(|f| f["FolderId"].as_str().unwrap()).collect();
    assert_eq!(ids, [root.as_str(), dev.as_str()]);

    let renamed = app.api("UpdateFolder", &[("FolderId", &team), ("NewFolderName", "team-a")]).await.json();
    assert_eq!(renamed["Folder"]["FolderName"], "team-a");

    for i in 0..12 {
        app.api("CreateFolder", &[("FolderName", &format!("f{i:02}")), ("ParentFolderId", &dev)]).await;
    }
    let page = app.api("ListFoldersForParent", &[("ParentFolderId", &dev), ("PageNumber", "2"), ("PageSize", "5")]).await.json();
    assert_eq!(page["TotalCount"], 13);
    assert_eq!(page["PageNumber"], 2);
    assert_eq!(page["Folders"]["Folder"].as_array().unwrap().len(), 5);

    let conflict = app.api("DeleteFolder", &[("FolderId", &dev)]).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(conflict.json()["Code"], "DeleteConflict.Folder.SubFolder");
    let ok = app.api("DeleteFolder", &[("FolderId", &team)]).await;
    assert_eq!(ok.status, StatusCode::OK);
    let gone = app.api("GetFolder", &[("FolderId", &team)]).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.json()["Code"], "EntityNotExists.Folder");
}

#[actix_web::test]
async fn bad_parameters_get_missing_and_invalid_codes() {
    let mut app = TestApp::spawn().await;
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        ("CreateFolder", &[], "MissingParameter.FolderName"),
        ("CreateFolder", &[("FolderName", "a b")], "InvalidParameter.FolderName"),
        ("CreateFolder", &[("FolderName", "ok"), ("ParentFolderId", "fd-x")], "InvalidParameter.ParentFolderId"),
        ("GetFolder", &[("FolderId", "fd-0000000000")], "EntityNotExists.Folder"),
        ("CreateResourceAccount", &[], "MissingParameter.DisplayName"),
        ("CreateResourceAccount", &[("DisplayName", "x")], "InvalidParameter.DisplayName"),
        ("GetAccount", &[("AccountId", "12")], "InvalidParameter.AccountId"),
        ("GetAccount", &[("AccountId", "1234567890123456")], "EntityNotExists.Account"),
        ("ListAccounts", &[("PageSize", "500")], "InvalidParameter.PageSize"),
        ("ListAccountsForParent", &[], "MissingParameter.ParentFolderId"),
        ("MoveAccount", &[("AccountId", "1234567890123456")], "MissingParameter.DestinationFolderId"),
    ];
    for (action, params, code) in cases {
        let resp = app.api(action, params).await;
        assert!(resp.status.is_client_error(), "{action} {params:?}: {}", resp.status);
        assert_eq!(resp.json()["Code"], *code, "{action} {params:?}");
    }
}

#[actix_web::test]
async fn members_are_created_listed_moved_and_removed_through_the_api() {
    let mut app = TestApp::spawn().await;
    let a = app.api("CreateFolder", &[("FolderName", "a")]).await.json()["Folder"]["FolderId"].as_str().unwrap().to_owned();
    let b = app.api("CreateFolder", &[("FolderName", "b")]).await.json()["Folder"]["FolderId"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for i in 0..7 {
        let resp =
            app.api("CreateResourceAccount", &[("DisplayName", &format!("member {i}")), ("ParentFolderId", &a), ("AccountNamePrefix", &format!("m{i}"))]).await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
        let account = &resp.json()["Account"];
        assert_eq!(account["FolderId"], a.as_str());
        assert_eq!(account["Type"], "ResourceAccount");
        assert!(account["AccountName"].as_str().unwrap().starts_with(&format!("m{i}@")));
        ids.push(account["AccountId"].as_str().unwrap().to_owned());
    }
    let page = app.api("ListAccounts", &[("PageNumber", "2"), ("PageSize", "5")]).await.json();
    assert_eq!(page["TotalCount"], 7);
    assert_eq!(page["Accounts"]["Account"].as_array().unwrap().len(), 2, "nested as Accounts.Account, page 2 of 5");

    let moved = app.api("MoveAccount", &[("AccountId", &ids[0]), ("DestinationFolderId", &b)]).await;
    assert_eq!(moved.status, StatusCode::OK);
    let in_b = app.api("ListAccountsForParent", &[("ParentFolderId", &b)]).await.json();
    assert_eq!(in_b["TotalCount"], 1);
    assert_eq!(in_b["Accounts"]["Account"][0]["AccountId"], ids[0].as_str());

    let updated = app.api("UpdateAccount", &[("AccountId", &ids[0]), ("NewDisplayName", "renamed")]).await.json();
    assert_eq!(updated["Account"]["DisplayName"], "renamed");
    let got = app.api("GetAccount", &[("AccountId", &ids[0])]).await.json();
    assert!(got["Account"]["ResourceDirectoryPath"].as_str().unwrap().ends_with(&format!("{b}/{}", ids[0])));

    let removed = app.api("RemoveCloudAccount", &[("AccountId", &ids[0])]).await;
    assert_eq!(removed.status, StatusCode::OK);
    assert_eq!(app.api("GetAccount", &[("AccountId", &ids[0])]).await.json()["Code"], "EntityNotExists.Account");
    assert_eq!(app.api("ListAccounts", &[]).await.json()["TotalCount"], 6);
    let search = app.api("ListAccounts", &[("QueryKeyword", "member 3")]).await.json();
    assert_eq!(search["TotalCount"], 1);
}

#[actix_web::test]
async fn a_listed_account_has_the_fields_get_account_shows_and_no_null_in_the_answer() {
    let mut app = TestApp::spawn().await;
    let folder = app.api("CreateFolder", &[("FolderName", "listed")]).await.json()["Folder"]["FolderId"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for i in 0..3 {
        let created = app
            .api("CreateResourceAccount", &[("DisplayName", &format!("listed {i}")), ("ParentFolderId", &folder), ("AccountNamePrefix", &format!("l{i}"))])
            .await;
        ids.push(created.json()["Account"]["AccountId"].as_str().unwrap().to_owned());
    }
    app.api("TagResources", &[("ResourceType", "Account"), ("ResourceId.1", &ids[0]), ("Tag.1.Key", "tier"), ("Tag.1.Value", "gold \"1\"")]).await;

    let listed = app.api("ListAccounts", &[("QueryKeyword", "listed"), ("MaxResults", "2"), ("IncludeTags", "true")]).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert!(!listed.body.contains("null"), "absent fields are left out: {}", listed.body);
    let page = listed.json();
    assert!(page["RequestId"].as_str().is_some_and(|r| !r.is_empty()));
    assert_eq!(page["TotalCount"], 3);
    assert_eq!(page["Accounts"]["Account"].as_array().map(Vec::len), Some(2));
    assert!(page["NextToken"].as_str().is_some_and(|t| !t.is_empty()), "more to come: a token for the next page");
    let first = &page["Accounts"]["Account"][0];
    let got = app.api("GetAccount", &[("AccountId", first["AccountId"].as_str().unwrap()), ("IncludeTags", "true")]).await.json();
    let mut fields: Vec<&String> = first.as_object().unwrap().keys().filter(|k| *k != "DeletionStatus").collect();
    let get_only = ["EmailStatus", "HasSecureMobilePhone", "IdentityInformation", "Location"];
    let mut expected: Vec<&String> = got["Account"].as_object().unwrap().keys().filter(|k| !get_only.contains(&k.as_str())).collect();
    fields.sort();
    expected.sort();
    assert_eq!(fields, expected, "a listed account shows what GetAccount shows");
    for field in &fields {
        assert_eq!(first[field.as_str()], got["Account"][field.as_str()], "{field}");
    }
    assert_eq!(first["DeletionStatus"], "");
    let tagged = page["Accounts"]["Account"].as_array().unwrap().iter().find(|a| a["AccountId"] == ids[0].as_str()).expect("the tagged member is on page 1");
    assert_eq!(tagged["Tags"]["Tag"][0]["Value"], "gold \"1\"");
    let untagged = page["Accounts"]["Account"].as_array().unwrap().iter().find(|a| a["AccountId"] != ids[0].as_str()).unwrap();
    assert_eq!(untagged["Tags"]["Tag"].as_array().map(Vec::len), Some(0));

    let numbered = app.api("ListAccounts", &[("QueryKeyword", "listed"), ("PageNumber", "2"), ("PageSize", "2")]).await.json();
    assert_eq!((numbered["TotalCount"].as_i64(), numbered["PageNumber"].as_i64(), numbered["PageSize"].as_i64()), (Some(3), Some(2), Some(2)));
    assert!(numbered.get("NextToken").is_none(), "paged by number: no token");
    let none = app.api("ListAccounts", &[("QueryKeyword", "nobody by this name")]).await.json();
    assert_eq!(none["Accounts"]["Account"].as_array().map(Vec::len), Some(0));
    assert!(none["RequestId"].is_string());
    let for_parent = app.api("ListAccountsForParent", &[("ParentFolderId", &folder)]).await.json();
    assert!(for_parent["Accounts"]["Account"][0].get("ResourceDirectoryPath").is_none(), "ListAccountsForParent does not show the path");
    assert!(for_parent["Accounts"]["Account"][0].get("Tags").is_none(), "no tags unless asked for");
}

#[actix_web::test]
async fn the_legacy_signature_works_on_a_get_with_everything_in_the_query() {
    let mut app = TestApp::spawn().await;
    let resp = app.api_v1_get("CreateFolder", &[("FolderName", "v1 get".replace(' ', "-").as_str())]).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    assert_eq!(resp.json()["Folder"]["FolderName"], "v1-get");
}

#[actix_web::test]
async fn parameters_in_a_form_body_are_read_and_signed() {
    let mut app = TestApp::spawn().await;
    let resp = app.api_form("CreateFolder", &[("FolderName", "from-body")]).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    assert_eq!(resp.json()["Folder"]["FolderName"], "from-body");
    let listed = app.api("ListFoldersForParent", &[("QueryKeyword", "from-body")]).await.json();
    assert_eq!(listed["TotalCount"], 1);
}

/// A V3 request signed over exactly `signed` (lower-case header names), with `body`.
async fn v3_signed_over(
    app: &mut TestApp,
    action: &str,
    params: &[(&str, &str)],
    signed: &[&str],
    nonce: &str,
    body: &[u8],
    content_sha256: Option<&str>,
) -> crate::support::Response {
    use rd_contacts::api::signature;
    let (id, secret) = app.access_key.clone().unwrap();
    let query: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let date = OffsetDateTime::now_utc();
    let date = format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", date.year(), u8::from(date.month()), date.day(), date.hour(), date.minute(), date.second());
    let body_hash = signature::sha256_hex(body);
    let headers = [
        ("host", "rdc.test".to_owned()),
        ("x-acs-action", action.to_owned()),
        ("x-acs-version", "2022-04-19".to_owned()),
        ("x-acs-date", date),
        ("x-acs-signature-nonce", nonce.to_owned()),
        ("x-acs-content-sha256", content_sha256.unwrap_or(&body_hash).to_owned()),
        ("content-type", "application/x-www-form-urlencoded".to_owned()),
    ];
    let names: Vec<String> = signed.iter().map(|s| s.to_string()).collect();
    let canonical =
        signature::v3_canonical_request("POST", "/", &query, &names, |n| headers.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str()), &body_hash).unwrap();
    let auth = format!("ACS3-HMAC-SHA256 Credential={id},SignedHeaders={},Signature={}", names.join(";"), signature::v3_signature(&secret, &canonical));
    let qs = serde_urlencoded::to_string(&query).unwrap();
    let mut req = actix_web::test::TestRequest::post().uri(&format!("/?{qs}")).insert_header(("Authorization", auth)).set_payload(body.to_vec());
    for (k, v) in &headers {
        req = req.insert_header((*k, v.as_str()));
    }
    app.send(req).await
}

const ALL_SIGNED: [&str; 6] = ["host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"];

#[actix_web::test]
async fn a_v3_request_must_sign_every_header_that_carries_its_meaning() {
    let mut app = TestApp::spawn().await;
    app.api("GetResourceDirectory", &[]).await;
    let folder = app.api("CreateFolder", &[("FolderName", "keep")]).await.json()["Folder"]["FolderId"].as_str().unwrap().to_owned();
    // Signed over host only: action, date and nonce could be swapped by anyone who saw it.
    let forged = v3_signed_over(&mut app, "DeleteFolder", &[("FolderId", &folder)], &["host"], &nonce(), b"", None).await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    assert_eq!(forged.json()["Code"], "IncompleteSignature");
    for leave_out in ALL_SIGNED {
        let signed: Vec<&str> = ALL_SIGNED.iter().copied().filter(|h| *h != leave_out).collect();
        let resp = v3_signed_over(&mut app, "DeleteFolder", &[("FolderId", &folder)], &signed, &nonce(), b"", None).await;
        assert_eq!(resp.json()["Code"], "IncompleteSignature", "{leave_out} unsigned");
        assert!(resp.json()["Message"].as_str().unwrap().contains(leave_out));
    }
    assert_eq!(app.api("GetFolder", &[("FolderId", &folder)]).await.status, StatusCode::OK, "the folder is still there");
    let proper = v3_signed_over(&mut app, "DeleteFolder", &[("FolderId", &folder)], &ALL_SIGNED, &nonce(), b"", None).await;
    assert_eq!(proper.status, StatusCode::OK, "{}", proper.body);
}

#[actix_web::test]
async fn a_v3_body_must_match_its_signed_hash_and_its_content_type_must_be_signed() {
    let mut app = TestApp::spawn().await;
    app.api("GetResourceDirectory", &[]).await;
    let body = b"FolderName=from-the-body";
    let mut with_type = ALL_SIGNED.to_vec();
    with_type.push("content-type");
    let wrong_hash = rd_contacts::api::signature::sha256_hex(b"something else");
    let mismatch = v3_signed_over(&mut app, "CreateFolder", &[], &with_type, &nonce(), body, Some(&wrong_hash)).await;
    assert_eq!(mismatch.json()["Code"], "ContentSHA256NotMatch");
    let untyped = v3_signed_over(&mut app, "CreateFolder", &[], &ALL_SIGNED, &nonce(), body, None).await;
    assert_eq!(untyped.json()["Code"], "IncompleteSignature");
    let ok = v3_signed_over(&mut app, "CreateFolder", &[], &with_type, &nonce(), body, None).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.json()["Folder"]["FolderName"], "from-the-body");
}

#[actix_web::test]
async fn an_empty_signature_nonce_is_refused_in_both_schemes() {
    let mut app = TestApp::spawn().await;
    app.api("GetResourceDirectory", &[]).await;
    let v3 = v3_signed_over(&mut app, "GetResourceDirectory", &[], &ALL_SIGNED, "", b"", None).await;
    assert_eq!(v3.json()["Code"], "InvalidParameter.SignatureNonce");
    let (id, secret) = app.access_key.clone().unwrap();
    let now = OffsetDateTime::now_utc();
    let stamp = format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", now.year(), u8::from(now.month()), now.day(), now.hour(), now.minute(), now.second());
    let mut all: Vec<(String, String)> = [
        ("Action", "GetResourceDirectory"),
        ("Format", "json"),
        ("Version", "2022-04-19"),
        ("Timestamp", &stamp),
        ("SignatureNonce", ""),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("AccessKeyId", &id),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let sig = rd_contacts::api::signature::v1_signature(&secret, "GET", &all);
    all.push(("Signature".into(), sig));
    let v1 = app.get(&format!("/?{}", serde_urlencoded::to_string(&all).unwrap())).await;
    assert_eq!(v1.json()["Code"], "InvalidParameter.SignatureNonce");
}

#[actix_web::test]
async fn an_api_body_over_the_limit_gets_an_error_the_sdk_can_read() {
    let mut app = TestApp::spawn().await;
    app.api("GetResourceDirectory", &[]).await;
    let big = vec![b'a'; rd_contacts::api::BODY_LIMIT + 1];
    let resp =
        app.send(actix_web::test::TestRequest::post().uri("/").insert_header(("content-type", "application/x-www-form-urlencoded")).set_payload(big)).await;
    assert_eq!(resp.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(resp.json()["Code"], "RequestEntityTooLarge");
    assert!(resp.json()["RequestId"].is_string());
}

#[actix_web::test]
async fn an_api_read_starts_from_the_version_read_with_its_key_and_shows_every_change_committed_before_it() {
    // A Get… or List… action reads the search version in its key's statement and keeps
    // values under it: a change committed just before the call (in plain SQL here) shows
    // in its answer, whether the call comes as a GET or as a form.
    use diesel::prelude::*;
    use rd_contacts::db::schema::{accounts, contacts};
    let mut app = TestApp::spawn().await;
    let contact = app.add_contact("OpsLead", "ops@example.com").await;
    app.run_pending_jobs().await;
    let member = crate::support::member_in(&app, None, "alice").await;
    for round in 0..3 {
        assert_eq!(app.api("GetAccount", &[("AccountId", &member)]).await.status, StatusCode::OK);
        assert_eq!(app.api("GetMessageContact", &[("ContactId", &contact)]).await.status, StatusCode::OK);
        assert_eq!(app.api("ListMessageContacts", &[]).await.status, StatusCode::OK);
        let name = format!("Renamed{round}");
        let (m, c, n) = (member.clone(), contact.clone(), name.clone());
        app.with_conn(move |conn| {
            diesel::update(accounts::table.find(&m)).set(accounts::display_name.eq(&n)).execute(conn).unwrap();
            diesel::update(contacts::table.find(&c)).set(contacts::name.eq(&n)).execute(conn).unwrap();
        })
        .await;
        let got = app.api("GetAccount", &[("AccountId", &member)]).await.json();
        assert_eq!(got["Account"]["DisplayName"], name.as_str(), "round {round}: GetAccount");
        let as_form = app.api_form("GetAccount", &[("AccountId", &member)]).await.json();
        assert_eq!(as_form["Account"]["DisplayName"], name.as_str(), "round {round}: GetAccount as a form");
        let contact_got = app.api("GetMessageContact", &[("ContactId", &contact)]).await.json();
        assert_eq!(contact_got["Contact"]["Name"], name.as_str(), "round {round}: GetMessageContact");
        let listed = app.api("ListAccounts", &[]).await.json();
        assert_eq!(listed["Accounts"]["Account"][0]["DisplayName"], name.as_str(), "round {round}: ListAccounts");
        let contacts_listed = app.api("ListMessageContacts", &[]).await.json();
        assert_eq!(contacts_listed["Contacts"][0]["Name"], name.as_str(), "round {round}: ListMessageContacts");
    }
}
