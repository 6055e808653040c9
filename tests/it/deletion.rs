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
        directory::create_account(c, &new).unwrap().id
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
    app.with_conn(move |c| message_center::set_entry_types(c, &m2, &t2, rd_contacts::domain::MessageTypes::parse(&["FaultMessage"]).unwrap()).unwrap()).await;
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
        message_center::add_recipient(c, &l2, &rd_contacts::domain::RecipientName::parse("ops").unwrap(), &EmailAddress::parse("ops@example.com").unwrap(), rd_contacts::domain::MessageTypes::EVERY).unwrap()
    })
    .await;
    assert_eq!(app.api("DeleteMessageContact", &[("ContactId", &tom), ("RetainContactInMembers", "false")]).await.json()["Status"], "Deleting");
    app.run_pending_jobs().await;
    assert_eq!(app.api("GetMessageContact", &[("ContactId", &tom)]).await.status, StatusCode::NOT_FOUND);
}
