//! What the console's pages tell the people who use them: a notice after each action
//! (from the session, never from the address), error pages that keep the way home, lists
//! that stay within their pages, and the state of links, invitations, deletions and
//! tasks as they really are.

use actix_web::http::StatusCode;
use diesel::prelude::*;
use rd_contacts::directory::{self, JoinMethod, NewAccount};
use rd_contacts::domain::{DisplayName, FolderId, FolderName};

use crate::support::{TestApp, capture};

async fn root(app: &TestApp) -> String {
    app.with_conn(|c| directory::get_directory(c).unwrap().root_folder_id).await
}

async fn folder(app: &TestApp, parent: &str, name: &'static str) -> String {
    let parent = FolderId::parse(parent).unwrap();
    app.with_conn(move |c| directory::create_folder(c, &parent, &FolderName::parse(name).unwrap(), &rd_contacts::audit::Actor::cli()).unwrap().id).await
}

async fn members(app: &TestApp, folder: &str, n: usize) -> Vec<String> {
    let folder = FolderId::parse(folder).unwrap();
    app.with_conn(move |c| {
        (0..n)
            .map(|i| {
                let new = NewAccount {
                    display_name: DisplayName::parse(&format!("member {i:02}")).unwrap(),
                    folder: folder.clone(),
                    security_email: None,
                    account_name_prefix: None,
                    join_method: JoinMethod::Created,
                };
                rd_contacts::membership::create_account(c, &new, &rd_contacts::audit::Actor::cli()).unwrap().id
            })
            .collect()
    })
    .await
}

