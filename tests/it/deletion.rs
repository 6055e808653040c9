//! Deleting contacts: rules D1–D3.

use actix_web::http::StatusCode;
use rd_contacts::directory::{self, JoinMethod, NewAccount};
use rd_contacts::domain::{DisplayName, EmailAddress, FolderId, MessageType};
use rd_contacts::message_center;

use crate::support::TestApp;

async fn member(app: &TestApp, email: Option<&'static str>) -> String {
    app.with_conn(move |c| {
        let root = directory::get_directory(c).unwrap().root_folder_id;
        let new = NewAccount {
            display_name: DisplayName::parse("member").unwrap(),
            folder: FolderId::parse(&root).unwrap(),
            security_email: email.map(|e| EmailAddress::parse(e).unwrap()),
            account_name_prefix: None,
            join_method: JoinMethod::Created,
        };
        rd_contacts::membership::create_account(c, &new, &rd_contacts::audit::Actor::cli()).unwrap().id
    })
    .await
}

async fn recipients(app: &TestApp, account: &str, t: MessageType) -> Vec<String> {
    let a = account.to_owned();
    let mut r: Vec<String> = app.with_conn(move |c| message_center::recipients_for(c, &a, t).unwrap().into_iter().map(|r| r.email).collect()).await;
    r.sort();
    r
}

async fn root(app: &TestApp) -> String {
    app.with_conn(|c| directory::get_directory(c).unwrap().root_folder_id).await
}

#[actix_web::test]
async fn d1_a_contact_not_yet_active_or_bound_to_nothing_is_deleted_at_once() {
    let mut app = TestApp::spawn().await;
    let verifying = app.add_contact("tom", "tom@example.com").await;
    let resp = app.api("DeleteMessageContact", &[("ContactId", &verifying), ("RetainContactInMembers", "False")]).await;
    assert_eq!(resp.json()["Status"], "Deleted");
    assert_eq!(app.api("GetMessageContact", &[("ContactId", &verifying)]).await.json()["Code"], "EntityNotExists.Contact");
    let unbound = app.active_contact("ann", "ann@example.com").await;
    assert_eq!(app.api("DeleteMessageContact", &[("ContactId", &unbound)]).await.json()["Status"], "Deleted");
}

