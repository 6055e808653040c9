//! Contacts: rules C1–C6, through the API, the console and the verification link.

use actix_web::http::StatusCode;
use diesel::prelude::*;
use rd_contacts::db::now_utc;
use rd_contacts::db::schema::contact_verifications;

use crate::support::{TestApp, capture};

pub fn contact<'a>(name: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("Name", name), ("EmailAddress", email), ("Title", "MaintenanceDirector"), ("MessageTypes.1", "ProductMessage")]
}

/// Where the contact's notifications go now.
async fn deliverable(app: &TestApp, id: String) -> Option<String> {
    let id = rd_contacts::domain::ContactId::parse(&id).unwrap();
    app.with_conn(move |c| rd_contacts::contacts::get_contact(c, &id).unwrap().deliverable_email().map(str::to_owned)).await
}

async fn get(app: &mut TestApp, id: &str) -> serde_json::Value {
    let resp = app.api("GetMessageContact", &[("ContactId", id)]).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    resp.json()["Contact"].clone()
}

/// Forgets the sends of the last day, so that a test about something else is not
/// stopped by rule C4.
async fn forget_sends(app: &TestApp) {
    app.with_conn(|c| diesel::delete(contact_verifications::table).filter(contact_verifications::used_at.is_null()).execute(c).map(|_| ()).ok()).await;
}

// ---------------------------------------------------------------- C1