#[actix_web::test]
async fn an_action_says_it_is_done_once_and_an_address_cannot_write_a_notice() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let root = root(&app).await;
    let created = app.post(&format!("/folders/{root}/folders"), &[("name", "ops")]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let location = created.location.unwrap();
    assert!(!location.contains('?'), "the notice is not in the address: {location}");
    let shown = app.get(&location).await;
    assert!(shown.body.contains(r#"class="flash" role="status">The folder ops is created."#), "{}", shown.body);
    assert!(!app.get(&location).await.body.contains("The folder ops is created"), "shown once");
    for forged in ["/contacts?sent=%3Cb%3Eyour+bank%3C%2Fb%3E", "/contacts?deleted=1", "/settings/quotas?saved=1", "/members/1234567890123456?invited=x"] {
        let page = app.get(forged).await;
        assert!(!page.body.contains("your bank") && !page.body.contains(r#"class="flash""#), "{forged} shows no notice");
    }
}

#[actix_web::test]
async fn a_member_user_starts_on_its_message_center_and_every_error_page_leads_home() {
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    let member = members(&app, &root, 1).await.remove(0);
    app.sign_in().await;
    let missing = app.get("/contacts/c-0000000000000000").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains(r#"<nav aria-label="Main">"#), "an administrator's error page keeps the navigation");
    assert!(missing.body.contains(r#"href="/directory" class="button""#), "{}", missing.body);

    app.member_user(&member, "user@example.com").await;
    let home = app.get("/").await;
    assert_eq!((home.status, home.location.as_deref()), (StatusCode::SEE_OTHER, Some("/my/message-center")));
    let refused = app.get("/directory").await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert!(refused.body.contains(r#"href="/my/message-center" class="button""#), "the way back is the member's own page: {}", refused.body);
    assert!(refused.body.contains("Sign out"));

    app.clear_cookies();
    let anonymous = app.get("/").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(anonymous.location.unwrap().starts_with("/login"));
}

#[actix_web::test]
async fn a_page_number_that_is_not_one_answers_a_page_that_says_so_and_one_past_the_end_shows_the_last() {
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    let ops = folder(&app, &root, "ops").await;
    members(&app, &ops, 21).await;
    app.sign_in().await;
    let bad = app.get("/contacts?page=abc").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/html"));
    assert!(bad.body.contains("a page number") && bad.body.contains(r#"<nav aria-label="Main">"#), "{}", bad.body);
    let past = app.get(&format!("/folders/{ops}?page=99")).await;
    assert_eq!(past.status, StatusCode::OK);
    assert!(past.body.contains("Page 2 of 2") && past.body.contains("member 20"), "the last page: {}", past.body);
    let searched = app.get("/directory?q=member&page=1000000000000").await;
    assert!(searched.body.contains("Page 2 of 2"), "{}", searched.body);
}

#[actix_web::test]
async fn the_folder_page_offers_only_contacts_with_room_and_says_why_a_bind_fails_in_the_page() {
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    let mut targets = Vec::new();
    for name in ["f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10"] {
        targets.push(folder(&app, &root, name).await);
    }
    let full = app.active_contact("Full", "full@example.com").await;
    let roomy = app.active_contact("Roomy", "roomy@example.com").await;
    // The API binds at most five targets a call.
    for chunk in targets[..10].chunks(5) {
        let mut params = vec![("ContactId".to_owned(), full.clone())];
        params.extend(chunk.iter().enumerate().map(|(i, t)| (format!("Members.{}", i + 1), t.clone())));
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let resp = app.api("AssociateMembers", &params).await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    }
    app.sign_in().await;
    let page = app.get(&format!("/folders/{}", targets[10])).await;
    assert!(page.body.contains(&format!(r#"<option value="{roomy}">"#)), "{}", page.body);
    assert!(!page.body.contains(&format!(r#"<option value="{full}">"#)), "a contact with 10 targets is not offered");
    let refused = app.post(&format!("/folders/{}/bind", targets[10]), &[("contact", &full)]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Manage folder") && refused.body.contains("at most 10"), "the folder page, with why: {}", refused.body);
}

#[actix_web::test]
async fn a_folder_page_lists_contacts_its_members_keep_without_a_binding() {
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    let ops = folder(&app, &root, "ops").await;
    members(&app, &ops, 1).await;
    let only = app.active_contact("Only", "only@example.com").await;
    app.api("AssociateMembers", &[("ContactId", &only), ("Members.1", &ops)]).await;
    app.api("DisassociateMembers", &[("ContactId", &only), ("Members.1", &ops)]).await;
    app.sign_in().await;
    let page = app.get(&format!("/folders/{ops}")).await;
    assert!(!page.body.contains("No contact is bound here or above"), "{}", page.body);
    assert!(page.body.contains("Kept by members without a binding") && page.body.contains(">Only</a> · 1 member"), "{}", page.body);
}

#[actix_web::test]
async fn a_cancelled_address_change_shows_as_cancelled_in_the_verification_history() {
    let mut app = TestApp::spawn().await;
    let tom = app.active_contact("Tom", "tom@example.com").await;
    app.api("UpdateMessageContact", &[("ContactId", &tom), ("EmailAddress", "tom-new@example.com")]).await;
    app.run_pending_jobs().await;
    app.sign_in().await;
    assert!(app.get(&format!("/contacts/{tom}")).await.body.contains("<td>waiting</td>"));
    let cancelled = app.post(&format!("/contacts/{tom}/cancel-update"), &[]).await;
    let page = app.get(cancelled.location.as_deref().unwrap()).await;
    assert!(page.body.contains("The address change is cancelled; notifications keep going to tom@example.com."), "{}", page.body);
    let history = &page.body[page.body.find("Verification emails").unwrap()..];
    assert!(!history.contains("<td>waiting</td>") && history.contains("cancelled"), "{history}");
}

#[actix_web::test]
async fn an_expired_invitation_says_so_and_can_be_sent_again() {
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    let member = members(&app, &root, 1).await.remove(0);
    app.sign_in().await;
    app.post(&format!("/members/{member}/invite"), &[("email", "late@example.com")]).await;
    app.run_pending_jobs().await;
    let page = app.get(&format!("/members/{member}")).await;
    assert!(page.body.contains("invited, the link works until"), "{}", page.body);
    app.with_conn(|c| {
        use diesel::prelude::*;
        use rd_contacts::db::schema::member_invitations;
        let past = rd_contacts::db::now_utc() - time::Duration::days(8);
        diesel::update(member_invitations::table).set(member_invitations::expires_at.eq(past)).execute(c).unwrap();
    })
    .await;
    let page = app.get(&format!("/members/{member}")).await;
    assert!(page.body.contains("invitation expired") && page.body.contains("Resend invitation"), "{}", page.body);
    let again = app.post(&format!("/members/{member}/invite"), &[("email", "late@example.com")]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    app.run_pending_jobs().await;
    assert!(app.get(&format!("/members/{member}")).await.body.contains("invited, the link works until"));
}

#[actix_web::test]
async fn d3_a_failed_deletion_is_shown_with_its_members_by_name_until_the_contact_is_bound_again() {
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    members(&app, &root, 2).await;
    let only = app.active_contact("only", "only@example.com").await;
    app.api("AssociateMembers", &[("ContactId", &only), ("Members.1", &root)]).await;
    app.api("DeleteMessageContact", &[("ContactId", &only), ("RetainContactInMembers", "false")]).await;
    app.run_pending_jobs().await;
    app.sign_in().await;
    let page = app.get(&format!("/contacts/{only}")).await;
    assert!(page.body.contains("did not finish") && page.body.contains(">member 00</a>") && page.body.contains(">member 01</a>"), "{}", page.body);
    // A retained member's later unbinding is not the deletion's business, and binding again
    // is the administrator's answer to it.
    app.api("AssociateMembers", &[("ContactId", &only), ("Members.1", &root)]).await;
    let page = app.get(&format!("/contacts/{only}")).await;
    assert!(!page.body.contains("did not finish"), "{}", page.body);
    let status = app.api("GetMessageContactDeletionStatus", &[("ContactId", &only)]).await.json();
    assert_eq!(status["ContactDeletionStatus"]["Status"], "Failed", "the API still reports the last deletion");
}

#[actix_web::test]
async fn a_binding_task_shows_its_progress_while_it_runs_and_how_it_ended() {
    let mut app = TestApp::spawn_with(|s| s.jobs.inline_limit = 1).await;
    let root = root(&app).await;
    members(&app, &root, 3).await;
    let tom = app.active_contact("Tom", "tom@example.com").await;
    app.sign_in().await;
    let bound = app.post(&format!("/contacts/{tom}/bind"), &[("target", &root)]).await;
    let page = app.get(bound.location.as_deref().unwrap()).await;
    assert!(page.body.contains("Tom is bound to 1 object. Its members are updated in the background"), "{}", page.body);
    assert!(page.body.contains("Binding in progress: 0 of 3 members") && page.body.contains(r#"hx-trigger="every 2s""#), "{}", page.body);
    app.run_pending_jobs().await;
    let page = app.get(&format!("/contacts/{tom}")).await;
    assert!(page.body.contains("Binding finished at") && page.body.contains("3 members updated"), "{}", page.body);
    assert!(!page.body.contains(r#"hx-trigger="every 2s""#), "the page stops asking");
    let csrf = capture(&page.body, r#"name="csrf-token" content="([^"]+)""#);
    assert!(!csrf.is_empty());
}

#[actix_web::test]
async fn the_contacts_tab_filters_by_status_title_and_message_type_and_counts_what_members_keep() {
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    let ops = folder(&app, &root, "ops").await;
    members(&app, &ops, 1).await;
    let active = app.active_contact("Active", "active@example.com").await;
    let waiting = app
        .api("AddMessageContact", &[("Name", "Waiting"), ("EmailAddress", "waiting@example.com"), ("Title", "CEO"), ("MessageTypes.1", "ProductMessage")])
        .await
        .json()["Contact"]["ContactId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.run_pending_jobs().await;
    app.api("AssociateMembers", &[("ContactId", &active), ("Members.1", &ops)]).await;
    app.api("DisassociateMembers", &[("ContactId", &active), ("Members.1", &ops)]).await;
    app.sign_in().await;
    let shows = |body: &str, id: &str| body.contains(&format!(r#"href="/contacts/{id}""#));
    let by_status = app.get("/contacts?status=Active").await.body;
    assert!(shows(&by_status, &active) && !shows(&by_status, &waiting));
    assert!(by_status.contains("0 objects") && by_status.contains("kept by 1 member"), "{by_status}");
    let by_title = app.get("/contacts?title=CEO").await.body;
    assert!(!shows(&by_title, &active) && shows(&by_title, &waiting));
    let by_type = app.get("/contacts?type=SecurityMessage").await.body;
    assert!(shows(&by_type, &active) && !shows(&by_type, &waiting));
    let none = app.get("/contacts?type=AccountExpenses").await.body;
    assert!(none.contains("No contact matches these filters"));
    let bad = app.get("/contacts?status=Sleeping").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("Choose a status from the list"));
}

#[actix_web::test]
async fn a_new_directory_offers_the_demo_tree_and_loads_it_only_once() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let empty = app.get("/directory").await.body;
    assert!(empty.contains("The directory is empty") && empty.contains(r#"action="/directory/demo""#));
    let loaded = app.post("/directory/demo", &[]).await;
    assert_eq!(loaded.status, StatusCode::SEE_OTHER);
    let page = app.get(loaded.location.as_deref().unwrap()).await.body;
    assert!(page.contains("The demo tree is loaded: 24 folders and 120 members.") && page.contains("data-tree"), "{page}");
    let again = app.post("/directory/demo", &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("only into an empty directory"));
}

#[actix_web::test]
async fn the_tree_opens_down_to_the_selected_folder_and_fetches_other_folders_on_demand() {
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    let ops = folder(&app, &root, "ops").await;
    let db = folder(&app, &ops, "db").await;
    let deep = folder(&app, &db, "deep").await;
    folder(&app, &root, "sales").await;
    members(&app, &db, 2).await;
    app.sign_in().await;
    let page = app.get(&format!("/directory?folder={db}")).await.body;
    assert!(page.contains(&format!(r#"data-folder="{ops}" data-children="/directory/tree/{ops}" data-open"#)), "the way down is open: {page}");
    assert!(page.contains(&format!(r#"href="/directory?folder={deep}""#)), "the selected folder's subfolders show");
    assert!(page.contains("Root / ops / db") && page.contains("member 01"), "its members, with their path");
    let folder_page = app.get(&format!("/folders/{db}")).await.body;
    assert!(folder_page.contains("<td class=\"nowrap\">Root / ops / db</td>"), "the folder page's members too: {folder_page}");
    let fragment = app.get(&format!("/directory/tree/{root}")).await.body;
    assert!(fragment.contains(">ops</a>") && fragment.contains(">sales</a>") && !fragment.contains("<html"));
}

#[actix_web::test]
async fn select_objects_works_without_script_keeps_what_was_ticked_and_opens_folders_by_address() {
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    let ops = folder(&app, &root, "ops").await;
    let db = folder(&app, &ops, "db").await;
    let member = members(&app, &db, 1).await.remove(0);
    let tom = app.active_contact("Tom", "tom@example.com").await;
    app.sign_in().await;
    let panel = app.get(&format!("/contacts/{tom}/bind")).await.body;
    assert!(panel.contains(&format!(r#"value="{ops}" data-pick data-label="ops""#)) && !panel.contains(&format!(r#"value="{db}""#)), "only the first level");
    let opened = app.get(&format!("/contacts/{tom}/bind?open={db}&q=member&target={member}")).await.body;
    assert!(opened.contains(&format!(r#"value="{db}" data-pick"#)), "the way down to the folder asked for is open");
    assert!(opened.contains("Members found for “member”") && opened.contains("Root / ops / db"));
    assert!(opened.contains(&format!(r#"name="target" value="{member}" checked data-selected"#)), "what was ticked is in the Selected list");
    assert!(opened.contains("Selected (<span data-count>1</span>/10)"));
    // The same picker twice (a ticked member shown in the results too) binds it once.
    let bound = app.post(&format!("/contacts/{tom}/bind"), &[("target", &member), ("target", &member)]).await;
    assert_eq!(bound.status, StatusCode::SEE_OTHER, "{}", bound.body);
    let none = app.post(&format!("/contacts/{tom}/bind"), &[("q", "member")]).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.body.contains("Select at least one object") && none.body.contains("Members found for “member”"));
    let results = app.get(&format!("/contacts/{tom}/bind/members?q=member")).await.body;
    assert!(results.contains("checked disabled") && results.contains(">bound</span>"), "a bound member shows as bound: {results}");
    let rows = app.get(&format!("/contacts/{tom}/bind/tree/{ops}")).await.body;
    assert!(rows.contains(&format!(r#"value="{db}""#)) && !rows.contains("<html"));
}

#[actix_web::test]
async fn the_tasks_page_names_each_task_links_what_it_works_on_and_filters() {
    let mut app = TestApp::spawn_with(|s| s.jobs.inline_limit = 1).await;
    let root = root(&app).await;
    members(&app, &root, 2).await;
    let tom = app.active_contact("Tom", "tom@example.com").await;
    app.api("AssociateMembers", &[("ContactId", &tom), ("Members.1", &root)]).await;
    app.run_pending_jobs().await;
    app.sign_in().await;
    let page = app.get("/jobs").await.body;
    assert!(page.contains("Binding a contact to members") && page.contains(&format!(r#"<a href="/contacts/{tom}">Tom</a>"#)), "{page}");
    assert!(page.contains("Sending an email") && !page.contains(">bind_members<"), "labels, never stored names");
    let bindings_only = app.get("/jobs?kind=bind_members&status=done").await.body;
    assert!(bindings_only.contains("Binding a contact to members") && !bindings_only.contains("<td>Sending an email</td>"));
    assert_eq!(app.get("/jobs?status=sleeping").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/jobs?kind=nothing").await.status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn b3_an_imported_tree_reuses_folders_and_its_members_get_their_contacts_and_a_bad_line_adds_nothing() {
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    let ops = folder(&app, &root, "ops").await;
    let tom = app.active_contact("Tom", "tom@example.com").await;
    app.api("AssociateMembers", &[("ContactId", &tom), ("Members.1", &ops)]).await;
    app.sign_in().await;
    let refused = app.post("/directory/import", &[("tree", "ops/db\nops/db, Bad name!, x@example.com\nsales\nsales, Fine, not-mail")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Nothing was imported") && refused.body.contains("Line 2: ") && refused.body.contains("Line 4: "), "{}", refused.body);
    assert!(refused.body.contains("ops/db, Bad name!"), "what was pasted stays");
    let too_deep = app.post("/directory/import", &[("tree", "sales\nOPS/a/b/c/d/e, Deep member")]).await;
    assert!(too_deep.body.contains("Line 2: Folders nest at most 5 levels"), "{}", too_deep.body);
    assert_eq!(app.get("/directory?q=sales").await.body.matches(">sales</a>").count(), 0, "the refused import added nothing");

    let imported = app.post("/directory/import", &[("tree", "OPS/db\nops/db, Payments prod, pay@example.com\n, Lone member\nsales")]).await;
    assert_eq!(imported.status, StatusCode::SEE_OTHER, "{}", imported.body);
    let page = app.get(imported.location.as_deref().unwrap()).await.body;
    assert!(page.contains("Imported 2 folders and 2 members."), "ops is reused, db and sales are new: {page}");
    let found = app.api("ListAccounts", &[("QueryKeyword", "Payments")]).await.json();
    let id = found["Accounts"]["Account"][0]["AccountId"].as_str().expect("the member exists").to_owned();
    let member = app.get(&format!("/members/{id}")).await.body;
    assert!(
        member.contains(&format!(r#"<a href="/contacts/{tom}">Tom</a></td><td>inherited from ops"#)),
        "B3: the bound folder's contact reaches it: {member}"
    );
    let below = app.api("ListFoldersForParent", &[("ParentFolderId", &ops)]).await.json();
    let db = below["Folders"]["Folder"][0]["FolderId"].as_str().expect("ops/db exists").to_owned();
    let folder = app.get(&format!("/folders/{db}")).await.body;
    assert!(
        folder.contains(&format!(r#"<a href="/contacts/{tom}">Tom</a> · "#)) && folder.contains(&format!(r#"from <a href="/folders/{ops}">ops</a>"#)),
        "the folder page names the folder its contact is inherited from: {folder}"
    );
}

#[actix_web::test]
async fn tags_are_set_and_removed_on_member_and_folder_pages_and_filter_the_organization_view() {
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    let ops = folder(&app, &root, "ops").await;
    let paid = app.api("CreateResourceAccount", &[("DisplayName", "Paid member"), ("ParentFolderId", &ops)]).await.json();
    let paid = paid["Account"]["AccountId"].as_str().unwrap().to_owned();
    app.api("CreateResourceAccount", &[("DisplayName", "Free member"), ("ParentFolderId", &ops)]).await;
    app.sign_in().await;

    let refused = app.post(&format!("/members/{paid}/tags"), &[("key", "acs:cost"), ("value", "x")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("reserved") && refused.body.contains(r#"value="acs:cost""#), "the message, with what was typed");
    let set = app.post(&format!("/members/{paid}/tags"), &[("key", "plan"), ("value", "gold")]).await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    let page = app.get(&format!("/members/{paid}")).await.body;
    assert!(page.contains("The tag plan: gold is set.") && page.contains("/directory?tag=plan%3Dgold"), "{page}");
    app.post(&format!("/folders/{ops}/tags"), &[("key", "team"), ("value", "")]).await;
    assert!(app.get(&format!("/folders/{ops}")).await.body.contains(">team</a>"));

    // The Organization View filters members and folders by tag.
    let tagged = app.get("/directory?tag=plan%3Dgold").await.body;
    assert!(tagged.contains("Tagged plan=gold") && tagged.contains("Paid member") && !tagged.contains("Free member"), "{tagged}");
    let folders = app.get("/directory?tag=team").await.body;
    assert!(folders.contains("Folders (1)") && folders.contains(">ops</a>"), "{folders}");
    assert_eq!(app.get("/directory?tag=aliyun").await.status, StatusCode::BAD_REQUEST);

    let removed = app.post(&format!("/members/{paid}/tags/remove"), &[("key", "plan")]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(app.get(&format!("/members/{paid}")).await.body.contains("The tag plan is removed."));
    let api = app.api("ListTagResources", &[("ResourceType", "Account"), ("ResourceId.1", &paid)]).await.json();
    assert_eq!(api["TagResources"], serde_json::json!([]), "the API sees the same tags");
}

#[actix_web::test]
async fn a_page_view_without_a_notice_leaves_the_stored_session_as_it_was() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    app.get("/directory").await;
    // Mark the stored state (same meaning, different text): a write-back would replace it.
    app.with_conn(|c| {
        diesel::sql_query("UPDATE sessions SET state = ' ' || state").execute(c).unwrap();
    })
    .await;
    assert_eq!(app.get("/directory").await.status, StatusCode::OK);
    assert_eq!(app.get("/contacts").await.status, StatusCode::OK);
    let untouched: i64 = app
        .with_conn(|c| {
            use diesel::dsl::count_star;
            rd_contacts::db::schema::sessions::table
                .filter(diesel::dsl::sql::<diesel::sql_types::Bool>("state LIKE ' %'"))
                .select(count_star())
                .first(c)
                .unwrap()
        })
        .await;
    assert_eq!(untouched, 1, "reading pages writes nothing to the session store");
    // A notice is still shown once.
    app.post("/settings/quotas", &[("contact_quota", "25")]).await;
    assert!(app.get("/settings/quotas").await.body.contains("Saved: at most 25 contacts."));
    assert!(!app.get("/settings/quotas").await.body.contains("Saved: at most 25 contacts."));
}

/// A large directory's member page does not list every folder to move to: it offers the
/// top level and a search that reaches any folder, and keeps the member's own folder.
#[actix_web::test]
async fn moving_a_member_in_a_large_directory_searches_for_the_destination() {
    use rd_contacts::db::schema::{accounts, folders};
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let (member, own_folder, deep_name, deep_id, total) = app
        .with_conn(|c| {
            directory::demo::fill(c, 400, 50, &rd_contacts::audit::Actor::cli()).unwrap();
            let (member, own): (String, String) =
                accounts::table.inner_join(folders::table).filter(folders::depth.ge(3)).select((accounts::id, folders::id)).first(c).unwrap();
            let (deep_name, deep_id): (String, String) = folders::table.filter(folders::depth.eq(4)).select((folders::name, folders::id)).first(c).unwrap();
            let total: i64 = folders::table.count().get_result(c).unwrap();
            (member, own, deep_name, deep_id, total)
        })
        .await;
    let page = app.get(&format!("/members/{member}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let listed = page.body.matches("<option value=\"fd-").count() + page.body.matches("<option value=\"r-").count();
    assert!(listed < total as usize / 2, "{listed} of {total} folders listed");
    assert!(page.body.contains("name=\"move_q\""), "a search for the destination is offered");
    assert!(page.body.contains(&format!("<option value=\"{own_folder}\" selected")), "the member's own folder stays chosen");
    let found = app.get(&format!("/members/{member}?move_q={deep_id}")).await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(found.body.contains(&format!("<option value=\"{deep_id}\"")), "a folder four levels down ({deep_name}) is found");
    let moved = app.post(&format!("/members/{member}/move"), &[("destination", &deep_id)]).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn tags_recipients_tasks_and_deliveries_kept_between_views_show_every_change_at_once_even_in_plain_sql() {
    // Pages keep what they read of every other table (history, tags, Message Centers,
    // tasks) under the read version: any change to those tables moves it on, from the
    // service or in plain SQL, and shows on the next view. Deliveries move a number of
    // their own, which the Notifications page keeps its reads under.
    use rd_contacts::db::schema::{deliveries, delivery_counts, jobs, mc_recipients, tags};
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    let member = members(&app, &root, 1).await.remove(0);
    app.sign_in().await;
    let page = format!("/members/{member}");
    for _ in 0..2 {
        let view = app.get(&page).await;
        assert!(view.status == StatusCode::OK && !view.body.contains("costcentre") && !view.body.contains("oncall@example.com"), "{}", view.body);
    }
    let id = member.clone();
    app.with_conn(move |c| {
        let now = rd_contacts::db::now_utc();
        diesel::insert_into(tags::table)
            .values((
                tags::resource_type.eq("Account"),
                tags::resource_id.eq(&id),
                tags::tag_key.eq("costcentre"),
                tags::tag_value.eq("cc-42"),
                tags::created_at.eq(now),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
    assert!(app.get(&page).await.body.contains("costcentre"), "a tag added in plain SQL shows at once");
    let id = member.clone();
    app.with_conn(move |c| {
        let now = rd_contacts::db::now_utc();
        diesel::insert_into(mc_recipients::table)
            .values((
                mc_recipients::account_id.eq(&id),
                mc_recipients::name.eq("On call"),
                mc_recipients::email.eq("oncall@example.com"),
                mc_recipients::message_types.eq(rd_contacts::domain::MessageType::SecurityMessage.bit()),
                mc_recipients::created_at.eq(now),
                mc_recipients::modified_at.eq(now),
                mc_recipients::verified_at.eq(Some(now)),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
    assert!(app.get(&page).await.body.contains("oncall@example.com"), "an own recipient added in plain SQL shows at once");

    // The Notifications page: a delivery's outcome changed in plain SQL.
    let published = app.post(&format!("/members/{member}/test-notification"), &[("message_type", "SecurityMessage")]).await;
    assert_eq!(published.status, StatusCode::SEE_OTHER, "{}", published.body);
    app.run_pending_jobs().await;
    for _ in 0..2 {
        let log = app.get("/notifications").await;
        assert!(log.body.contains("Sent") || log.body.contains("sent"), "{}", log.body);
    }
    app.with_conn(|c| diesel::update(deliveries::table).set(deliveries::last_error.eq("550 mailbox on fire")).execute(c).unwrap()).await;
    assert!(app.get("/notifications").await.body.contains("550 mailbox on fire"), "a delivery changed in plain SQL shows at once");
    app.with_conn(|c| diesel::update(delivery_counts::table).set(delivery_counts::failed.eq(7)).execute(c).unwrap()).await;
    let log = app.get("/notifications").await;
    assert!(log.body.contains("550 mailbox on fire") && log.body.contains("7 failed</a>"), "counts changed in plain SQL show at once");

    // The Tasks page: every task deleted in plain SQL.
    let tasks = app.get("/jobs").await;
    assert!(!tasks.body.contains("No tasks"), "{}", tasks.body);
    app.with_conn(|c| diesel::delete(jobs::table).execute(c).unwrap()).await;
    let tasks = app.get("/jobs").await;
    assert!(!tasks.body.contains("/notifications?notification="), "tasks deleted in plain SQL are gone at once: {}", tasks.body);
}

#[actix_web::test]
async fn a_page_kept_whole_between_views_shows_a_change_made_in_plain_sql_on_its_next_view() {
    // The Organization View, a folder's, a member's and a contact's page and the Contacts
    // tab keep what they read whole under the read version, and answer a view from it
    // without a database thread: a change committed elsewhere (another server, plain SQL)
    // still shows on the very next view.
    use rd_contacts::db::schema::{accounts, contacts, folders};
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    let shop = folder(&app, &root, "Retail").await;
    let member = members(&app, &shop, 1).await.remove(0);
    let tom = app.active_contact("Tom", "tom@example.com").await;
    app.sign_in().await;
    let pages =
        [format!("/directory?folder={shop}"), format!("/folders/{shop}"), format!("/members/{member}"), "/contacts".to_owned(), format!("/contacts/{tom}")];
    for page in &pages {
        for _ in 0..2 {
            let view = app.get(page).await;
            assert_eq!(view.status, StatusCode::OK, "{page}: {}", view.body);
            assert!(!view.body.contains("Wholesale") && !view.body.contains("Renamed member") && !view.body.contains("Thomas"), "{page}");
        }
    }
    let (f, m, t) = (shop.clone(), member.clone(), tom.clone());
    app.with_conn(move |c| {
        diesel::update(folders::table.find(&f)).set(folders::name.eq("Wholesale")).execute(c).unwrap();
        diesel::update(accounts::table.find(&m)).set(accounts::display_name.eq("Renamed member")).execute(c).unwrap();
        diesel::update(contacts::table.find(&t)).set(contacts::name.eq("Thomas")).execute(c).unwrap();
    })
    .await;
    let shows = |body: &str, words: &[&str]| words.iter().all(|w| body.contains(w));
    assert!(shows(&app.get(&pages[0]).await.body, &["Wholesale", "Renamed member"]), "the Organization View");
    assert!(shows(&app.get(&pages[1]).await.body, &["Wholesale", "Renamed member"]), "the folder's page");
    assert!(shows(&app.get(&pages[2]).await.body, &["Wholesale", "Renamed member"]), "the member's page");
    assert!(shows(&app.get(&pages[3]).await.body, &["Thomas"]), "the Contacts tab");
    assert!(shows(&app.get(&pages[4]).await.body, &["Thomas"]), "the contact's page");
}

#[actix_web::test]
async fn a_change_moves_the_read_version_on_as_it_commits_once_and_sending_moves_only_a_number_of_its_own() {
    // A value kept under the read version is never older than it: the number moves on
    // with the change's commit, never before it (another connection still sees the old
    // number while the transaction runs), and once a transaction only. Deliveries, which
    // sending writes hundreds of times a second, do not move it (each commit that does
    // holds the version's row until it is flushed), but a number of their own.
    use rd_contacts::db::schema::{deliveries, delivery_counts, tags};
    let mut app = TestApp::spawn().await;
    let root = root(&app).await;
    let member = members(&app, &root, 1).await.remove(0);
    app.sign_in().await;
    let published = app.post(&format!("/members/{member}/test-notification"), &[("message_type", "SecurityMessage")]).await;
    assert_eq!(published.status, StatusCode::SEE_OTHER, "{}", published.body);
    app.run_pending_jobs().await;
    let pool = app.state.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut writer = pool.get().unwrap();
        let mut reader = pool.get().unwrap();
        #[derive(diesel::QueryableByName)]
        struct Number {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let number = |c: &mut rd_contacts::db::AnyConnection, sql: &str| diesel::sql_query(sql).get_result::<Number>(c).unwrap().n;
        let activity = |c: &mut rd_contacts::db::AnyConnection| number(c, "SELECT activity_version AS n FROM search_version WHERE id = 1");
        let before = activity(&mut reader);
        let tag = |key: &str| {
            let now = rd_contacts::db::now_utc();
            (
                tags::resource_type.eq("Folder"),
                tags::resource_id.eq(root.clone()),
                tags::tag_key.eq(key.to_owned()),
                tags::tag_value.eq("x"),
                tags::created_at.eq(now),
            )
        };
        let seen_inside = rd_contacts::db::transaction(&mut writer, |c| {
            diesel::insert_into(tags::table).values(tag("a")).execute(c)?;
            diesel::insert_into(tags::table).values(tag("b")).execute(c)?;
            diesel::delete(tags::table.filter(tags::tag_key.eq("a"))).execute(c)?;
            Ok::<_, diesel::result::Error>(activity(&mut reader))
        })
        .unwrap();
        assert_eq!(seen_inside, before, "not moved on before the commit");
        let after = activity(&mut reader);
        assert!(after > before, "moved on by the commit");
        if rd_contacts::db::is_postgres(&writer) {
            assert_eq!(after, before + 1, "once for the whole transaction");
        }
        diesel::update(deliveries::table).set(deliveries::last_error.eq("sent twice")).execute(&mut **writer).unwrap();
        diesel::update(delivery_counts::table).set(delivery_counts::sent.eq(0)).execute(&mut **writer).unwrap();
        assert_eq!(activity(&mut reader), after, "deliveries leave it as it was");

        // Deliveries move their own number on (migration 000029): the sum of their marks,
        // read only by the Notifications page, again at the commit and once a transaction.
        let marks = |c: &mut rd_contacts::db::AnyConnection| number(c, "SELECT CAST(COALESCE(SUM(marks), 0) AS BIGINT) AS n FROM delivery_marks");
        let before = marks(&mut reader);
        let seen_inside = rd_contacts::db::transaction(&mut writer, |c| {
            diesel::update(deliveries::table).set(deliveries::last_error.eq("sent three times")).execute(c)?;
            diesel::update(delivery_counts::table).set(delivery_counts::sent.eq(1)).execute(c)?;
            Ok::<_, diesel::result::Error>(marks(&mut reader))
        })
        .unwrap();
        assert_eq!(seen_inside, before, "the deliveries' number is not moved on before the commit");
        let after = marks(&mut reader);
        assert!(after > before, "the deliveries' number is moved on by the commit");
        if rd_contacts::db::is_postgres(&writer) {
            assert_eq!(after, before + 1, "once for the whole transaction");
        }
    })
    .await
    .unwrap();
}

#[actix_web::test]
async fn a_finished_task_leaves_its_contacts_page_ten_minutes_on_even_while_nothing_is_written() {
    // The contact's page keeps its tasks under the read version; which finished ones it
    // still shows depends on the time, not on a write.
    use rd_contacts::db::schema::jobs;
    let mut app = TestApp::spawn_with(|s| s.jobs.inline_limit = 1).await;
    let root = root(&app).await;
    members(&app, &root, 2).await;
    let tom = app.active_contact("Tom", "tom@example.com").await;
    app.sign_in().await;
    app.post(&format!("/contacts/{tom}/bind"), &[("target", &root)]).await;
    app.run_pending_jobs().await;
    app.with_conn(|c| {
        let almost = rd_contacts::db::now_utc() - rd_contacts::contacts::scope::FINISHED_TASKS_SHOWN + time::Duration::seconds(2);
        diesel::update(jobs::table.filter(jobs::finished_at.is_not_null())).set(jobs::finished_at.eq(Some(almost))).execute(c).unwrap()
    })
    .await;
    let page = format!("/contacts/{tom}");
    assert!(app.get(&page).await.body.contains("Binding finished at"), "shown for ten minutes");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let later = app.get(&page).await;
    assert!(!later.body.contains("Binding finished at") && later.body.contains("Tom"), "gone once the ten minutes are up: {}", later.body);
}