#[actix_web::test]
async fn d2_keep_turns_the_entries_into_the_members_own_recipients() {
    let mut app = TestApp::spawn().await;
    let m = member(&app, None).await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    let r = root(&app).await;
    app.api("AssociateMembers", &[("ContactId", &tom), ("Members.1", &r)]).await;
    let (m2, t2) = (m.clone(), tom.clone());
    app.with_conn(move |c| {
        message_center::set_entry_types(c, &m2, &t2, rd_contacts::domain::MessageTypes::parse(&["FaultMessage"]).unwrap(), &rd_contacts::audit::Actor::cli())
            .unwrap()
    })
    .await;
    let resp = app.api("DeleteMessageContact", &[("ContactId", &tom), ("RetainContactInMembers", "True")]).await;
    assert_eq!(resp.json()["Status"], "Deleted");
    assert_eq!(app.api("GetMessageContact", &[("ContactId", &tom)]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(recipients(&app, &m, MessageType::FaultMessage).await, ["tom@example.com"], "the member still receives");
    assert!(recipients(&app, &m, MessageType::SecurityMessage).await.is_empty(), "the member's opt-out is kept");
    let m3 = m.clone();
    let mc = app.with_conn(move |c| message_center::message_center(c, &m3).unwrap()).await;
    assert!(mc.entries.is_empty() && mc.own.len() == 1, "now the member's own recipient");
}

#[actix_web::test]
async fn d2_d3_remove_fails_for_the_only_fault_recipient_and_reports_it() {
    let mut app = TestApp::spawn().await;
    let lonely = member(&app, None).await;
    let covered = member(&app, Some("own@example.com")).await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    let r = root(&app).await;
    app.api("AssociateMembers", &[("ContactId", &tom), ("Members.1", &r)]).await;
    let resp = app.api("DeleteMessageContact", &[("ContactId", &tom), ("RetainContactInMembers", "false")]).await;
    assert_eq!(resp.json()["Status"], "Deleting");
    let status = app.api("GetMessageContactDeletionStatus", &[("ContactId", &tom)]).await.json();
    assert_eq!(status["ContactDeletionStatus"]["Status"], "Deleting");
    let busy = app.api("UpdateMessageContact", &[("ContactId", &tom), ("Name", "other")]).await;
    assert_eq!(busy.json()["Code"], "ContactStatusMismatchAction", "no change while Deleting");
    let again = app.api("DeleteMessageContact", &[("ContactId", &tom), ("RetainContactInMembers", "false")]).await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
    app.run_pending_jobs().await;

    let status = app.api("GetMessageContactDeletionStatus", &[("ContactId", &tom)]).await.json();
    assert_eq!(status["ContactDeletionStatus"]["Status"], "Failed");
    let reasons = status["ContactDeletionStatus"]["FailReasonList"].as_array().unwrap().clone();
    assert_eq!(reasons.len(), 1);
    assert_eq!(reasons[0]["AccountId"], lonely.as_str());
    assert_eq!(reasons[0]["MessageTypes"], serde_json::json!(["SecurityMessage", "FaultMessage"]));
    let c = app.api("GetMessageContact", &[("ContactId", &tom)]).await.json();
    assert_eq!((c["Contact"]["Status"].as_str(), c["Contact"]["Members"].clone()), (Some("Active"), serde_json::json!([])), "Active, without bindings");
    assert!(recipients(&app, &covered, MessageType::FaultMessage).await == ["own@example.com"], "the others no longer receive from tom");
    assert_eq!(recipients(&app, &lonely, MessageType::FaultMessage).await, ["tom@example.com"]);

    // Once the member has another recipient, a retry goes through.
    let l2 = lonely.clone();
    app.with_conn(move |c| {
        crate::support::add_confirmed_recipient(
            c,
            &l2,
            &rd_contacts::domain::RecipientName::parse("ops").unwrap(),
            &EmailAddress::parse("ops@example.com").unwrap(),
            rd_contacts::domain::MessageTypes::EVERY,
        )
    })
    .await;
    assert_eq!(app.api("DeleteMessageContact", &[("ContactId", &tom), ("RetainContactInMembers", "false")]).await.json()["Status"], "Deleting");
    app.run_pending_jobs().await;
    assert_eq!(app.api("GetMessageContact", &[("ContactId", &tom)]).await.status, StatusCode::NOT_FOUND);
}

/// Gives the queued job of `kind` up as if its workers had crashed on every attempt.
async fn exhaust(app: &TestApp, kind: &'static str) {
    app.with_conn(move |c| {
        use diesel::prelude::*;
        use rd_contacts::db::schema::jobs as j;
        let max = rd_contacts::jobs::DEFAULT_MAX_ATTEMPTS;
        let n = diesel::update(j::table.filter(j::kind.eq(kind)).filter(j::status.eq_any(["queued", "running"])))
            .set((
                j::status.eq("running"),
                j::attempts.eq(max),
                j::locked_by.eq("dead"),
                j::locked_until.eq(rd_contacts::db::now_utc() - time::Duration::seconds(1)),
            ))
            .execute(c)
            .unwrap();
        assert_eq!(n, 1, "one {kind} job");
    })
    .await;
}

#[actix_web::test]
async fn d3_every_fail_reason_of_a_removal_is_kept_counted_and_paged() {
    // One member a batch: each batch writes its own members' reasons.
    let mut app = TestApp::spawn_with(|s| s.jobs.propagation_batch = 1).await;
    let members = [member(&app, None).await, member(&app, None).await, member(&app, None).await];
    let root = root(&app).await;
    let only = app.active_contact("only", "only@example.com").await;
    app.api("AssociateMembers", &[("ContactId", &only), ("Members.1", &root)]).await;
    app.api("DeleteMessageContact", &[("ContactId", &only), ("RetainContactInMembers", "false")]).await;
    app.run_pending_jobs().await;
    let first = app.api("GetMessageContactDeletionStatus", &[("ContactId", &only), ("MaxResults", "2")]).await.json();
    let status = &first["ContactDeletionStatus"];
    assert_eq!(status["Status"], "Failed");
    assert_eq!(status["TotalCount"], 3, "{first}");
    assert_eq!(status["FailReasonList"].as_array().unwrap().len(), 2);
    let token = status["NextToken"].as_str().expect("a next page").to_owned();
    let second = app.api("GetMessageContactDeletionStatus", &[("ContactId", &only), ("MaxResults", "2"), ("NextToken", &token)]).await.json();
    let status = &second["ContactDeletionStatus"];
    assert_eq!(status["FailReasonList"].as_array().unwrap().len(), 1);
    assert!(status.get("NextToken").is_none(), "the last page has no NextToken: {second}");
    let mut listed: Vec<String> = first["ContactDeletionStatus"]["FailReasonList"]
        .as_array()
        .unwrap()
        .iter()
        .chain(status["FailReasonList"].as_array().unwrap())
        .map(|r| r["AccountId"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    let mut expected = members.to_vec();
    expected.sort();
    assert_eq!(listed, expected);
    let bad = app.api("GetMessageContactDeletionStatus", &[("ContactId", &only), ("NextToken", "not a token")]).await;
    assert_eq!(bad.json()["Code"], "InvalidParameter.NextToken");
}

#[actix_web::test]
async fn d3_a_removal_given_up_brings_the_contact_back_active_with_the_members_it_did_not_reach() {
    let mut app = TestApp::spawn().await;
    member(&app, Some("own1@example.com")).await;
    member(&app, Some("own2@example.com")).await;
    let root = root(&app).await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    app.api("AssociateMembers", &[("ContactId", &tom), ("Members.1", &root)]).await;
    let deleting = app.api("DeleteMessageContact", &[("ContactId", &tom), ("RetainContactInMembers", "false")]).await;
    assert_eq!(deleting.json()["Status"], "Deleting");
    exhaust(&app, "delete_contact").await;
    app.run_pending_jobs().await;
    let contact = app.api("GetMessageContact", &[("ContactId", &tom)]).await.json();
    assert_eq!(contact["Contact"]["Status"], "Active", "not left Deleting for ever: {contact}");
    let status = app.api("GetMessageContactDeletionStatus", &[("ContactId", &tom)]).await.json();
    assert_eq!(status["ContactDeletionStatus"]["Status"], "Failed");
    assert_eq!(status["ContactDeletionStatus"]["TotalCount"], 2, "{status}");
    // It can be deleted again, and this time it goes.
    app.api("DeleteMessageContact", &[("ContactId", &tom), ("RetainContactInMembers", "false")]).await;
    app.run_pending_jobs().await;
    assert_eq!(app.api("GetMessageContact", &[("ContactId", &tom)]).await.status, StatusCode::NOT_FOUND);
}
