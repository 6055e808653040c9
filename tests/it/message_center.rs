//! Each member's Message Center: rules M1–M4, member users, and who may see what.

use actix_web::http::StatusCode;
use rd_contacts::db::AnyConnection;
use rd_contacts::directory::{self, JoinMethod, NewAccount};
use rd_contacts::domain::{DisplayName, EmailAddress, FolderId, MessageType};
use rd_contacts::message_center::{self, RecipientKind};

use crate::support::{TestApp, capture};

fn member(c: &mut AnyConnection, name: &str, email: Option<&str>) -> String {
    let root = FolderId::parse(&directory::get_directory(c).unwrap().root_folder_id).unwrap();
    let new = NewAccount {
        display_name: DisplayName::parse(name).unwrap(),
        folder: root,
        security_email: email.map(|e| EmailAddress::parse(e).unwrap()),
        account_name_prefix: None,
        join_method: JoinMethod::Created,
    };
    rd_contacts::membership::create_account(c, &new, &rd_contacts::audit::Actor::cli()).unwrap().id
}

async fn new_member(app: &TestApp, name: &'static str, email: Option<&'static str>) -> String {
    app.with_conn(move |c| member(c, name, email)).await
}

/// Binds `contact` to `target` (a member or folder) through the API, as an administrator.
async fn associate(app: &TestApp, target: &str, contact: &str) {
    let resp = app.client().api("AssociateMembers", &[("ContactId", contact), ("Members.1", target)]).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
}

/// The contacts the directory associates with a member (its view, which a member's own
/// edits do not change), by id.
async fn directory_view(app: &TestApp, account: &str) -> Vec<String> {
    let a = account.to_owned();
    let mut ids: Vec<String> =
        app.with_conn(move |c| rd_contacts::contacts::scope::member_contacts(c, &a, None, false).unwrap().into_iter().map(|m| m.contact.id).collect()).await;
    ids.sort();
    ids
}

async fn recipients(app: &TestApp, account: &str, t: MessageType) -> Vec<String> {
    let a = account.to_owned();
    app.with_conn(move |c| message_center::recipients_for(c, &a, t).unwrap().into_iter().map(|r| r.email).collect()).await
}

async fn contact_with(app: &mut TestApp, name: &str, email: &str, types: &[&str]) -> String {
    let id = app.active_contact(name, email).await;
    let mut params = vec![("ContactId", id.as_str())];
    let keys = ["MessageTypes.1", "MessageTypes.2", "MessageTypes.3"];
    for (k, t) in keys.iter().zip(types) {
        params.push((k, t));
    }
    let resp = app.api("UpdateMessageContact", &params).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    id
}

// ---------------------------------------------------------------- M4

#[actix_web::test]
async fn m4_a_new_member_starts_with_its_security_email_on_every_type() {
    let app = TestApp::spawn().await;
    let a = new_member(&app, "retail prod", Some("ops@retail.example")).await;
    for t in MessageType::ALL {
        assert_eq!(recipients(&app, &a, t).await, ["ops@retail.example"], "{t:?}");
    }
}

#[actix_web::test]
async fn m4_a_member_created_without_a_security_email_starts_empty() {
    let mut app = TestApp::spawn().await;
    let resp = app.api("CreateResourceAccount", &[("DisplayName", "api member")]).await;
    let id = resp.json()["Account"]["AccountId"].as_str().unwrap().to_owned();
    let i = id.clone();
    let mc = app.with_conn(move |c| message_center::message_center(c, &i).unwrap()).await;
    assert!(mc.own.is_empty() && mc.entries.is_empty());
    assert_eq!(mc.uncovered().iter().count(), 6);
}

// ---------------------------------------------------------------- M1

#[actix_web::test]
async fn m1_an_association_adds_the_contact_for_its_own_types_only() {
    let mut app = TestApp::spawn().await;
    let a = new_member(&app, "member a", None).await;
    let tom = contact_with(&mut app, "Tom", "tom@example.com", &["SecurityMessage", "FaultMessage"]).await;
    associate(&app, &a, &tom).await;
    assert_eq!(recipients(&app, &a, MessageType::SecurityMessage).await, ["tom@example.com"]);
    assert_eq!(recipients(&app, &a, MessageType::FaultMessage).await, ["tom@example.com"]);
    assert!(recipients(&app, &a, MessageType::AccountExpenses).await.is_empty());
    let a2 = a.clone();
    let kinds = app.with_conn(move |c| message_center::recipients_for(c, &a2, MessageType::SecurityMessage).unwrap()).await;
    assert_eq!(kinds[0].kind, RecipientKind::Directory { contact_id: tom.clone() });
}

