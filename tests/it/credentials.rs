//! Credentials with a life cycle: viewers change nothing (every console route and API
//! write tried), disabled keys are refused, removing an administrator or a member user
//! ends their sessions, and somebody always stays in charge.

use std::path::Path;

use actix_web::http::StatusCode;
use diesel::prelude::*;
use rd_contacts::audit::Actor;
use rd_contacts::auth::{Role, access_keys, admins};
use rd_contacts::db::schema::{access_keys as keys_table, audit_events};
use rd_contacts::domain::{Password, Username};

use crate::support::TestApp;

const VIEWER_PASSWORD: &str = "Lantern-harbour-77-quill";

async fn add_admin(app: &TestApp, name: &'static str, role: Role) -> i32 {
    app.with_conn(move |c| {
        admins::create_admin(c, &Username::parse(name).unwrap(), &Password::parse(VIEWER_PASSWORD).unwrap(), role, &Actor::cli()).unwrap().id
    })
    .await
}

async fn sign_in_as(app: &mut TestApp, name: &str) -> StatusCode {
    app.post("/login", &[("username", name), ("password", VIEWER_PASSWORD)]).await.status
}

async fn audit_count(app: &TestApp) -> i64 {
    app.with_conn(|c| audit_events::table.count().get_result(c).unwrap()).await
}

/// Every `.route("…", web::post()…)` of the console, read from its source: a route added
/// later is tried without anyone remembering to list it here.
fn console_post_routes() -> Vec<String> {
    let re = regex_lite::Regex::new(r#"\.route\(\s*"([^"]+)",\s*web::post\(\)"#).unwrap();
    let mut routes = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                routes.extend(re.captures_iter(&text).map(|c| c[1].to_owned()));
            }
        }
    }
    routes.sort();
    routes
}

/// Every action the API dispatches, read from its source.
fn api_actions() -> Vec<String> {
    let re = regex_lite::Regex::new(r#""([A-Z][A-Za-z]+)"(?:\s*\|\s*"[A-Z][A-Za-z]+")*\s*=>"#).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut actions: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .flat_map(|e| {
            let text = std::fs::read_to_string(e.path()).unwrap();
            re.captures_iter(&text).map(|c| c[1].to_owned()).collect::<Vec<_>>()
        })
        .collect();
    actions.sort();
    actions.dedup();
    actions
}

#[actix_web::test]
async fn a_viewer_changes_nothing_through_any_console_route() {
    let mut app = TestApp::spawn().await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    add_admin(&app, "vera", Role::Viewer).await;
    assert_eq!(sign_in_as(&mut app, "vera").await, StatusCode::SEE_OTHER);
    let page = app.get(&format!("/contacts/{tom}")).await;
    assert_eq!(page.status, StatusCode::OK, "a viewer reads everything");
    assert!(page.body.contains("read-only access"), "and is told they cannot change it");

    let routes = console_post_routes();
    assert!(routes.len() > 30, "the routes were read from the source: {routes:?}");
    let before = audit_count(&app).await;
    let mut tried = 0;
    for route in &routes {
        // Links' pages belong to whoever holds the link; sign-in, sign-out and one's own
        // password are a viewer's too.
        if ["/login", "/logout", "/password"].contains(&route.as_str())
            || ["/verify/", "/confirm/", "/invite/", "/admin-invite/"].iter().any(|p| route.starts_with(p))
        {
            continue;
        }
        let path = route.replace("{id}", &tom).replace("{contact}", &tom).replace("{user}", "1");
        let path = regex_lite::Regex::new(r"\{[a-z_]+\}").unwrap().replace_all(&path, "1").into_owned();
        let resp = app.post(&path, &[("name", "changed"), ("role", "admin"), ("contact_quota", "5")]).await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN, "POST {path} as a viewer: {}", resp.body);
        assert!(resp.body.contains("viewer"), "{}", resp.body);
        tried += 1;
    }
    assert!(tried > 25, "{tried}");
    assert_eq!(audit_count(&app).await, before, "nothing changed, so nothing was recorded");
    // Their own password and signing out still work.
    assert_eq!(app.get("/password").await.status, StatusCode::OK);
}

