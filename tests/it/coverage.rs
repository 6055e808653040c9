//! Who would miss what: gaps appear and vanish as contacts, opt-outs and own recipients
//! change, on the Coverage page, its CSV and `ListCoverageGaps`.

use actix_web::http::StatusCode;
use rd_contacts::audit::Actor;
use rd_contacts::coverage::{self, Within};
use rd_contacts::directory;
use rd_contacts::domain::{EmailAddress, FolderId, MessageType, MessageTypes, RecipientName};
use serde_json::Value;

use crate::support::{TestApp, add_confirmed_recipient};

async fn member(app: &TestApp, folder: &str, name: &'static str) -> String {
    crate::support::member_in(app, Some(folder), name).await
}

/// The gaps `ListCoverageGaps` reports for `account` (type → reason).
async fn gaps_of(app: &mut TestApp, folder: &str, account: &str) -> Vec<(String, String)> {
    let resp = app.api("ListCoverageGaps", &[("FolderId", folder), ("MaxResults", "100")]).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    let body = resp.json();
    body["Gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["AccountId"] == account)
        .flat_map(|g| {
            g["Reasons"].as_array().unwrap().iter().map(|r| (r["MessageType"].as_str().unwrap().to_owned(), r["Reason"].as_str().unwrap().to_owned()))
        })
        .collect()
}

fn has(gaps: &[(String, String)], t: &str) -> Option<String> {
    gaps.iter().find(|(g, _)| g == t).map(|(_, r)| r.clone())
}

#[actix_web::test]
async fn gaps_appear_and_vanish_as_contacts_opt_outs_and_own_recipients_change() {
    let mut app = TestApp::spawn().await;
    let folder = app.api("CreateFolder", &[("FolderName", "ops")]).await.json()["Folder"]["FolderId"].as_str().unwrap().to_owned();
    let m = member(&app, &folder, "lonely").await;
    let gaps = gaps_of(&mut app, &folder, &m).await;
    assert_eq!(gaps.len(), 6, "a member nobody looks after misses every type: {gaps:?}");
    assert_eq!(has(&gaps, "SecurityMessage").as_deref(), Some("NoRecipient"));

    // A verified contact bound to its folder covers its types.
    let tom = app.active_contact("tom", "tom@example.com").await; // SecurityMessage and FaultMessage
    app.api("AssociateMembers", &[("ContactId", &tom), ("Members.1", &folder)]).await;
    let gaps = gaps_of(&mut app, &folder, &m).await;
    assert_eq!((has(&gaps, "SecurityMessage"), has(&gaps, "FaultMessage"), gaps.len()), (None, None, 4), "{gaps:?}");

    // The member turns Security off: the gap is back, and says why.
    let (mm, t) = (m.clone(), tom.clone());
    app.with_conn(move |c| rd_contacts::message_center::set_entry_types(c, &mm, &t, MessageTypes::parse(&["FaultMessage"]).unwrap(), &Actor::cli()).unwrap())
        .await;
    assert_eq!(has(&gaps_of(&mut app, &folder, &m).await, "SecurityMessage").as_deref(), Some("OptedOut"));

    // An own recipient not confirmed yet does not cover it; confirmed, it does.
    let mm = m.clone();
    app.with_conn(move |c| {
        let secrets = rd_contacts::secrets::SecretBox::new(b"a test secret key that is long enough for cookies and sealing, 64+ bytes");
        let sender = rd_contacts::mail::Sender { requested_by: "test".into(), public_url: "http://rdc.test".into(), secrets };
        let (name, email) = (RecipientName::parse("Night desk").unwrap(), EmailAddress::parse("night@example.com").unwrap());
        rd_contacts::message_center::add_recipient(c, &mm, &name, &email, MessageTypes::parse(&["SecurityMessage"]).unwrap(), &sender, &Actor::cli()).unwrap();
    })
    .await;
    app.run_pending_jobs().await;
    assert_eq!(has(&gaps_of(&mut app, &folder, &m).await, "SecurityMessage").as_deref(), Some("OnlyUnverified"));
    let mm = m.clone();
    app.with_conn(move |c| {
        add_confirmed_recipient(
            c,
            &mm,
            &RecipientName::parse("Day desk").unwrap(),
            &EmailAddress::parse("day@example.com").unwrap(),
            MessageTypes::parse(&["SecurityMessage"]).unwrap(),
        )
    })
    .await;
    app.run_pending_jobs().await;
    assert_eq!(has(&gaps_of(&mut app, &folder, &m).await, "SecurityMessage"), None);

    // The folder's counts agree with the member list, per type.
    let path = app.with_conn(move |c| directory::get_folder(c, &FolderId::parse(&folder).unwrap()).unwrap().path).await;
    let p = path.clone();
    let rows = app.with_conn(move |c| coverage::folder_gaps(c, &p).unwrap()).await;
    assert_eq!(rows.len(), 1);
    let security = MessageType::ALL.iter().position(|t| *t == MessageType::SecurityMessage).unwrap();
    let fault = MessageType::ALL.iter().position(|t| *t == MessageType::FaultMessage).unwrap();
    assert_eq!((rows[0].members, rows[0].gaps[security], rows[0].gaps[fault]), (1, 0, 0));
    let (listed, total) =
        app.with_conn(move |c| coverage::members_with_gaps(c, Within::Subtree(&path), Some(MessageType::AccountExpenses), 0, 10).unwrap()).await;
    assert_eq!((listed.len(), total), (1, 1));
}

#[actix_web::test]
async fn the_coverage_page_counts_per_folder_and_type_and_drills_down_to_the_members_and_why() {
    let mut app = TestApp::spawn().await;
    let root = app.with_conn(|c| directory::get_directory(c).unwrap().root_folder_id).await;
    let ops = app.api("CreateFolder", &[("FolderName", "ops")]).await.json()["Folder"]["FolderId"].as_str().unwrap().to_owned();
    let a = member(&app, &ops, "alpha").await;
    member(&app, &root, "beta").await;
    app.sign_in().await;
    let page = app.get("/coverage").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("href=\"/coverage?folder={ops}\">ops</a>")), "{}", page.body);
    assert!(page.body.contains("Directly in Root"), "{}", page.body);
    let drill = app.get(&format!("/coverage/members?folder={ops}&type=SecurityMessage")).await;
    assert_eq!(drill.status, StatusCode::OK);
    assert!(drill.body.contains(&a) && drill.body.contains("no recipient"), "{}", drill.body);
    assert!(!drill.body.contains("beta"), "only the folder's members: {}", drill.body);
    let bad = app.get("/coverage/members?type=Nope").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let csv = app.get(&format!("/coverage.csv?folder={root}")).await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "account_id,display_name,folder_id,message_types,reasons");
    assert_eq!(lines.len(), 3, "{}", csv.body);
    let api: Value = app.api("ListCoverageGaps", &[]).await.json();
    assert_eq!(api["TotalCount"], 2);
    let member = app.get(&format!("/members/{a}")).await;
    assert!(member.body.contains("Security") && member.body.contains("no recipient"), "the member page shows its own gaps: {}", member.body);
}