#[actix_web::test]
async fn c1_the_21st_contact_is_refused_then_accepted_after_the_quota_is_raised() {
    let mut app = TestApp::spawn().await;
    let names = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett", "kilo", "lima", "mike", "november", "oscar", "papa",
        "quebec", "romeo", "sierra", "tango",
    ];
    for (i, name) in names.iter().enumerate() {
        let resp = app.api("AddMessageContact", &contact(name, &format!("c{i}@example.com"))).await;
        assert_eq!(resp.status, StatusCode::OK, "{name}: {}", resp.body);
    }
    let refused = app.api("AddMessageContact", &contact("uniform", "u@example.com")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.json()["Code"], "QuotaExceeded.Contacts");
    assert!(refused.json()["Message"].as_str().unwrap().contains("Settings → Quotas"));
    assert_eq!(app.api("ListMessageContacts", &[]).await.json()["TotalCount"], 20);

    app.sign_in().await;
    let page = app.get("/contacts").await;
    assert!(page.body.contains("All 20 contacts of the quota are used"));
    assert!(page.body.contains(r#"<button type="button" disabled aria-describedby="quota-note">Create Contact</button>"#), "Create says why it is off");
    let panel = app.post("/contacts", &[("name", "uniform"), ("email", "u@example.com"), ("title", "CEO"), ("message_types", "AccountExpenses")]).await;
    assert_eq!(panel.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(panel.body.contains("Raise the quota under Settings → Quotas"));

    let raised = app.post("/settings/quotas", &[("contact_quota", "25")]).await;
    assert_eq!(raised.status, StatusCode::SEE_OTHER);
    let accepted = app.api("AddMessageContact", &contact("uniform", "u@example.com")).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert!(app.get("/contacts").await.body.contains("21 of 25 contacts"));
    app.run_pending_jobs().await;
}

#[actix_web::test]
async fn c1_the_quota_is_never_lowered_below_the_contacts_in_use() {
    let mut app = TestApp::spawn().await;
    app.add_contact("alpha", "a@example.com").await;
    app.add_contact("bravo", "b@example.com").await;
    app.sign_in().await;
    let refused = app.post("/settings/quotas", &[("contact_quota", "1")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("cannot be lower than the 2 contacts in use"));
    assert!(refused.body.contains(r#"value="1""#), "the input is kept");
    let nonsense = app.post("/settings/quotas", &[("contact_quota", "lots")]).await;
    assert_eq!(nonsense.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.post("/settings/quotas", &[("contact_quota", "2")]).await.status == StatusCode::SEE_OTHER);
    assert!(app.get("/settings/quotas").await.body.contains("2 of 2 in use"));
    app.run_pending_jobs().await;
}

// ---------------------------------------------------------------- C2

#[actix_web::test]
async fn c2_names_are_2_to_12_chinese_characters_or_english_letters() {
    let mut app = TestApp::spawn().await;
    let cases = [
        ("a", "InvalidParameter.Name.Length"),
        ("abcdefghijklm", "InvalidParameter.Name.Length"),
        ("张", "InvalidParameter.Name.Length"),
        ("tom2", "InvalidParameter.Name"),
        ("tom smith", "InvalidParameter.Name"),
        ("tom_smith", "InvalidParameter.Name"),
    ];
    for (i, (name, code)) in cases.iter().enumerate() {
        let resp = app.api("AddMessageContact", &contact(name, &format!("x{i}@example.com"))).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(resp.json()["Code"], *code, "{name}");
    }
    for (i, name) in ["ab", "abcdefghijkl", "张三", "欧阳娜娜", "王Tom", "AliceLi"].iter().enumerate() {
        let id = app.add_contact(name, &format!("ok{i}@example.com")).await;
        assert_eq!(get(&mut app, &id).await["Name"], *name, "stored exactly");
    }
    assert_eq!(app.api("ListMessageContacts", &[]).await.json()["TotalCount"], 6, "nothing refused was stored");
    app.run_pending_jobs().await;
}

#[actix_web::test]
async fn c2_a_name_is_unique_in_the_directory_and_two_contacts_may_share_an_email() {
    let mut app = TestApp::spawn().await;
    app.add_contact("Alice", "shared@example.com").await;
    let same = app.api("AddMessageContact", &contact("alice", "other@example.com")).await;
    assert_eq!(same.json()["Code"], "InvalidParameter.Name.AlreadyUsed");
    app.add_contact("Bob", "shared@example.com").await;
    app.run_pending_jobs().await;
}

#[actix_web::test]
async fn c2_email_title_and_message_types_are_checked() {
    let mut app = TestApp::spawn().await;
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("Name", "tom"), ("Title", "CEO"), ("MessageTypes.1", "ProductMessage")], "MissingParameter.EmailAddress"),
        (vec![("Name", "tom"), ("EmailAddress", "not-an-email"), ("Title", "CEO"), ("MessageTypes.1", "ProductMessage")], "InvalidParameter.EmailAddress"),
        (vec![("Name", "tom"), ("EmailAddress", "t@example.com"), ("Title", "Boss"), ("MessageTypes.1", "ProductMessage")], "InvalidParameter.Title"),
        (vec![("Name", "tom"), ("EmailAddress", "t@example.com"), ("Title", "CEO")], "MissingParameter.MessageTypes"),
        (vec![("Name", "tom"), ("EmailAddress", "t@example.com"), ("Title", "CEO"), ("MessageTypes.1", "Spam")], "InvalidParameter.MessageTypes"),
        (vec![("EmailAddress", "t@example.com"), ("Title", "CEO"), ("MessageTypes.1", "ProductMessage")], "MissingParameter.Name"),
        (
            vec![("Name", "tom"), ("EmailAddress", "t@example.com"), ("Title", "CEO"), ("MessageTypes.1", "ProductMessage"), ("PhoneNumber", "1-2025550123")],
            "InvalidParameter.MobileCountryCode",
        ),
        (
            vec![("Name", "tom"), ("EmailAddress", "t@example.com"), ("Title", "CEO"), ("MessageTypes.1", "ProductMessage"), ("PhoneNumber", "86-123")],
            "InvalidParameter.PhoneNumber",
        ),
    ];
    for (params, code) in cases {
        let resp = app.api("AddMessageContact", &params).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{params:?}");
        assert_eq!(resp.json()["Code"], code, "{params:?}");
    }
    let with_phone = app
        .api(
            "AddMessageContact",
            &[("Name", "tom"), ("EmailAddress", "t@example.com"), ("Title", "CEO"), ("MessageTypes.1", "ProductMessage"), ("PhoneNumber", "86-13900001234")],
        )
        .await;
    let id = with_phone.json()["Contact"]["ContactId"].as_str().unwrap().to_owned();
    assert_eq!(get(&mut app, &id).await["PhoneNumber"], "86-13900001234");
    let sms = app.api("SendPhoneVerificationForMessageContact", &[("ContactId", &id), ("PhoneNumber", "86-13900001234")]).await;
    assert_eq!(sms.json()["Code"], "OperationNotSupported.Sms");
    app.run_pending_jobs().await;
}

// ---------------------------------------------------------------- C3 and C6

#[actix_web::test]
async fn c3_a_new_contact_is_verifying_and_its_link_makes_it_active() {
    let mut app = TestApp::spawn().await;
    let id = app.add_contact("tom", "tom@example.com").await;
    assert_eq!(get(&mut app, &id).await["Status"], "Verifying");
    let pending = app.api("ListMessageContactVerifications", &[("ContactId", &id)]).await.json();
    assert_eq!(pending["ContactVerifications"][0]["Target"], "tom@example.com");
    assert!(app.sent_emails().is_empty(), "the email goes out from a job, not the request");
    app.run_pending_jobs().await;
    let emails = app.sent_emails();
    assert_eq!(emails.len(), 1);
    assert!(emails[0].text.contains("API access key"), "it says who asked");
    assert!(emails[0].text.contains("Security: ") && emails[0].text.contains("Fault: ") && !emails[0].text.contains("Product: "), "what they will receive");
    assert!(emails[0].text.contains("expires on"), "when it expires");
    assert!(emails[0].html.contains("/verify/"));

    let link = app.links_sent_to("tom@example.com").pop().unwrap();
    let (page, done) = app.follow_link(&link).await;
    assert!(page.body.contains("tom@example.com") && page.body.contains("Confirm"));
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("Address confirmed"));
    assert_eq!(get(&mut app, &id).await["Status"], "Active");
    assert_eq!(app.api("ListMessageContactVerifications", &[("ContactId", &id)]).await.json()["TotalCount"], 0);
}

#[actix_web::test]
async fn c6_the_get_of_a_link_changes_nothing_and_the_post_needs_the_form_token() {
    let mut app = TestApp::spawn().await;
    let id = app.add_contact("tom", "tom@example.com").await;
    app.run_pending_jobs().await;
    let link = app.links_sent_to("tom@example.com").pop().unwrap();
    for _ in 0..3 {
        assert_eq!(app.get(&link).await.status, StatusCode::OK, "a mail scanner may open the link");
    }
    assert_eq!(get(&mut app, &id).await["Status"], "Verifying");
    let forged = app.post_raw(&link, &[("csrf_token", "nope")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(get(&mut app, &id).await["Status"], "Verifying");
}

#[actix_web::test]
async fn c6_a_link_is_single_use_and_an_unknown_one_reads_the_same() {
    let mut app = TestApp::spawn().await;
    app.active_contact("tom", "tom@example.com").await;
    let link = app.links_sent_to("tom@example.com").pop().unwrap();
    let used = app.get(&link).await;
    assert_eq!(used.status, StatusCode::NOT_FOUND);
    let unknown = app.get("/verify/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await;
    let garbage = app.get("/verify/%3Cscript%3E").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(garbage.status, StatusCode::NOT_FOUND);
    assert_eq!(used.body, unknown.body, "used and unknown links look the same");
    assert!(used.body.contains("What to do"));
}

#[actix_web::test]
async fn c6_only_a_hash_of_the_token_is_stored() {
    let mut app = TestApp::spawn().await;
    app.add_contact("tom", "tom@example.com").await;
    app.run_pending_jobs().await;
    let link = app.links_sent_to("tom@example.com").pop().unwrap();
    let token = link.trim_start_matches("/verify/").to_owned();
    assert!(token.len() >= 22, "at least 128 bits");
    let stored: Vec<String> = app.with_conn(|c| contact_verifications::table.select(contact_verifications::token_hash).load(c).unwrap()).await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&token));
}

#[actix_web::test]
async fn c3_an_8_day_old_link_is_refused_and_a_freshly_resent_one_accepted() {
    let mut app = TestApp::spawn().await;
    let id = app.add_contact("tom", "tom@example.com").await;
    app.run_pending_jobs().await;
    let old = app.links_sent_to("tom@example.com").pop().unwrap();
    app.with_conn(|c| {
        let eight_days_ago = now_utc() - time::Duration::days(8);
        diesel::update(contact_verifications::table)
            .set((contact_verifications::sent_at.eq(eight_days_ago), contact_verifications::expires_at.eq(eight_days_ago + time::Duration::days(7))))
            .execute(c)
            .unwrap();
    })
    .await;
    let expired = app.get(&old).await;
    assert_eq!(expired.status, StatusCode::GONE);
    assert!(expired.body.contains("This link has expired") && expired.body.contains("send a new verification email"));
    app.sign_in().await;
    assert!(app.get("/contacts").await.body.contains("link expired"));

    let resend = app.post(&format!("/contacts/{id}/resend"), &[]).await;
    assert_eq!(resend.status, StatusCode::SEE_OTHER);
    app.run_pending_jobs().await;
    let fresh = app.links_sent_to("tom@example.com").pop().unwrap();
    assert_ne!(fresh, old);
    assert_eq!(app.get(&old).await.status, StatusCode::GONE, "the old link stays expired");
    let (_, done) = app.follow_link(&fresh).await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(get(&mut app, &id).await["Status"], "Active");
}

// ---------------------------------------------------------------- C4

#[actix_web::test]
async fn c4_the_11th_send_to_one_address_within_a_minute_is_refused_while_another_address_still_gets_its_email() {
    let mut app = TestApp::spawn().await;
    let id = app.add_contact("tom", "tom@example.com").await;
    for i in 2..=10 {
        let resp = app.api("SendEmailVerificationForMessageContact", &[("ContactId", &id), ("EmailAddress", "tom@example.com")]).await;
        assert_eq!(resp.status, StatusCode::OK, "send {i}: {}", resp.body);
    }
    let eleventh = app.api("SendEmailVerificationForMessageContact", &[("ContactId", &id), ("EmailAddress", "TOM@example.com")]).await;
    assert_eq!(eleventh.status, StatusCode::CONFLICT);
    assert_eq!(eleventh.json()["Code"], "SendValidateCodeExceedsLimitForAccount");
    let message = eleventh.json()["Message"].as_str().unwrap().to_owned();
    assert!(message.contains("10 verification emails per minute") && message.contains("Try again after"), "{message}");

    let other = app.add_contact("ann", "ann@example.com").await;
    assert!(!other.is_empty());
    app.run_pending_jobs().await;
    assert_eq!(app.links_sent_to("tom@example.com").len(), 10);
    assert_eq!(app.links_sent_to("ann@example.com").len(), 1);

    app.sign_in().await;
    let console = app.post(&format!("/contacts/{id}/resend"), &[]).await;
    assert_eq!(console.status, StatusCode::CONFLICT);
    assert!(console.body.contains("10 verification emails per minute can go to tom@example.com"));
}

#[actix_web::test]
async fn c4_the_101st_send_of_the_day_is_held_back_but_creating_or_changing_a_contact_still_succeeds() {
    let mut app = TestApp::spawn().await;
    let id = app.add_contact("tom", "tom@example.com").await;
    app.run_pending_jobs().await;
    // 99 more sends in the last 24 hours, as if spread over the day.
    app.with_conn(|c| {
        for i in 0..99 {
            diesel::insert_into(contact_verifications::table)
                .values((
                    contact_verifications::contact_id.eq(None::<String>),
                    contact_verifications::address.eq(format!("past{i}@example.com")),
                    contact_verifications::address_key.eq(format!("past{i}@example.com")),
                    contact_verifications::token_hash.eq(format!("hash{i}")),
                    contact_verifications::requested_by.eq("test"),
                    contact_verifications::sent_at.eq(now_utc() - time::Duration::hours(23) + time::Duration::minutes(i)),
                    contact_verifications::expires_at.eq(now_utc() + time::Duration::days(6)),
                ))
                .execute(c)
                .unwrap();
        }
    })
    .await;
    // Creating a contact does not fail because its email cannot go out now.
    let added = app.api("AddMessageContact", &contact("ann", "ann@example.com")).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let ann = added.json()["Contact"]["ContactId"].as_str().unwrap().to_owned();
    assert_eq!(get(&mut app, &ann).await["Status"], "Verifying");
    // An explicit send is still refused, saying when the next one can go.
    let resend = app.api("SendEmailVerificationForMessageContact", &[("ContactId", &id), ("EmailAddress", "tom@example.com")]).await;
    assert_eq!(resend.json()["Code"], "SendValidateCodeExceedsLimitForAccount");
    assert!(resend.json()["Message"].as_str().unwrap().contains("100 verification emails can be sent per day"));
    // A new address is kept too; its email waits for a later send.
    let update = app.api("UpdateMessageContact", &[("ContactId", &id), ("EmailAddress", "new@example.com"), ("Name", "renamed")]).await;
    assert_eq!(update.status, StatusCode::OK, "{}", update.body);
    let after = get(&mut app, &id).await;
    assert_eq!((after["Name"].as_str(), after["EmailAddress"].as_str()), (Some("renamed"), Some("new@example.com")));
    app.run_pending_jobs().await;
    assert!(app.links_sent_to("ann@example.com").is_empty() && app.links_sent_to("new@example.com").is_empty(), "nothing went over the limit");

    // The console says so, and keeps the contact.
    app.sign_in().await;
    let created =
        app.post("/contacts", &[("name", "carl"), ("email", "carl@example.com"), ("title", "TechnicalDirector"), ("message_types", "SecurityMessage")]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page = app.get(created.location.as_deref().unwrap()).await;
    assert!(page.body.contains("carl is created, but the verification email was not sent"), "{}", page.body);
    assert!(page.body.contains("100 verification emails can be sent per day"));
    assert_eq!(app.api("ListMessageContacts", &[]).await.json()["TotalCount"], 3);
}

// ---------------------------------------------------------------- C5

#[actix_web::test]
async fn c5_an_email_change_keeps_the_deliverable_address_on_the_old_one_until_the_new_one_is_verified() {
    let mut app = TestApp::spawn().await;
    let id = app.active_contact("tom", "old@example.com").await;
    let changed = app.api("UpdateMessageContact", &[("ContactId", &id), ("EmailAddress", "new@example.com")]).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let c = get(&mut app, &id).await;
    assert_eq!(c["Status"], "Active", "still Active while the new address waits");
    assert_eq!(c["EmailAddress"], "old@example.com");
    assert_eq!(deliverable(&app, id.clone()).await.as_deref(), Some("old@example.com"));
    let pending = app.api("ListMessageContactVerifications", &[("ContactId", &id)]).await.json();
    assert_eq!(pending["ContactVerifications"][0]["Target"], "new@example.com");

    app.run_pending_jobs().await;
    let link = app.links_sent_to("new@example.com").pop().expect("the new address gets its own email");
    let (_, done) = app.follow_link(&link).await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(get(&mut app, &id).await["EmailAddress"], "new@example.com");
    assert_eq!(deliverable(&app, id.clone()).await.as_deref(), Some("new@example.com"));
}

#[actix_web::test]
async fn c5_a_pending_email_change_can_be_cancelled_or_replaced() {
    let mut app = TestApp::spawn().await;
    let id = app.active_contact("tom", "old@example.com").await;
    app.api("UpdateMessageContact", &[("ContactId", &id), ("EmailAddress", "first@example.com")]).await;
    app.api("UpdateMessageContact", &[("ContactId", &id), ("EmailAddress", "second@example.com")]).await;
    app.run_pending_jobs().await;
    let first = app.links_sent_to("first@example.com").pop().unwrap();
    assert_eq!(app.get(&first).await.status, StatusCode::NOT_FOUND, "a link for a replaced address fails");

    app.sign_in().await;
    let page = app.get(&format!("/contacts/{id}")).await;
    assert!(page.body.contains("Changing to <strong>second@example.com</strong>"));
    let cancelled = app.post(&format!("/contacts/{id}/cancel-update"), &[]).await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
    let second = app.links_sent_to("second@example.com").pop().unwrap();
    assert_eq!(app.get(&second).await.status, StatusCode::NOT_FOUND, "a cancelled change's link fails");
    let c = get(&mut app, &id).await;
    assert_eq!((c["EmailAddress"].as_str(), c["Status"].as_str()), (Some("old@example.com"), Some("Active")));
    let again = app.api("CancelMessageContactUpdate", &[("ContactId", &id), ("EmailAddress", "second@example.com")]).await;
    assert_eq!(again.json()["Code"], "ContactStatusMismatchAction");
}

#[actix_web::test]
async fn c5_name_title_and_types_change_at_once() {
    let mut app = TestApp::spawn().await;
    let id = app.active_contact("tom", "tom@example.com").await;
    let sent_before = app.sent_emails().len();
    let resp = app.api("UpdateMessageContact", &[("ContactId", &id), ("Name", "Thomas"), ("Title", "CEO"), ("MessageTypes.1", "AccountExpenses")]).await;
    assert_eq!(resp.status, StatusCode::OK);
    let c = get(&mut app, &id).await;
    assert_eq!(c["Name"], "Thomas");
    assert_eq!(c["Title"], "CEO");
    assert_eq!(c["MessageTypes"], serde_json::json!(["AccountExpenses"]));
    assert_eq!(c["Status"], "Active");
    app.run_pending_jobs().await;
    assert_eq!(app.sent_emails().len(), sent_before, "no verification for a change without a new address");
    let missing = app.api("UpdateMessageContact", &[("ContactId", "c-0000000000000000"), ("Name", "x")]).await;
    assert!(missing.status.is_client_error());
}

// ---------------------------------------------------------------- the console

#[actix_web::test]
async fn the_console_panel_creates_a_contact_and_shows_each_message_next_to_its_field() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let bad = app.post("/contacts", &[("name", "x1"), ("email", "nope"), ("title", ""), ("csrf_extra", "")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for message in ["may contain Chinese characters and English letters only", "is not an email address", "Choose a title", "Choose at least one message type"]
    {
        assert!(bad.body.contains(message), "{message}");
    }
    assert!(bad.body.contains(r#"value="x1""#) && bad.body.contains(r#"value="nope""#), "the input is kept");

    let ok = app
        .post(
            "/contacts",
            &[
                ("name", "张三"),
                ("email", "zhang@example.com"),
                ("title", "MaintenanceDirector"),
                ("message_types", "FaultMessage"),
                ("message_types", "SecurityMessage"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let detail_url = ok.location.unwrap();
    let page = app.get(&detail_url).await;
    assert!(page.body.contains("张三") && page.body.contains("Verifying") && page.body.contains("Security, Fault"));
    let list = app.get("/contacts?q=zhang").await;
    assert!(list.body.contains("zhang@example.com"));
    assert!(app.get("/contacts?q=nobody").await.body.contains("No contact matches"));

    let id = capture(&detail_url, r"/contacts/(c-[A-Za-z0-9]{16})");
    let renamed = app
        .post(&format!("/contacts/{id}"), &[("name", "张三丰"), ("email", "zhang@example.com"), ("title", "CEO"), ("message_types", "AccountExpenses")])
        .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER);
    assert!(app.get(&format!("/contacts/{id}")).await.body.contains("张三丰"));
    app.run_pending_jobs().await;
}

#[actix_web::test]
async fn the_panel_comes_alone_for_htmx_and_as_a_page_without_it() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let page = app.get("/contacts/new").await;
    assert!(page.body.contains("<html") && page.body.contains("Create Contact"));
    let token = app.csrf().await;
    let fragment = app
        .send_htmx("/contacts", &[("csrf_token", &token), ("name", "a"), ("email", "a@example.com"), ("title", "CEO"), ("message_types", "ServiceMessage")])
        .await;
    assert_eq!(fragment.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!fragment.body.contains("<html") && fragment.body.contains("The name must be 2 to 12 characters long"));
}

// ---------------------------------------------------------------- naughty strings

/// Every string of the Big List of Naughty Strings, in every text field of the panel
/// and of AddMessageContact/UpdateMessageContact: a clear 4xx, or an exact round trip;
/// never a 500, always escaped on the page.
#[actix_web::test]
async fn every_naughty_string_is_refused_clearly_or_round_trips_exactly() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    app.post("/settings/quotas", &[("contact_quota", "100000")]).await;
    let id = app.active_contact("base", "base@example.com").await;
    let mut accepted = 0;
    for (i, s) in naughty_strings::BLNS.iter().enumerate() {
        let email = format!("n{i}@example.com");
        for field in ["Name", "EmailAddress", "Title", "PhoneNumber"] {
            let mut params = contact(["alpha", "bravo"][i % 2], &email);
            params.retain(|(k, _)| *k != field);
            params.push((field, s));
            let add = app.api("AddMessageContact", &params).await;
            assert!(add.status.is_success() || add.status.is_client_error(), "{field}={s:?}: {}", add.status);
            assert!(add.json()["Code"].is_string() || add.status.is_success(), "{field}={s:?}");
            if add.status.is_success() {
                accepted += 1;
                let new_id = add.json()["Contact"]["ContactId"].as_str().unwrap().to_owned();
                let stored = get(&mut app, &new_id).await;
                // A blank optional field means "not given".
                let expected = if s.trim().is_empty() { None } else { Some(s.trim()) };
                assert_eq!(stored[field].as_str(), expected, "{field} round trip");
                let gone = app.with_conn(move |c| diesel::delete(rd_contacts::db::schema::contacts::table.find(new_id)).execute(c).unwrap()).await;
                assert_eq!(gone, 1);
            }
            let update = app.api("UpdateMessageContact", &[("ContactId", &id), (field, s)]).await;
            assert!(update.status.is_success() || update.status.is_client_error(), "update {field}={s:?}: {}", update.status);
        }
        let panel = app.post("/contacts", &[("name", s), ("email", s), ("title", s), ("message_types", s)]).await;
        assert!(panel.status.is_success() || panel.status.is_client_error() || panel.status.is_redirection(), "panel {s:?}: {}", panel.status);
        if s.contains('<') {
            assert!(!panel.body.contains(s), "{s:?} must be escaped on the page");
        }
        if i % 5 == 0 {
            forget_sends(&app).await;
        }
    }
    assert!(accepted > 0, "some naughty strings are fine names");
    app.run_pending_jobs().await;
}