#[actix_web::test]
async fn a_read_only_key_calls_get_and_list_only_and_every_write_is_forbidden() {
    let mut app = TestApp::spawn().await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    let secrets = app.state.secrets.clone();
    let key = app.with_conn(move |c| access_keys::create_access_key(c, &secrets, "monitoring", Role::Viewer, &Actor::cli()).unwrap()).await;
    app.access_key = Some((key.id.clone(), key.secret.clone()));

    let listed = app.api("ListMessageContacts", &[]).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(app.api("GetMessageContact", &[("ContactId", &tom)]).await.status, StatusCode::OK);

    let actions = api_actions();
    assert!(actions.len() > 30, "the actions were read from the source: {actions:?}");
    let before = audit_count(&app).await;
    let writes: Vec<&String> = actions.iter().filter(|a| !a.starts_with("Get") && !a.starts_with("List")).collect();
    assert!(writes.iter().any(|a| *a == "DeleteMessageContact") && writes.iter().any(|a| *a == "PublishNotification"), "{writes:?}");
    for action in writes {
        let resp = app.api(action, &[("ContactId", &tom), ("Name", "changed")]).await;
        assert_eq!((resp.status, resp.json()["Code"].as_str()), (StatusCode::FORBIDDEN, Some("Forbidden.ReadOnly")), "{action}: {}", resp.body);
    }
    assert_eq!(audit_count(&app).await, before);
    assert_eq!(app.api("GetMessageContact", &[("ContactId", &tom)]).await.json()["Contact"]["Name"], "tom");
}

#[actix_web::test]
async fn a_disabled_key_is_refused_until_enabled_and_its_last_use_is_kept() {
    let mut app = TestApp::spawn().await;
    let secrets = app.state.secrets.clone();
    let key = app.with_conn(move |c| access_keys::create_access_key(c, &secrets, "ci", Role::Admin, &Actor::cli()).unwrap()).await;
    app.access_key = Some((key.id.clone(), key.secret.clone()));
    assert_eq!(app.api("ListMessageContacts", &[]).await.status, StatusCode::OK);
    let id = key.id.clone();
    let used: Option<time::PrimitiveDateTime> = app.with_conn(move |c| keys_table::table.find(&id).select(keys_table::last_used_at).first(c).unwrap()).await;
    assert!(used.is_some(), "its use is noted");

    app.sign_in().await;
    let disabled = app.post(&format!("/settings/access-keys/{}/disable", key.id), &[]).await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER, "{}", disabled.body);
    let refused = app.api("ListMessageContacts", &[]).await;
    assert_eq!((refused.status, refused.json()["Code"].as_str()), (StatusCode::BAD_REQUEST, Some("InvalidAccessKeyId.Inactive")));
    // Someone without the secret learns nothing about the key's state.
    let forged = app.api_signed("ListMessageContacts", &[], &key.id, "not-the-secret", "n-1", time::OffsetDateTime::now_utc()).await;
    assert_eq!(forged.json()["Code"], "SignatureDoesNotMatch");

    app.post(&format!("/settings/access-keys/{}/enable", key.id), &[]).await;
    assert_eq!(app.api("ListMessageContacts", &[]).await.status, StatusCode::OK);
    let page = app.get("/settings/access-keys").await;
    assert!(page.body.contains(&key.id) && page.body.contains("ci") && !page.body.contains(&key.secret), "the list never shows a secret");
    app.post(&format!("/settings/access-keys/{}/delete", key.id), &[]).await;
    assert_eq!(app.api("ListMessageContacts", &[]).await.json()["Code"], "InvalidAccessKeyId.NotFound");
    let actions: Vec<String> = app
        .with_conn(move |c| {
            audit_events::table.filter(audit_events::target_id.eq(&key.id)).order(audit_events::seq).select(audit_events::action).load(c).unwrap()
        })
        .await;
    assert_eq!(actions, ["access_key.create", "access_key.disable", "access_key.enable", "access_key.delete"]);
}