#[actix_web::test]
async fn a_refused_address_is_marked_bouncing_its_notifications_are_skipped_and_the_gap_shows_until_cleared() {
    let mut app = TestApp::spawn().await;
    let folder = app.api("CreateFolder", &[("FolderName", "ops")]).await.json()["Folder"]["FolderId"].as_str().unwrap().to_owned();
    let m = member(&app, &folder, "lonely").await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    app.api("AssociateMembers", &[("ContactId", &tom), ("Members.1", &m)]).await;
    assert_eq!(has(&gaps_of(&mut app, &folder, &m).await, "SecurityMessage"), None);

    // The mail server answers 550 for tom's address.
    app.state.mailer.refuse("tom@example.com");
    let first =
        app.api("PublishNotification", &[("MessageType", "SecurityMessage"), ("Subject", "first"), ("Content", "Rotate your keys."), ("AccountId", &m)]).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    app.run_pending_jobs().await;
    assert!(app.with_conn(|c| rd_contacts::bounces::is_bouncing(c, "TOM@example.com").unwrap()).await, "marked, whatever the case");
    assert_eq!(has(&gaps_of(&mut app, &folder, &m).await, "SecurityMessage").as_deref(), Some("OnlyBouncingAddresses"));

    // The next notification is not sent to it: skipped, and the log says why.
    let sent_before = app.sent_emails().len();
    let second =
        app.api("PublishNotification", &[("MessageType", "SecurityMessage"), ("Subject", "second"), ("Content", "Rotate again."), ("AccountId", &m)]).await;
    let id = second.json()["NotificationId"].as_str().unwrap().to_owned();
    app.run_pending_jobs().await;
    assert_eq!(app.sent_emails().len(), sent_before);
    app.sign_in().await;
    let log = app.get(&format!("/notifications?notification={id}")).await;
    assert!(log.body.contains("1 skipped (bouncing)") && log.body.contains("it bounces"), "{}", log.body);
    let page = app.get(&format!("/contacts/{tom}")).await;
    assert!(page.body.contains("status-bouncing") && page.body.contains("mailbox unavailable"), "{}", page.body);
    assert!(app.get("/contacts").await.body.contains("status-bouncing"));

    // The mailbox is fixed and an administrator clears the mark: no longer bouncing, and the
    // address is asked to confirm again.
    app.state.mailer.accept("tom@example.com");
    let cleared = app.post(&format!("/contacts/{tom}/clear-bounce"), &[]).await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER, "{}", cleared.body);
    assert!(!app.with_conn(|c| rd_contacts::bounces::is_bouncing(c, "tom@example.com").unwrap()).await);
    assert_eq!(has(&gaps_of(&mut app, &folder, &m).await, "SecurityMessage"), None);
    app.run_pending_jobs().await;
    let link = app.links_sent_to("tom@example.com").pop().expect("a verification email after the mark is cleared");
    let (_, confirmed) = app.follow_link(&link).await;
    assert_eq!(confirmed.status, StatusCode::OK, "the link confirms the address again: {}", confirmed.body);
    app.sign_in().await;
    let trail: Vec<String> = app
        .with_conn(|c| {
            use diesel::prelude::*;
            use rd_contacts::db::schema::audit_events;
            audit_events::table.filter(audit_events::action.like("address.%")).order(audit_events::seq).select(audit_events::action).load(c).unwrap()
        })
        .await;
    assert_eq!(trail, ["address.bounce", "address.bounce_cleared"]);
    app.leftover_jobs_ok.set(true);
}