#[actix_web::test]
async fn m1_contact_edits_reach_every_associated_member() {
    let mut app = TestApp::spawn().await;
    let a = new_member(&app, "member a", None).await;
    let b = new_member(&app, "member b", None).await;
    let tom = contact_with(&mut app, "Tom", "tom@example.com", &["SecurityMessage"]).await;
    associate(&app, &a, &tom).await;
    associate(&app, &b, &tom).await;
    app.api("UpdateMessageContact", &[("ContactId", &tom), ("MessageTypes.1", "AccountExpenses"), ("Name", "Thomas")]).await;
    for m in [&a, &b] {
        assert_eq!(recipients(&app, m, MessageType::AccountExpenses).await, ["tom@example.com"]);
        assert!(recipients(&app, m, MessageType::SecurityMessage).await.is_empty());
        let id = m.clone();
        let mc = app.with_conn(move |c| message_center::message_center(c, &id).unwrap()).await;
        assert_eq!(mc.entries[0].contact_name, "Thomas");
    }
}

// ---------------------------------------------------------------- M2 (the seed's example)

#[actix_web::test]
async fn m2_a_member_removing_tom_leaves_alice_while_the_directory_still_lists_both() {
    let mut app = TestApp::spawn().await;
    let a = new_member(&app, "Member A", Some("owner@a.example")).await;
    let alice = contact_with(&mut app, "Alice", "alice@example.com", &["AccountExpenses"]).await;
    let tom = contact_with(&mut app, "Tom", "tom@example.com", &["AccountExpenses"]).await;
    associate(&app, &a, &alice).await;
    associate(&app, &a, &tom).await;
    let mut before = recipients(&app, &a, MessageType::AccountExpenses).await;
    before.sort();
    assert_eq!(before, ["alice@example.com", "owner@a.example", "tom@example.com"]);

    // A user of Member A removes Tom in its Message Center.
    app.member_user(&a, "user@a.example").await;
    let page = app.get("/my/message-center").await;
    assert!(page.body.contains("Tom") && page.body.contains("managed by the resource directory"));
    let removed = app.post(&format!("/my/message-center/entries/{tom}/remove"), &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);

    let mut after = recipients(&app, &a, MessageType::AccountExpenses).await;
    after.sort();
    assert_eq!(after, ["alice@example.com", "owner@a.example"], "notifications go to Alice (and the member's own) only");
    let listed = directory_view(&app, &a).await;
    assert_eq!(listed.len(), 2, "the directory still lists Alice and Tom for Member A");
    assert!(listed.contains(&alice) && listed.contains(&tom));

    // The administrator sees the drift.
    app.clear_cookies();
    app.sign_in().await;
    let admin_page = app.get(&format!("/members/{a}")).await;
    assert!(admin_page.body.contains("Removed by the member"), "{}", admin_page.body);
}