#[actix_web::test]
async fn a_key_made_in_the_console_shows_its_secret_once_and_works() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let made = app.post("/settings/access-keys", &[("description", "Terraform"), ("role", "viewer")]).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let id = crate::support::capture(&made.body, r"<dt>AccessKeyId</dt><dd><code>(LTAI[A-Za-z0-9]+)</code>");
    let secret = crate::support::capture(&made.body, r"<dt>AccessKeySecret</dt><dd><code>([A-Za-z0-9]+)</code>");
    app.access_key = Some((id.clone(), secret.clone()));
    assert_eq!(app.api("ListMessageContacts", &[]).await.status, StatusCode::OK);
    assert_eq!(app.api("AddMessageContact", &[]).await.json()["Code"], "Forbidden.ReadOnly");
    let again = app.get("/settings/access-keys").await;
    assert!(again.body.contains(&id) && !again.body.contains(&secret));
    let bad = app.post("/settings/access-keys", &[("description", "line\nbreak"), ("role", "viewer")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("200 characters"), "{}", bad.body);
}

#[actix_web::test]
async fn removing_an_administrator_or_changing_their_role_ends_their_sessions_and_one_admin_always_stays() {
    let mut app = TestApp::spawn().await;
    let vera = add_admin(&app, "vera", Role::Admin).await;
    let mut veras = app.client();
    assert_eq!(sign_in_as(&mut veras, "vera").await, StatusCode::SEE_OTHER);
    assert_eq!(veras.get("/directory").await.status, StatusCode::OK);

    app.sign_in().await;
    let demoted = app.post(&format!("/settings/administrators/{vera}/role"), &[("role", "viewer")]).await;
    assert_eq!(demoted.status, StatusCode::SEE_OTHER, "{}", demoted.body);
    assert_eq!(veras.get("/directory").await.status, StatusCode::SEE_OTHER, "the role change signed vera out");
    assert_eq!(sign_in_as(&mut veras, "vera").await, StatusCode::SEE_OTHER);
    assert_eq!(veras.post("/settings/quotas", &[("contact_quota", "7")]).await.status, StatusCode::FORBIDDEN, "the new role holds");

    let removed = app.post(&format!("/settings/administrators/{vera}/remove"), &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(veras.get("/directory").await.status, StatusCode::SEE_OTHER, "removed, signed out at once");
    assert_eq!(sign_in_as(&mut veras, "vera").await, StatusCode::UNPROCESSABLE_ENTITY);

    // The last admin can be neither removed nor made a viewer.
    let me = app.with_conn(|c| admins::find_by_username(c, "admin").unwrap().unwrap().id).await;
    let last = app.post(&format!("/settings/administrators/{me}/remove"), &[]).await;
    assert_eq!(last.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(last.body.contains("last administrator"), "{}", last.body);
    assert_eq!(app.post(&format!("/settings/administrators/{me}/role"), &[("role", "viewer")]).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let who: Vec<(String, String)> = app
        .with_conn(|c| {
            audit_events::table.filter(audit_events::action.like("admin.%")).select((audit_events::action, audit_events::actor_name)).load(c).unwrap()
        })
        .await;
    assert!(who.contains(&("admin.set_role".into(), "admin".into())) && who.contains(&("admin.remove".into(), "admin".into())), "{who:?}");
}

#[actix_web::test]
async fn an_administrator_added_in_the_console_signs_in_and_a_reset_password_ends_their_sessions() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let weak = app.post("/settings/administrators", &[("username", "olga"), ("password", "short"), ("role", "admin")]).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("new-password-error"), "{}", weak.body);
    let added = app.post("/settings/administrators", &[("username", "olga"), ("password", VIEWER_PASSWORD), ("role", "viewer")]).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let taken = app.post("/settings/administrators", &[("username", "olga"), ("password", VIEWER_PASSWORD), ("role", "viewer")]).await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);

    let mut olgas = app.client();
    assert_eq!(sign_in_as(&mut olgas, "olga").await, StatusCode::SEE_OTHER);
    assert_eq!(olgas.get("/settings/administrators").await.status, StatusCode::OK);
    let olga = app.with_conn(|c| admins::find_by_username(c, "olga").unwrap().unwrap().id).await;
    let reset = app
        .post(&format!("/settings/administrators/{olga}/password"), &[("password", "Copper-kettle-58-morning"), ("password_again", "Copper-kettle-58-morning")])
        .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER, "{}", reset.body);
    assert_eq!(olgas.get("/directory").await.status, StatusCode::SEE_OTHER, "signed out by the reset");
    assert_eq!(sign_in_as(&mut olgas, "olga").await, StatusCode::UNPROCESSABLE_ENTITY, "the old password no longer works");
}

