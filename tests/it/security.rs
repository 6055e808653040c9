//! Sessions that end (rule T1), throttled sign-in, and passwords that are hard to guess.

use actix_web::http::StatusCode;
use diesel::prelude::*;
use rd_contacts::auth::sessions;
use rd_contacts::db::now_utc;
use rd_contacts::db::schema::sessions as sessions_table;

use crate::support::{TestApp, capture};

const NEW_PASSWORD: &str = "Quartz-harbour-77-lichen";

fn csrf_of(page: &str) -> String {
    capture(page, r#"name="csrf-token" content="([^"]+)""#)
}

async fn root(app: &TestApp) -> String {
    app.with_conn(|c| rd_contacts::directory::get_directory(c).unwrap().root_folder_id).await
}

#[actix_web::test]
async fn t1_signing_in_stores_a_new_csrf_token_with_the_new_session_and_pages_then_write_nothing() {
    let mut app = TestApp::spawn().await;
    let before = capture(&app.get("/login").await.body, r#"name="csrf_token" value="([^"]+)""#);
    app.sign_in().await;
    let signed_in = stored_sessions(&app).await;
    assert_eq!(signed_in.len(), 1, "one session, made at sign-in");
    assert!(signed_in[0].1.contains("csrf"), "its CSRF token is stored with it: {}", signed_in[0].1);
    let after = csrf_of(&app.get("/directory").await.body);
    assert_ne!(before, after, "a token seen before sign-in is not the signed-in one");
    app.get("/contacts").await;
    assert_eq!(stored_sessions(&app).await, signed_in, "opening pages wrote nothing");
}

async fn stored_sessions(app: &TestApp) -> Vec<(String, String)> {
    app.with_conn(|c| sessions_table::table.select((sessions_table::id, sessions_table::state)).load::<(String, String)>(c).unwrap()).await
}

#[actix_web::test]
async fn t1_a_session_cookie_copied_before_sign_out_neither_reads_nor_writes_after_it() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let root = root(&app).await;
    let page = app.get("/directory").await;
    let csrf = csrf_of(&page.body);
    let stolen = app.cookies();
    let out = app.post_raw("/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let mut thief = app.client();
    thief.set_cookies(stolen);
    let read = thief.get("/directory").await;
    assert_eq!(read.status, StatusCode::SEE_OTHER, "reading needs a new sign-in");
    assert!(read.location.unwrap().starts_with("/login"));
    let write = thief.post_raw(&format!("/folders/{root}/folders"), &[("csrf_token", &csrf), ("name", "after-sign-out")]).await;
    assert!(write.status == StatusCode::SEE_OTHER || write.status == StatusCode::FORBIDDEN, "{}", write.status);
    let listed = app.client().api("ListFoldersForParent", &[("ParentFolderId", &root)]).await.json();
    assert_eq!(listed["TotalCount"], 0, "nothing was written: {listed}");
}

#[actix_web::test]
async fn t1_a_password_change_ends_the_users_other_sessions_and_keeps_this_one() {
    let app = TestApp::spawn().await;
    let (mut here, mut elsewhere) = (app.client(), app.client());
    here.sign_in().await;
    elsewhere.sign_in().await;
    let password = app.admin_password.clone();
    let changed = here.post("/password", &[("current", &password), ("new", NEW_PASSWORD), ("again", NEW_PASSWORD)]).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    assert!(here.get(changed.location.as_deref().unwrap()).await.body.contains("Your password is changed"));
    assert_eq!(here.get("/directory").await.status, StatusCode::OK, "the session that changed it goes on");
    assert_eq!(elsewhere.get("/directory").await.status, StatusCode::SEE_OTHER, "every other session ended");
    let mut fresh = app.client();
    let old = fresh.post("/login", &[("username", "admin"), ("password", &password)]).await;
    assert_eq!(old.status, StatusCode::UNPROCESSABLE_ENTITY);
    let new = fresh.post("/login", &[("username", "admin"), ("password", NEW_PASSWORD)]).await;
    assert_eq!(new.status, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn changing_a_password_needs_the_current_one_and_a_strong_new_one() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let password = app.admin_password.clone();
    for (current, new, again, message) in [
        ("not it", NEW_PASSWORD, NEW_PASSWORD, "The current password is not correct"),
        (password.as_str(), "password1234", "password1234", "too easy to guess"),
        (password.as_str(), "short", "short", "at least 12 characters"),
        (password.as_str(), "admin-Quartz-harbour", "admin-Quartz-harbour", "must not contain your user name"),
        (password.as_str(), NEW_PASSWORD, "Quartz-harbour-77-lichem", "not the same"),
    ] {
        let resp = app.post("/password", &[("current", current), ("new", new), ("again", again)]).await;
        assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        assert!(resp.body.contains(message), "{message}: {}", resp.body);
    }
    assert_eq!(app.get("/directory").await.status, StatusCode::OK, "nothing changed, still signed in");
}

#[actix_web::test]
async fn t1_removing_a_member_account_ends_its_member_users_sessions_at_once() {
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    let account = app.api("CreateResourceAccount", &[("DisplayName", "leaver"), ("ParentFolderId", &root)]).await.json()["Account"]["AccountId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.member_user(&account, "leaver@example.com").await;
    assert_eq!(app.get("/my/message-center").await.status, StatusCode::OK);
    let removed = app.client().api("RemoveCloudAccount", &[("AccountId", &account)]).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert_eq!(app.get("/my/message-center").await.status, StatusCode::SEE_OTHER, "signed out at once");
}

#[actix_web::test]
async fn t1_ended_sessions_are_purged_and_live_ones_kept() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let purged = app
        .with_conn(|c| {
            diesel::insert_into(sessions_table::table)
                .values((
                    sessions_table::id.eq("ended"),
                    sessions_table::state.eq("{}"),
                    sessions_table::epoch.eq(0),
                    sessions_table::created_at.eq(now_utc() - time::Duration::days(1)),
                    sessions_table::expires_at.eq(now_utc() - time::Duration::seconds(1)),
                ))
                .execute(c)
                .unwrap();
            sessions::purge_expired(c, now_utc()).unwrap()
        })
        .await;
    assert_eq!(purged, 1);
    assert_eq!(app.get("/directory").await.status, StatusCode::OK, "the live session is kept");
}

#[actix_web::test]
async fn t3_the_database_keeps_only_a_hash_of_each_session_key() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let ids: Vec<String> = app.with_conn(|c| sessions_table::table.select(sessions_table::id).load(c).unwrap()).await;
    assert!(!ids.is_empty());
    for id in ids {
        assert!(id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit()), "{id} is a SHA-256");
        for (_, value) in app.cookies() {
            assert!(!value.contains(&id));
        }
    }
}

#[actix_web::test]
async fn sign_in_is_throttled_per_user_name_with_retry_after_even_for_the_right_password() {
    let mut app = TestApp::spawn().await;
    for i in 0..10 {
        let wrong = app.post("/login", &[("username", "admin"), ("password", &format!("wrong {i}"))]).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "attempt {i}");
    }
    let password = app.admin_password.clone();
    let refused = app.post("/login", &[("username", "admin"), ("password", &password)]).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: i64 = refused.headers.get("retry-after").expect("Retry-After").to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    assert!(refused.body.contains("Too many failed sign-ins"));
    // The window passes.
    app.with_conn(|c| {
        use rd_contacts::db::schema::rate_events as r;
        diesel::update(r::table).set(r::at.eq(now_utc() - time::Duration::minutes(16))).execute(c).unwrap()
    })
    .await;
    assert_eq!(app.post("/login", &[("username", "admin"), ("password", &password)]).await.status, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn sign_in_is_throttled_per_client_address_across_user_names() {
    let mut app = TestApp::spawn().await;
    for i in 0..20 {
        let wrong = app.post("/login", &[("username", &format!("guess{i}")), ("password", "wrong")]).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "attempt {i}");
    }
    let refused = app.post("/login", &[("username", "someone-else"), ("password", "wrong")]).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers.get("retry-after").is_some());
}