#[actix_web::test]
async fn m2_opting_out_of_a_type_changes_only_the_members_message_center() {
    let mut app = TestApp::spawn().await;
    let a = new_member(&app, "Member A", None).await;
    let tom = contact_with(&mut app, "Tom", "tom@example.com", &["SecurityMessage", "FaultMessage"]).await;
    associate(&app, &a, &tom).await;
    app.member_user(&a, "user@a.example").await;
    // Tom is the member's only recipient of Security: the row asks first, and saves nothing.
    let asked = app.send_htmx_with_token(&format!("/my/message-center/entries/{tom}"), &[("message_types", "FaultMessage")]).await;
    assert!(asked.body.contains("Turn off anyway") && !asked.body.contains(r#"class="saved""#), "{}", asked.body);
    assert_eq!(recipients(&app, &a, MessageType::SecurityMessage).await, ["tom@example.com"]);
    let saved = app.send_htmx_with_token(&format!("/my/message-center/entries/{tom}"), &[("message_types", "FaultMessage"), ("confirm", "1")]).await;
    assert_eq!(saved.status, StatusCode::OK);
    assert!(saved.body.contains("entry-") && !saved.body.contains("<html"), "the row comes back alone");
    assert!(
        saved.body.contains(r#"class="saved""#) && saved.body.contains(r#"<div id="live" hx-swap-oob="innerHTML">Saved Tom.</div>"#),
        "it says it is saved"
    );
    let notice = capture(&saved.body, r#"(<p id="uncovered"[^>]*>[^<]*</p>)"#);
    assert!(notice.contains(r#"hx-swap-oob="true""#) && notice.contains("Security") && !notice.contains("hidden"), "what nobody receives now: {notice}");
    assert!(recipients(&app, &a, MessageType::SecurityMessage).await.is_empty());
    assert_eq!(recipients(&app, &a, MessageType::FaultMessage).await, ["tom@example.com"]);
    let contact = app.api("GetMessageContact", &[("ContactId", &tom)]).await.json();
    assert_eq!(contact["Contact"]["MessageTypes"], serde_json::json!(["SecurityMessage", "FaultMessage"]), "nothing flows back");

    app.clear_cookies();
    app.sign_in().await;
    assert!(app.get(&format!("/members/{a}")).await.body.contains("Opted out by the member: Security"));
}

/// The path of the newest confirmation link sent to `to`.
fn confirm_link(app: &TestApp, to: &str) -> Option<String> {
    let re = regex_lite::Regex::new(r"http://rdc\.test(/confirm/[A-Za-z0-9_-]+)").unwrap();
    app.sent_emails().iter().rev().filter(|e| e.to == to).find_map(|e| re.captures(&e.text).map(|c| c[1].to_owned()))
}

#[actix_web::test]
async fn m2_m6_a_member_adds_edits_and_removes_its_own_recipients_each_address_confirmed_first() {
    let mut app = TestApp::spawn().await;
    let a = new_member(&app, "Member A", None).await;
    app.member_user(&a, "user@a.example").await;
    let bad = app.post("/my/message-center/recipients", &[("name", ""), ("email", "nope")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Enter the recipient&#39;s name") || bad.body.contains("Enter the recipient"));
    assert!(bad.body.contains("Choose at least one message type"));
    let added = app.post("/my/message-center/recipients", &[("name", "Finance team"), ("email", "fin@a.example"), ("message_types", "AccountExpenses")]).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    assert!(recipients(&app, &a, MessageType::AccountExpenses).await.is_empty(), "nothing until the address is confirmed");
    let page = app.get(added.location.as_deref().unwrap()).await;
    assert!(page.body.contains("waiting for confirmation") && page.body.contains("A confirmation link is on its way"));
    app.run_pending_jobs().await;
    let link = confirm_link(&app, "fin@a.example").expect("a confirmation email");
    let mut owner = app.client();
    let (shown, done) = owner.follow_link(&link).await;
    assert!(shown.body.contains("Member A") && shown.body.contains("Account"), "{}", shown.body);
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(recipients(&app, &a, MessageType::AccountExpenses).await, ["fin@a.example"]);
    assert_eq!(owner.follow_link(&link).await.0.status, StatusCode::NOT_FOUND, "single use");

    let a2 = a.clone();
    let id = app.with_conn(move |c| message_center::message_center(c, &a2).unwrap().own[0].id).await;
    let edited = app
        .post(&format!("/my/message-center/recipients/{id}"), &[("name", "Finance"), ("email", "fin2@a.example"), ("message_types", "ServiceMessage")])
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER);
    assert!(recipients(&app, &a, MessageType::ServiceMessage).await.is_empty(), "a new address is confirmed again");
    app.run_pending_jobs().await;
    let (_, done) = owner.follow_link(&confirm_link(&app, "fin2@a.example").expect("a new link")).await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(recipients(&app, &a, MessageType::ServiceMessage).await, ["fin2@a.example"]);
    let removed = app.post(&format!("/my/message-center/recipients/{id}/remove"), &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(recipients(&app, &a, MessageType::ServiceMessage).await.is_empty());
}

#[actix_web::test]
async fn m6_an_unconfirmed_recipient_gets_no_notification_and_does_not_count_for_rule_u2() {
    let mut app = TestApp::spawn().await;
    let a = new_member(&app, "Member A", None).await;
    let tom = contact_with(&mut app, "Tom", "tom@example.com", &["SecurityMessage"]).await;
    app.api("AssociateMembers", &[("ContactId", &tom), ("Members.1", &a)]).await;
    app.member_user(&a, "user@a.example").await;
    app.post("/my/message-center/recipients", &[("name", "Stranger"), ("email", "stranger@elsewhere.example"), ("message_types", "SecurityMessage")]).await;
    let mut admin = app.client();
    admin.api("PublishNotification", &[("MessageType", "SecurityMessage"), ("Subject", "Unconfirmed"), ("Content", "x"), ("AccountId", &a)]).await;
    app.run_pending_jobs().await;
    let got: Vec<String> = app.sent_emails().into_iter().filter(|e| e.subject.contains("Unconfirmed")).map(|e| e.to).collect();
    assert_eq!(got, ["tom@example.com"], "the unconfirmed address got nothing");
    let unbound = admin.api("DisassociateMembers", &[("ContactId", &tom), ("Members.1", &a)]).await;
    assert_eq!(unbound.status, StatusCode::OK);
    assert_eq!(recipients(&app, &a, MessageType::SecurityMessage).await, ["tom@example.com"], "Tom is retained: the unconfirmed recipient does not count");
}

#[actix_web::test]
async fn m6_a_member_has_at_most_fifty_recipients_of_its_own() {
    let mut app = TestApp::spawn().await;
    let a = new_member(&app, "Member A", None).await;
    let a2 = a.clone();
    app.with_conn(move |c| {
        for i in 0..50 {
            let email = EmailAddress::parse(&format!("r{i}@a.example")).unwrap();
            crate::support::add_confirmed_recipient(
                c,
                &a2,
                &rd_contacts::domain::RecipientName::parse(&format!("r{i}")).unwrap(),
                &email,
                rd_contacts::domain::MessageTypes::EVERY,
            );
        }
    })
    .await;
    app.member_user(&a, "user@a.example").await;
    let refused = app.post("/my/message-center/recipients", &[("name", "one more"), ("email", "more@a.example"), ("message_types", "FaultMessage")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("at most 50 recipients"), "{}", refused.body);
    let page = app.get("/my/message-center").await;
    assert!(page.body.contains("Page 1 of 2"), "the page comes in pages");
    assert!(app.get("/my/message-center?page=2").await.body.contains("r49@a.example"));
}

#[actix_web::test]
async fn m6_t4_confirmation_emails_to_one_address_are_limited_to_ten_a_minute() {
    let mut app = TestApp::spawn().await;
    let a = new_member(&app, "Member A", None).await;
    app.member_user(&a, "user@a.example").await;
    app.post("/my/message-center/recipients", &[("name", "Target"), ("email", "target@victim.example"), ("message_types", "FaultMessage")]).await;
    let a2 = a.clone();
    let id = app.with_conn(move |c| message_center::message_center(c, &a2).unwrap().own[0].id).await;
    for i in 0..9 {
        let again = app.post(&format!("/my/message-center/recipients/{id}/resend"), &[]).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER, "resend {i}");
    }
    let refused = app.post(&format!("/my/message-center/recipients/{id}/resend"), &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body.contains("At most 10 confirmation emails a minute"), "{}", refused.body);
    let another =
        app.post("/my/message-center/recipients", &[("name", "Target two"), ("email", "TARGET@victim.example"), ("message_types", "FaultMessage")]).await;
    assert_eq!(another.status, StatusCode::UNPROCESSABLE_ENTITY, "the limit is per address, whatever the recipient");
    let a2 = a.clone();
    assert_eq!(app.with_conn(move |c| message_center::message_center(c, &a2).unwrap().own.len()).await, 1, "the refused one was not added");
    app.run_pending_jobs().await;
    assert_eq!(app.sent_emails().iter().filter(|e| e.to.eq_ignore_ascii_case("target@victim.example")).count(), 10);
}

// ---------------------------------------------------------------- M3

#[actix_web::test]
async fn m3_a_removed_entry_comes_back_only_with_a_new_explicit_binding() {
    let mut app = TestApp::spawn().await;
    let (x, y) = app
        .with_conn(|c| {
            let root = FolderId::parse(&directory::get_directory(c).unwrap().root_folder_id).unwrap();
            let mk = |c: &mut AnyConnection, n: &str| {
                directory::create_folder(c, &root, &rd_contacts::domain::FolderName::parse(n).unwrap(), &rd_contacts::audit::Actor::cli()).unwrap().id
            };
            (mk(c, "x"), mk(c, "y"))
        })
        .await;
    let a = app.api("CreateResourceAccount", &[("DisplayName", "Member A"), ("ParentFolderId", &x)]).await.json()["Account"]["AccountId"]
        .as_str()
        .unwrap()
        .to_owned();
    let tom = contact_with(&mut app, "Tom", "tom@example.com", &["SecurityMessage"]).await;
    associate(&app, &a, &tom).await;
    associate(&app, &y, &tom).await;
    let (a2, t2) = (a.clone(), tom.clone());
    app.with_conn(move |c| message_center::remove_entry(c, &a2, &t2, &rd_contacts::audit::Actor::cli()).unwrap()).await;
    app.api("UpdateMessageContact", &[("ContactId", &tom), ("MessageTypes.1", "SecurityMessage"), ("MessageTypes.2", "FaultMessage"), ("Name", "Tommy")]).await;
    assert!(recipients(&app, &a, MessageType::SecurityMessage).await.is_empty(), "a contact edit does not re-add it");
    assert!(recipients(&app, &a, MessageType::FaultMessage).await.is_empty());
    let moved = app.api("MoveAccount", &[("AccountId", &a), ("DestinationFolderId", &y)]).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert!(recipients(&app, &a, MessageType::SecurityMessage).await.is_empty(), "moving into a folder the contact covers does not either");
    associate(&app, &x, &tom).await;
    assert!(recipients(&app, &a, MessageType::SecurityMessage).await.is_empty(), "nor a binding that does not cover the member");
    let root = app.with_conn(|c| directory::get_directory(c).unwrap().root_folder_id).await;
    associate(&app, &root, &tom).await;
    assert_eq!(recipients(&app, &a, MessageType::SecurityMessage).await, ["tom@example.com"], "a new binding action that covers it does");
}

#[actix_web::test]
async fn u2_unbinding_keeps_a_contact_for_exactly_the_types_it_alone_covers() {
    let mut app = TestApp::spawn().await;
    let a = new_member(&app, "Member A", None).await;
    let tom = contact_with(&mut app, "Tom", "tom@example.com", &["SecurityMessage", "FaultMessage"]).await;
    let ann = contact_with(&mut app, "Ann", "ann@example.com", &["FaultMessage"]).await;
    associate(&app, &a, &tom).await;
    associate(&app, &a, &ann).await;
    let unbind = |contact: String| {
        let (mut c, a) = (app.client(), a.clone());
        async move { c.api("DisassociateMembers", &[("ContactId", &contact), ("Members.1", &a)]).await }
    };
    assert_eq!(unbind(ann.clone()).await.status, StatusCode::OK);
    assert_eq!(directory_view(&app, &a).await, vec![tom.clone()], "Tom still covers Fault: Ann goes");
    assert_eq!(unbind(tom.clone()).await.status, StatusCode::OK);
    let a2 = a.clone();
    let kept = app.with_conn(move |c| rd_contacts::contacts::scope::member_contacts(c, &a2, None, false).unwrap()).await;
    assert_eq!(kept.len(), 1, "Tom is the only recipient left: he stays");
    assert_eq!(recipients(&app, &a, MessageType::SecurityMessage).await, ["tom@example.com"]);
    assert_eq!(recipients(&app, &a, MessageType::FaultMessage).await, ["tom@example.com"]);
}

// ---------------------------------------------------------------- who sees what

#[actix_web::test]
async fn a_member_user_cannot_reach_another_members_message_center_by_any_url_or_field() {
    let mut app = TestApp::spawn().await;
    let a = new_member(&app, "Member A", Some("owner@a.example")).await;
    let b = new_member(&app, "Member B", Some("owner@b.example")).await;
    let tom = contact_with(&mut app, "Tom", "tom@example.com", &["SecurityMessage"]).await;
    associate(&app, &b, &tom).await;
    let b2 = b.clone();
    let b_recipient = app.with_conn(move |c| message_center::message_center(c, &b2).unwrap().own[0].id).await;
    let root = app.with_conn(|c| directory::get_directory(c).unwrap().root_folder_id).await;

    app.member_user(&a, "user@a.example").await;
    assert_eq!(app.get("/my/message-center").await.status, StatusCode::OK);
    assert!(!app.get("/my/message-center").await.body.contains("owner@b.example"));
    for path in [
        format!("/members/{b}"),
        format!("/members/{a}"),
        "/directory".into(),
        "/contacts".into(),
        format!("/contacts/{tom}"),
        format!("/folders/{root}"),
        "/outbox".into(),
        "/jobs".into(),
        "/settings/quotas".into(),
    ] {
        assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND, "GET {path}");
    }
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (format!("/my/message-center/recipients/{b_recipient}"), vec![("name", "x"), ("email", "x@example.com"), ("message_types", "ProductMessage")]),
        (format!("/my/message-center/recipients/{b_recipient}/remove"), vec![]),
        (format!("/my/message-center/entries/{tom}"), vec![("message_types", "SecurityMessage")]),
        (format!("/my/message-center/entries/{tom}/remove"), vec![]),
        (format!("/members/{b}/invite"), vec![("email", "evil@example.com")]),
        (format!("/members/{b}/move"), vec![("destination", root.as_str())]),
        (format!("/folders/{root}/members"), vec![("display_name", "sneaky")]),
        ("/my/message-center/recipients/not-a-number".into(), vec![]),
    ];
    for (path, fields) in posts {
        let resp = app.post(&path, &fields).await;
        assert_eq!(resp.status, StatusCode::NOT_FOUND, "POST {path}");
    }
    let b3 = b.clone();
    let mc_b = app.with_conn(move |c| message_center::message_center(c, &b3).unwrap()).await;
    assert_eq!(mc_b.own.len(), 1);
    assert_eq!(mc_b.own[0].email, "owner@b.example", "B's recipient is untouched");
    assert!(mc_b.entries[0].removed_at.is_none() && mc_b.entries[0].opt_out.is_empty());
}

#[actix_web::test]
async fn an_administrator_has_no_message_center_of_its_own() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    assert_eq!(app.get("/my/message-center").await.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_member_user_signs_in_with_its_email_and_lands_on_its_message_center() {
    let mut app = TestApp::spawn().await;
    let a = new_member(&app, "Member A", None).await;
    app.member_user(&a, "User@A.example").await;
    app.clear_cookies();
    let wrong = app.post("/login", &[("username", "user@a.example"), ("password", "wrong password")]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ok = app.post("/login", &[("username", "user@a.example"), ("password", "Tide-lantern-91-quartz")]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location.as_deref(), Some("/my/message-center"));
    assert!(app.get("/my/message-center").await.body.contains("Member A"));
}

#[actix_web::test]
async fn an_invitation_link_is_single_use_and_a_new_invitation_replaces_the_old_link() {
    let mut app = TestApp::spawn().await;
    let a = new_member(&app, "Member A", None).await;
    app.sign_in().await;
    app.post(&format!("/members/{a}/invite"), &[("email", "user@a.example")]).await;
    app.post(&format!("/members/{a}/invite"), &[("email", "user@a.example")]).await;
    app.run_pending_jobs().await;
    let re = regex_lite::Regex::new(r"http://rdc\.test(/invite/[A-Za-z0-9_-]+)").unwrap();
    let links: Vec<String> = app.sent_emails().iter().filter_map(|e| re.captures(&e.text).map(|c| c[1].to_owned())).collect();
    assert_eq!(links.len(), 2);
    assert_eq!(app.get(&links[0]).await.status, StatusCode::NOT_FOUND, "the older link was replaced");
    assert_eq!(app.get(&links[1]).await.status, StatusCode::OK);
    let taken = app.post(&format!("/members/{a}/invite"), &[("email", "not-an-email")]).await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    let b = new_member(&app, "Member B", None).await;
    let elsewhere = app.post(&format!("/members/{b}/invite"), &[("email", "USER@a.example")]).await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(elsewhere.body.contains("already signs in for another member account"));
}
