//! The console as an administrator meets it: sign-in, forms and their messages.

use actix_web::http::StatusCode;

use crate::support::{TestApp, capture};

#[actix_web::test]
async fn pages_need_a_signed_in_administrator() {
    let mut app = TestApp::spawn().await;
    let resp = app.get("/directory").await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(resp.location.as_deref(), Some("/login?next=%2Fdirectory"));
    let wrong = app.post("/login", &[("username", "admin"), ("password", "not the password")]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("The user name or password is not correct"));
    assert!(wrong.body.contains(r#"value="admin""#), "the user name is kept");
    app.sign_in().await;
    let page = app.get("/directory").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Resource Organization View"));
}

#[actix_web::test]
async fn signing_out_ends_the_session() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let csrf = capture(&app.get("/directory").await.body, r#"name="csrf-token" content="([^"]+)""#);
    let out = app.post_raw("/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/directory").await.status, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn a_form_without_the_csrf_token_changes_nothing() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let page = app.get("/directory").await;
    let root = capture(&page.body, r#"href="/folders/(r-[A-Za-z0-9]{6})""#);
    let resp = app.post_raw(&format!("/folders/{root}/folders"), &[("name", "sneaky")]).await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    let resp = app.post_raw(&format!("/folders/{root}/folders"), &[("name", "sneaky"), ("csrf_token", "forged")]).await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(!app.get(&format!("/folders/{root}")).await.body.contains("sneaky"));
}

#[actix_web::test]
async fn pages_carry_the_security_headers() {
    let mut app = TestApp::spawn().await;
    let resp = app.get("/login").await;
    let csp = resp.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(resp.headers.get("referrer-policy").unwrap(), "same-origin");
    let cookie = app.get("/login").await;
    let _ = cookie;
}

#[actix_web::test]
async fn an_administrator_builds_and_changes_a_tree() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let root = capture(&app.get("/directory").await.body, r#"href="/folders/(r-[A-Za-z0-9]{6})""#);

    let created = app.post(&format!("/folders/{root}/folders"), &[("name", "retail")]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let retail = created.location.unwrap().trim_start_matches("/folders/").to_owned();
    let created = app.post(&format!("/folders/{root}/folders"), &[("name", "finance")]).await;
    let finance = created.location.unwrap().trim_start_matches("/folders/").to_owned();

    let member = app.post(&format!("/folders/{retail}/members"), &[("display_name", "retail prod"), ("security_email", "ops@example.com")]).await;
    assert_eq!(member.status, StatusCode::SEE_OTHER);
    let member_url = member.location.unwrap();
    let page = app.get(&member_url).await;
    assert!(page.body.contains("retail prod") && page.body.contains("ops@example.com"));

    let member_id = member_url.trim_start_matches("/members/").to_owned();
    let moved = app.post(&format!("/members/{member_id}/move"), &[("destination", &finance)]).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    // Listed under its new folder, no longer under the old one (whose History still tells of it).
    let listed = format!("href=\"/members/{member_id}\">retail prod");
    assert!(app.get(&format!("/folders/{finance}")).await.body.contains(&listed));
    assert!(!app.get(&format!("/folders/{retail}")).await.body.contains(&listed));

    let view = app.get(&format!("/directory?folder={finance}")).await;
    assert_eq!(view.status, StatusCode::OK);
    assert!(view.body.contains(&member_id), "the selected folder lists its member");
    assert!(view.body.contains("Root / finance"), "with its path by name");

    let refused = app.post(&format!("/folders/{finance}/delete"), &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("still holds 1 member(s)"));

    let removed = app.post(&format!("/members/{member_id}/remove"), &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(app.get(&member_url).await.body.contains("was removed from the resource directory"));

    let deleted = app.post(&format!("/folders/{finance}/delete"), &[]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/folders/{finance}")).await.status, StatusCode::NOT_FOUND);

    let renamed = app.post(&format!("/folders/{retail}/rename"), &[("name", "retail-eu")]).await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER);
    assert!(app.get("/directory").await.body.contains("retail-eu"));
}

#[actix_web::test]
async fn a_bad_form_comes_back_with_its_message_and_input() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let root = capture(&app.get("/directory").await.body, r#"href="/folders/(r-[A-Za-z0-9]{6})""#);

    let resp = app.post(&format!("/folders/{root}/folders"), &[("name", "<b>x</b>")]).await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp.body.contains("The folder name may contain letters, digits, _ . and - only"));
    assert!(resp.body.contains(r#"value="&#60;b&#62;x&#60;/b&#62;""#), "the input is kept, escaped");
    assert!(!resp.body.contains("<b>x</b>"));

    let resp = app.post(&format!("/folders/{root}/members"), &[("display_name", "x"), ("security_email", "not-an-email")]).await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp.body.contains("The display name must be 2 to 50 characters long"));
    assert!(resp.body.contains("is not an email address"));
    assert!(resp.body.contains(r#"value="not-an-email""#));
}

#[actix_web::test]
async fn unknown_ids_answer_not_found() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    for path in ["/folders/fd-0000000000", "/folders/nonsense", "/members/1234567890123456", "/members/abc", "/directory/tree/fd-0000000000", "/no/such/page"] {
        let resp = app.get(path).await;
        assert_eq!(resp.status, StatusCode::NOT_FOUND, "{path}");
        assert!(resp.body.contains("Not found"), "{path}");
    }
    let resp = app.post("/members/1234567890123456/move", &[("destination", "fd-0000000000")]).await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_get_never_changes_anything() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let root = capture(&app.get("/directory").await.body, r#"href="/folders/(r-[A-Za-z0-9]{6})""#);
    let created = app.post(&format!("/folders/{root}/folders"), &[("name", "keep")]).await;
    let id = created.location.unwrap().trim_start_matches("/folders/").to_owned();
    let resp = app.get(&format!("/folders/{id}/delete")).await;
    assert_ne!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/folders/{id}")).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn the_overview_searches_folders_and_members() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    app.with_conn(|c| rd_contacts::directory::demo::fill(c, 20, 120, &rd_contacts::audit::Actor::cli()).unwrap()).await;
    let resp = app.get("/directory?q=retail").await;
    assert_eq!(resp.status, StatusCode::OK);
    assert!(resp.body.contains("Results for “retail”"));
    assert!(resp.body.contains("retail-"), "members named retail-… are found");
    let none = app.get("/directory?q=zzzznothing").await;
    assert!(none.body.contains("No folder matches.") && none.body.contains("No member matches"));
}

/// PostgreSQL answers the first page of a word that many members share before it has
/// counted them (the first 200 in order and their count are two reads of every match):
/// the page says "more than 200" and asks for itself again, counted, which the
/// page's script swaps in; the next view has the count. SQLite counts as it reads.
#[actix_web::test]
async fn a_common_words_first_page_comes_before_its_count_and_asks_for_it() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let postgres = app
        .with_conn(|c| {
            rd_contacts::directory::demo::fill(c, 20, 3_000, &rd_contacts::audit::Actor::cli()).unwrap();
            rd_contacts::db::is_postgres(c)
        })
        .await;
    let first = app.get("/directory?q=retail").await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.body.matches("retail-").count() >= 20, "the first page of members: {}", first.body);
    let counted_link = if postgres {
        assert!(first.body.contains("Members (more than 200, counting…)"), "{}", first.body);
        assert!(first.body.contains("Page 1 of 11 or more") && first.body.contains(r#"rel="next""#), "{}", first.body);
        capture(&first.body, r#"id="member-results" hx-get="([^"]+)" hx-trigger="load""#).replace("&#38;", "&").replace("&amp;", "&")
    } else {
        "?q=retail&count=wait".to_owned()
    };
    assert!(counted_link.contains("q=retail") && counted_link.ends_with("&count=wait"), "{counted_link}");
    let counted = app.get(&format!("/directory{counted_link}")).await;
    let total = app
        .with_conn(|c| rd_contacts::directory::list_accounts(c, None, Some("retail"), rd_contacts::domain::PageRequest::with_size(None, 20)).unwrap().total)
        .await;
    assert!(total > 200, "{total} members match");
    for (what, page) in [("the page asked for with its count", counted), ("the next view", app.get("/directory?q=retail").await)] {
        assert!(page.body.contains(&format!("Members ({total})")), "{what}: {}", page.body);
        assert!(!page.body.contains("counting") && !page.body.contains("count=wait"), "{what} asks for nothing more: {}", page.body);
        assert!(page.body.contains(&format!("Page 1 of {} ({total})", (total + 19) / 20)), "{what}: {}", page.body);
    }
}

#[actix_web::test]
async fn static_assets_are_linked_with_their_version_and_kept_by_browsers_until_they_change() {
    let mut app = TestApp::spawn().await;
    let page = app.get("/login").await;
    let href = capture(&page.body, r#"href="(/static/app\.css\?v=[0-9a-f]{12})""#);
    let css = app.get(&href).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.headers.get("cache-control").unwrap(), "public, max-age=31536000, immutable");
    app.sign_in().await;
    let signed_in = app.get("/directory").await;
    assert!(signed_in.body.contains(&href), "every page links the same version");
    assert!(signed_in.body.contains("/static/app.js?v="));
}