#[actix_web::test]
async fn an_opt_out_that_would_leave_a_type_with_nobody_is_asked_first() {
    let mut app = TestApp::spawn().await;
    let folder = app.api("CreateFolder", &[("FolderName", "ops")]).await.json()["Folder"]["FolderId"].as_str().unwrap().to_owned();
    let m = member(&app, &folder, "lonely").await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    app.api("AssociateMembers", &[("ContactId", &tom), ("Members.1", &m)]).await;
    app.member_user(&m, "ops@example.com").await;
    let path = format!("/my/message-center/entries/{tom}");
    let asked = app.post(&path, &[("message_types", "FaultMessage")]).await;
    assert_eq!(asked.status, StatusCode::CONFLICT, "{}", asked.body);
    assert!(asked.body.contains("nobody would receive Security"), "{}", asked.body);
    assert_eq!(has(&gaps_of(&mut app, &folder, &m).await, "SecurityMessage"), None, "nothing was saved");
    let confirmed = app.post(&path, &[("message_types", "FaultMessage"), ("confirm", "1")]).await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER, "{}", confirmed.body);
    assert_eq!(has(&gaps_of(&mut app, &folder, &m).await, "SecurityMessage").as_deref(), Some("OptedOut"));
}

#[actix_web::test]
async fn u2_an_unbind_keeps_a_contact_whose_members_other_recipients_bounce_so_it_opens_no_gap() {
    let mut app = TestApp::spawn().await;
    let folder = app.api("CreateFolder", &[("FolderName", "ops")]).await.json()["Folder"]["FolderId"].as_str().unwrap().to_owned();
    let m = member(&app, &folder, "lonely").await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    let ann = app.active_contact("ann", "ann@example.com").await;
    for c in [&tom, &ann] {
        app.api("AssociateMembers", &[("ContactId", c), ("Members.1", &folder)]).await;
    }
    // Ann's address bounces: tom is the only one who still reaches the member.
    app.with_conn(|c| rd_contacts::bounces::mark(c, "ann@example.com", "550 no such user", &Actor::mail_server()).unwrap()).await;
    let unbound = app.api("DisassociateMembers", &[("ContactId", &tom), ("Members.1", &folder)]).await;
    assert_eq!(unbound.status, StatusCode::OK, "{}", unbound.body);
    app.run_pending_jobs().await;
    assert_eq!(has(&gaps_of(&mut app, &folder, &m).await, "SecurityMessage"), None, "tom stays (rule U2): no gap opened");
    let (mm, t) = (m.clone(), tom.clone());
    let kept = app.with_conn(move |c| rd_contacts::message_center::message_center(c, &mm).unwrap().entries.iter().any(|e| e.contact_id == t)).await;
    assert!(kept, "retained because ann bounces");

    // Once ann's mark is cleared, unbinding ann's rival goes through as usual.
    app.with_conn(|c| rd_contacts::bounces::clear(c, "ann@example.com", &Actor::cli()).unwrap()).await;
    let reunbound = app.api("DisassociateMembers", &[("ContactId", &ann), ("Members.1", &folder)]).await;
    assert_eq!(reunbound.status, StatusCode::OK, "{}", reunbound.body);
    app.run_pending_jobs().await;
    assert_eq!(has(&gaps_of(&mut app, &folder, &m).await, "SecurityMessage"), None);
}