/// Every job payload, as stored.
async fn payloads(app: &TestApp) -> Vec<String> {
    app.with_conn(|c| rd_contacts::db::schema::jobs::table.select(rd_contacts::db::schema::jobs::payload).load(c).unwrap()).await
}

#[actix_web::test]
async fn t3_no_raw_link_token_is_stored_in_the_queue_before_or_after_its_email_goes() {
    let mut app = TestApp::spawn().await;
    app.add_contact("sealed", "sealed@example.com").await;
    let root = root(&app).await;
    let account = app.api("CreateResourceAccount", &[("DisplayName", "invitee"), ("ParentFolderId", &root)]).await.json()["Account"]["AccountId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.sign_in().await;
    app.post(&format!("/members/{account}/invite"), &[("email", "invitee@example.com")]).await;
    let queued = payloads(&app).await;
    assert_eq!(queued.len(), 2);
    assert!(queued.iter().all(|p| p.contains("sealed_link") && !p.contains("/verify/") && !p.contains("/invite/")), "{queued:?}");
    app.run_pending_jobs().await;
    let verify = app.links_sent_to("sealed@example.com").pop().expect("the link arrived");
    let token = verify.trim_start_matches("/verify/").to_owned();
    let invite = app.sent_emails().iter().find(|e| e.to == "invitee@example.com").map(|e| e.text.clone()).unwrap();
    let invite_token = capture(&invite, r"/invite/([A-Za-z0-9_-]+)");
    let after = payloads(&app).await;
    assert!(after.iter().all(|p| p == "{}"), "finished payloads are erased: {after:?}");
    assert!(after.iter().all(|p| !p.contains(&token) && !p.contains(&invite_token)));
    // And the link works: it was put in when the email went.
    let (_, done) = app.follow_link(&verify).await;
    assert_eq!(done.status, StatusCode::OK);
}

#[actix_web::test]
async fn signed_in_pages_links_and_api_answers_are_not_stored_and_carry_their_request_id() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    for path in ["/directory", "/contacts", "/outbox", "/verify/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "/login"] {
        let resp = app.get(path).await;
        assert_eq!(resp.headers.get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"), "{path}");
        assert!(resp.headers.get("x-request-id").is_some(), "{path}");
    }
    let api = app.api("GetResourceDirectory", &[]).await;
    assert_eq!(api.headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(api.json()["RequestId"].as_str(), api.headers.get("x-request-id").unwrap().to_str().ok(), "one id for the logs and the caller");
    assert!(app.get("/static/app.css").await.headers.get("cache-control").is_some_and(|v| v != "no-store"), "static files may be cached");
    assert!(api.headers.get("strict-transport-security").is_none(), "no HSTS over plain http");
}

#[actix_web::test]
async fn over_https_the_session_cookie_is_a_host_only_secure_one_and_hsts_is_on() {
    let mut app = TestApp::spawn_with(|s| s.public_url = "https://rdc.test".into()).await;
    let page = app.get("/login").await;
    assert!(page.headers.get("strict-transport-security").is_some());
    let cookie = page.headers.get_all("set-cookie").map(|v| v.to_str().unwrap().to_owned()).find(|c| c.contains("rdc_session")).expect("a session cookie");
    assert!(cookie.starts_with("__Host-rdc_session="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("Path=/") && !cookie.contains("Domain"), "{cookie}");
}

#[actix_web::test]
async fn a_page_number_that_is_not_a_number_gets_a_page_that_says_so() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let resp = app.get("/contacts?page=abc").await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert!(resp.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/html"));
    assert!(resp.body.contains("page number") && !resp.body.contains("invalid digit"), "{}", resp.body);
}

#[actix_web::test]
async fn sign_in_never_sends_anyone_to_another_site() {
    for next in ["//evil.example", "/%09/evil.example", "/%5Cevil.example", "https://evil.example/", "/a%0D%0ALocation:%20https://evil.example"] {
        let mut app = TestApp::spawn().await;
        let form = app.get(&format!("/login?next={next}")).await;
        assert_eq!(form.status, StatusCode::OK, "{next}");
        let password = app.admin_password.clone();
        let signed_in = app.post("/login", &[("username", "admin"), ("password", &password), ("next", &percent_decode(next))]).await;
        assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{next}: {}", signed_in.body);
        assert_eq!(signed_in.location.as_deref(), Some("/directory"), "{next}");
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[actix_web::test]
async fn t4_invitations_and_test_emails_to_one_address_are_limited_to_ten_a_minute() {
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    let account = app.api("CreateResourceAccount", &[("DisplayName", "target"), ("ParentFolderId", &root)]).await.json()["Account"]["AccountId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.sign_in().await;
    for i in 0..10 {
        let sent = app.post(&format!("/members/{account}/invite"), &[("email", "victim@example.com")]).await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "invitation {i}");
    }
    let refused = app.post(&format!("/members/{account}/invite"), &[("email", "Victim@Example.com")]).await;
    assert!(refused.status.is_client_error(), "{}", refused.status);
    assert!(refused.body.contains("At most 10 emails a minute can go to Victim@Example.com"), "{}", refused.body);
    let test = app.post("/outbox/test", &[("to", "victim@example.com")]).await;
    assert!(test.status.is_client_error() && test.body.contains("At most 10 emails a minute"), "test emails count against the same limit: {}", test.status);
    let other = app.post("/outbox/test", &[("to", "someone-else@example.com")]).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER, "another address is not limited");
    app.run_pending_jobs().await;
    assert_eq!(app.sent_emails().iter().filter(|e| e.to.eq_ignore_ascii_case("victim@example.com")).count(), 10);
}

#[actix_web::test]
async fn t4_publish_notification_is_limited_per_access_key_with_throttling_user() {
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    let account = app.api("CreateResourceAccount", &[("DisplayName", "target"), ("ParentFolderId", &root)]).await.json()["Account"]["AccountId"]
        .as_str()
        .unwrap()
        .to_owned();
    let publish = [("MessageType", "FaultMessage"), ("Subject", "Flood"), ("Content", "x"), ("AccountId", account.as_str())];
    for i in 0..20 {
        assert_eq!(app.api("PublishNotification", &publish).await.status, StatusCode::OK, "call {i}");
    }
    let refused = app.api("PublishNotification", &publish).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.json()["Code"], "Throttling.User");
    let count = app.with_conn(|c| rd_contacts::db::schema::notifications::table.count().get_result::<i64>(c).unwrap()).await;
    assert_eq!(count, 20, "the refused call queued nothing");
    // Another key has its own allowance.
    let mut other = app.client();
    other.access_key = None;
    assert_eq!(other.api("PublishNotification", &publish).await.status, StatusCode::OK);
    app.run_pending_jobs().await;
}

#[actix_web::test]
async fn t4_test_notifications_to_one_member_are_limited() {
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    let account = app.api("CreateResourceAccount", &[("DisplayName", "target"), ("ParentFolderId", &root)]).await.json()["Account"]["AccountId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.sign_in().await;
    for i in 0..10 {
        assert_eq!(
            app.post(&format!("/members/{account}/test-notification"), &[("message_type", "FaultMessage")]).await.status,
            StatusCode::SEE_OTHER,
            "test {i}"
        );
    }
    let refused = app.post(&format!("/members/{account}/test-notification"), &[("message_type", "FaultMessage")]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body.contains("Too many notifications"), "{}", refused.body);
    app.run_pending_jobs().await;
}

#[actix_web::test]
async fn publish_notification_names_the_parameter_that_is_wrong() {
    let mut app = TestApp::spawn().await;
    let long = "s".repeat(201);
    let cases: [(&[(&str, &str)], &str); 3] = [
        (&[("MessageType", "FaultMessage"), ("Subject", &long), ("Content", "fine")], "InvalidParameter.Subject"),
        (&[("MessageType", "FaultMessage"), ("Subject", "fine"), ("Content", "nul \0 inside")], "InvalidParameter.Content"),
        (&[("MessageType", "FaultMessage"), ("Subject", "line\nbreak"), ("Content", "fine")], "InvalidParameter.Subject"),
    ];
    for (params, code) in cases {
        let resp = app.api("PublishNotification", params).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{code}");
        assert_eq!(resp.json()["Code"], code);
    }
}

#[actix_web::test]
async fn searches_with_a_nul_byte_or_50000_characters_get_a_clear_answer_not_a_500() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let root = root(&app).await;
    let contact = app.add_contact("searcher", "searcher@example.com").await;
    let long = "r".repeat(50_000);
    for bad in ["a%00b", long.as_str()] {
        for path in [
            format!("/directory?q={bad}"),
            format!("/folders/{root}?q={bad}"),
            format!("/contacts?q={bad}"),
            format!("/contacts/{contact}/bind?q={bad}"),
            format!("/notifications?member={bad}"),
        ] {
            let resp = app.get(&path).await;
            assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{}", &path[..path.len().min(80)]);
            assert!(resp.body.contains("Search for") || resp.body.contains("16 digits"), "{}", &path[..path.len().min(80)]);
        }
        let decoded = percent_encoding::percent_decode_str(bad).decode_utf8_lossy().into_owned();
        for action in ["ListAccounts", "ListFoldersForParent"] {
            let resp = app.api(action, &[("QueryKeyword", &decoded)]).await;
            assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{action}");
            assert_eq!(resp.json()["Code"], "InvalidParameter.QueryKeyword", "{action}");
        }
    }
    assert_eq!(app.get("/directory?q=retail").await.status, StatusCode::OK, "an ordinary search still works");
    // A page as far on as a number goes is the last page, not an overflow.
    assert_eq!(app.get(&format!("/directory?q=retail&page={}", i64::MAX)).await.status, StatusCode::OK, "a search's page {}", i64::MAX);
    app.run_pending_jobs().await;
}