#[actix_web::test]
async fn removing_a_member_user_ends_their_sessions_at_once() {
    let mut app = TestApp::spawn().await;
    let root = app.with_conn(|c| rd_contacts::directory::get_directory(c).unwrap().root_folder_id).await;
    let account = app.api("CreateResourceAccount", &[("DisplayName", "ops"), ("ParentFolderId", &root)]).await.json()["Account"]["AccountId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.member_user(&account, "ops@example.com").await;
    assert_eq!(app.get("/my/message-center").await.status, StatusCode::OK);
    let mut admin = app.client();
    admin.clear_cookies();
    admin.sign_in().await;
    let page = admin.get(&format!("/members/{account}")).await;
    let user = crate::support::capture(&page.body, &format!(r#"action="/members/{account}/users/(\d+)/remove""#));
    let removed = admin.post(&format!("/members/{account}/users/{user}/remove"), &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/my/message-center").await.status, StatusCode::SEE_OTHER, "signed out at once");
    let after = admin.get(&format!("/members/{account}")).await.body;
    assert!(!after.contains(&format!("users/{user}/remove")), "no longer listed");
    assert!(after.contains("member_user.remove"), "its History tells of it");
}

#[actix_web::test]
async fn an_administrator_invited_by_email_sets_a_password_through_the_single_use_link() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let taken = app.post("/settings/administrators/invite", &[("username", "admin"), ("email", "boss@example.com"), ("role", "admin")]).await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.body.contains("already exists"), "{}", taken.body);
    let invited = app.post("/settings/administrators/invite", &[("username", "olga"), ("email", "olga@example.com"), ("role", "viewer")]).await;
    assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.body);
    app.run_pending_jobs().await;
    let page = app.get("/settings/administrators").await;
    assert!(page.body.contains("invited at olga@example.com"), "{}", page.body);

    let mut olgas = app.client();
    olgas.clear_cookies();
    // Until the link is used, no password signs in as olga.
    assert_eq!(olgas.post("/login", &[("username", "olga"), ("password", "")]).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let re = regex_lite::Regex::new(r"http://rdc\.test(/admin-invite/[A-Za-z0-9_-]+)").unwrap();
    let link = app
        .sent_emails()
        .iter()
        .rev()
        .find(|e| e.to == "olga@example.com")
        .and_then(|e| re.captures(&e.text).map(|c| c[1].to_owned()))
        .expect("an invitation email");
    let form = olgas.get(&link).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("olga"));
    let token = crate::support::capture(&form.body, r#"name="csrf_token" value="([^"]+)""#);
    let weak = olgas.post_raw(&link, &[("csrf_token", &token), ("password", "olga"), ("password_again", "olga")]).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let done = olgas.post_raw(&link, &[("csrf_token", &token), ("password", VIEWER_PASSWORD), ("password_again", VIEWER_PASSWORD)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(olgas.get("/directory").await.status, StatusCode::OK, "signed in");
    assert_eq!(olgas.post("/settings/quotas", &[("contact_quota", "7")]).await.status, StatusCode::FORBIDDEN, "as the viewer she was invited as");
    assert_eq!(olgas.get(&link).await.status, StatusCode::NOT_FOUND, "the link works once");

    let trail: Vec<(String, String, String)> = app
        .with_conn(|c| {
            audit_events::table
                .filter(audit_events::action.like("admin.%"))
                .order(audit_events::seq)
                .select((audit_events::action, audit_events::actor_kind, audit_events::actor_name))
                .load(c)
                .unwrap()
        })
        .await;
    assert!(trail.contains(&("admin.invite".into(), "admin".into(), "admin".into())), "{trail:?}");
    assert!(trail.contains(&("admin.accept".into(), "email_link".into(), "olga@example.com".into())), "{trail:?}");
}