#[actix_web::test]
async fn the_message_center_marks_bouncing_addresses_and_counts_them_as_nobody() {
    let mut app = TestApp::spawn().await;
    let folder = app.api("CreateFolder", &[("FolderName", "ops")]).await.json()["Folder"]["FolderId"].as_str().unwrap().to_owned();
    let m = member(&app, &folder, "lonely").await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    app.api("AssociateMembers", &[("ContactId", &tom), ("Members.1", &m)]).await;
    let mm = m.clone();
    app.with_conn(move |c| {
        add_confirmed_recipient(
            c,
            &mm,
            &RecipientName::parse("Night desk").unwrap(),
            &EmailAddress::parse("night@example.com").unwrap(),
            MessageTypes::parse(&["AccountExpenses"]).unwrap(),
        )
    })
    .await;
    app.with_conn(|c| {
        rd_contacts::bounces::mark(c, "night@example.com", "550 mailbox unavailable", &Actor::mail_server()).unwrap();
        rd_contacts::bounces::mark(c, "tom@example.com", "552 over quota for good", &Actor::mail_server()).unwrap();
    })
    .await;
    app.member_user(&m, "owner@example.com").await;
    let page = app.get("/my/message-center").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body.matches("tag bouncing").count(), 2, "both rows say so: {}", page.body);
    assert!(page.body.contains("550 mailbox unavailable") && page.body.contains("correct the address"), "{}", page.body);
    // What nobody receives now includes what only bouncing addresses would get.
    let mc = app.with_conn(move |c| rd_contacts::message_center::message_center(c, &m).unwrap()).await;
    let uncovered = mc.uncovered();
    assert!(uncovered.contains(MessageType::AccountExpenses) && uncovered.contains(MessageType::SecurityMessage), "{uncovered:?}");
}
