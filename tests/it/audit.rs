//! The audit trail: one entry per change with its actor and diff (console, API, jobs,
//! emailed links), never a secret, and a hash chain that finds a row changed by hand.

use actix_web::http::StatusCode;
use diesel::prelude::*;
use rd_contacts::audit;
use rd_contacts::db::schema::audit_events;
use rd_contacts::directory::{self, JoinMethod, NewAccount};
use rd_contacts::domain::{DisplayName, FolderId};
use serde_json::Value;

use crate::support::{TestApp, capture};

/// The entries about `target`, oldest first, as the API lists them.
async fn history(app: &mut TestApp, target: &str) -> Vec<Value> {
    let resp = app.api("ListAuditEvents", &[("TargetId", target), ("MaxResults", "100")]).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    let mut events = resp.json()["AuditEvents"].as_array().unwrap().clone();
    events.reverse();
    events
}

fn change<'a>(event: &'a Value, field: &str) -> Option<(&'a Value, &'a Value)> {
    event["Changes"].as_array()?.iter().find(|c| c["Field"] == field).map(|c| (&c["Before"], &c["After"]))
}

async fn member_in_root(app: &TestApp) -> String {
    app.with_conn(|c| {
        let root = directory::get_directory(c).unwrap().root_folder_id;
        let new = NewAccount {
            display_name: DisplayName::parse("Finance").unwrap(),
            folder: FolderId::parse(&root).unwrap(),
            security_email: Some(rd_contacts::domain::EmailAddress::parse("finance@example.com").unwrap()),
            account_name_prefix: None,
            join_method: JoinMethod::Created,
        };
        rd_contacts::membership::create_account(c, &new, &audit::Actor::cli()).unwrap().id
    })
    .await
}

#[actix_web::test]
async fn each_change_leaves_one_entry_with_its_actor_and_diff_through_console_api_link_and_job() {
    let mut app = TestApp::spawn().await;
    let member = member_in_root(&app).await;
    let root = app.with_conn(|c| directory::get_directory(c).unwrap().root_folder_id).await;

    // API: created by the access key, in the request whose RequestId it answered.
    let created = app
        .api(
            "AddMessageContact",
            &[("Name", "tom"), ("EmailAddress", "tom@example.com"), ("Title", "TechnicalDirector"), ("MessageTypes.1", "SecurityMessage")],
        )
        .await;
    let id = created.json()["Contact"]["ContactId"].as_str().unwrap().to_owned();
    let request_id = created.json()["RequestId"].as_str().unwrap().to_owned();
    // The emailed link: verified by whoever holds the address.
    app.run_pending_jobs().await;
    let link = app.links_sent_to("tom@example.com").pop().unwrap();
    assert_eq!(app.follow_link(&link).await.1.status, StatusCode::OK);
    // Console: the administrator changes the title.
    app.sign_in().await;
    let updated =
        app.post(&format!("/contacts/{id}"), &[("name", "tom"), ("email", "tom@example.com"), ("title", "CEO"), ("message_types", "SecurityMessage")]).await;
    assert_eq!(updated.status, StatusCode::SEE_OTHER, "{}", updated.body);
    // API: bound at the root; then deleted without keeping, which a job carries out.
    app.api("AssociateMembers", &[("ContactId", &id), ("Members.1", &root)]).await;
    let deleted = app.api("DeleteMessageContact", &[("ContactId", &id), ("RetainContactInMembers", "False")]).await;
    assert_eq!(deleted.json()["Status"], "Deleting", "{}", deleted.body);
    app.run_pending_jobs().await;

    let events = history(&mut app, &id).await;
    let actions: Vec<&str> = events.iter().map(|e| e["Action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["contact.create", "contact.verify", "contact.update", "binding.add", "contact.delete", "contact.deleted"], "{events:#?}");
    let key = events[0]["Actor"].as_str().unwrap();
    assert!(key.starts_with("LTAI"), "{key}");
    assert_eq!((events[0]["ActorType"].as_str(), events[0]["Via"].as_str()), (Some("access_key"), Some("api")));
    assert_eq!(events[0]["SourceRequestId"], request_id.as_str());
    assert_eq!(change(&events[0], "email").unwrap().1, "tom@example.com");
    assert_eq!((events[1]["ActorType"].as_str(), events[1]["Actor"].as_str()), (Some("email_link"), Some("tom@example.com")));
    assert_eq!(change(&events[1], "status").map(|(b, a)| (b.clone(), a.clone())), Some(("Verifying".into(), "Active".into())));
    assert_eq!((events[2]["ActorType"].as_str(), events[2]["Actor"].as_str(), events[2]["Via"].as_str()), (Some("admin"), Some("admin"), Some("console")));
    assert_eq!(change(&events[2], "title").map(|(b, a)| (b.clone(), a.clone())), Some(("TechnicalDirector".into(), "CEO".into())));
    assert!(change(&events[2], "name").is_none(), "an unchanged field is not listed: {:?}", events[2]);
    assert_eq!(events[3]["RelatedId"], root.as_str());
    assert_eq!(events[4]["Actor"], key);
    assert_eq!((events[5]["ActorType"].as_str(), events[5]["Via"].as_str()), (Some("system"), Some("job")));
    assert!(events[5]["Actor"].as_str().unwrap().starts_with("job "), "{:?}", events[5]);
    // Exactly one entry per change: the member's own history holds its creation only.
    let member_events = history(&mut app, &member).await;
    assert_eq!(member_events.iter().map(|e| e["Action"].as_str().unwrap()).collect::<Vec<_>>(), ["account.create"]);
}

#[actix_web::test]
async fn a_member_users_opt_out_and_a_move_are_recorded_with_their_actor() {
    let mut app = TestApp::spawn().await;
    let member = member_in_root(&app).await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    app.api("AssociateMembers", &[("ContactId", &tom), ("Members.1", &member)]).await;
    app.member_user(&member, "ops@example.com").await;
    let mc = app.get("/my/message-center").await;
    assert_eq!(mc.status, StatusCode::OK);
    let kept = app.post(&format!("/my/message-center/entries/{tom}"), &[("message_types", "FaultMessage")]).await;
    assert!(kept.status.is_redirection() || kept.status.is_success(), "{} {}", kept.status, kept.body);
    let events = history(&mut app, &member).await;
    let opt_out = events.iter().find(|e| e["Action"] == "mc.entry.opt_out").expect("the opt-out is recorded");
    assert_eq!((opt_out["ActorType"].as_str(), opt_out["Actor"].as_str()), (Some("member_user"), Some("ops@example.com")));
    assert_eq!(opt_out["RelatedId"], tom.as_str());
    assert_eq!(change(opt_out, "opted_out").unwrap().1, &serde_json::json!(["SecurityMessage"]));

    let folder = app.api("CreateFolder", &[("FolderName", "Ops")]).await.json()["Folder"]["FolderId"].as_str().unwrap().to_owned();
    app.api("MoveAccount", &[("AccountId", &member), ("DestinationFolderId", &folder)]).await;
    let moved = history(&mut app, &member).await.into_iter().find(|e| e["Action"] == "account.move").expect("the move is recorded");
    assert_eq!(change(&moved, "folder").unwrap().1, folder.as_str());
    // The folder's history shows the member that came in.
    let folder_events = history(&mut app, &folder).await;
    assert_eq!(folder_events.iter().map(|e| e["Action"].as_str().unwrap()).collect::<Vec<_>>(), ["folder.create", "account.move"]);
}

#[actix_web::test]
async fn no_password_secret_or_token_ever_appears_in_an_entry() {
    let mut app = TestApp::spawn().await;
    let member = member_in_root(&app).await;
    // A contact verified by its link (the token is in the path).
    let tom = app.add_contact("tom", "tom@example.com").await;
    app.run_pending_jobs().await;
    let link = app.links_sent_to("tom@example.com").pop().unwrap();
    app.follow_link(&link).await;
    // An access key (its secret), a member user (invitation token, password).
    let secrets = app.state.secrets.clone();
    let key = app
        .with_conn(move |c| rd_contacts::auth::access_keys::create_access_key(c, &secrets, "", rd_contacts::auth::Role::Admin, &audit::Actor::cli()).unwrap())
        .await;
    app.member_user(&member, "ops@example.com").await;
    let invite = app.sent_emails().iter().rev().find(|e| e.to == "ops@example.com").map(|e| capture(&e.text, r"/invite/([A-Za-z0-9_-]+)")).unwrap();
    // Sign-ins that fail: one with a password typed as the user name.
    app.clear_cookies();
    app.post("/login", &[("username", "admin"), ("password", "Wrong-password-123")]).await;
    app.post("/login", &[("username", "Sekret-typed-here-99"), ("password", "x")]).await;
    app.sign_in().await;
    let admin_password = app.admin_password.clone();

    let rows: Vec<(String, String, String, String)> = app
        .with_conn(|c| {
            audit_events::table.select((audit_events::actor_name, audit_events::target_id, audit_events::changes, audit_events::action)).load(c).unwrap()
        })
        .await;
    assert!(rows.iter().any(|r| r.3 == "access_key.create" && r.1 == key.id), "{rows:?}");
    assert!(rows.iter().any(|r| r.3 == "admin.sign_in_failed" && r.0 == "admin"), "{rows:?}");
    assert!(rows.iter().any(|r| r.3 == "admin.sign_in_failed" && r.0 == "(unknown user name)"), "{rows:?}");
    let all = format!("{rows:?}");
    let token = link.rsplit('/').next().unwrap();
    for secret in [key.secret.as_str(), token, invite.as_str(), "Tide-lantern-91-quartz", "Wrong-password-123", "Sekret-typed-here-99", admin_password.as_str()]
    {
        assert!(!all.contains(secret), "{secret} is in the audit trail");
    }
    assert!(all.contains(&tom));
}

#[actix_web::test]
async fn audit_verify_finds_an_entry_changed_or_removed_in_the_database() {
    let mut app = TestApp::spawn().await;
    for name in ["ann", "bob", "cid"] {
        app.add_contact(name, &format!("{name}@example.com")).await;
    }
    app.run_pending_jobs().await;
    let ok = app.with_conn(|c| audit::verify(c).unwrap()).await;
    assert_eq!(ok.broken, None);
    assert!(ok.checked >= 3, "{ok:?}");

    // Someone edits who made the second entry.
    let second: i64 =
        app.with_conn(|c| audit_events::table.select(audit_events::seq.assume_not_null()).order(audit_events::seq.asc()).offset(1).first(c).unwrap()).await;
    let was: String = app
        .with_conn(move |c| {
            let was = audit_events::table.filter(audit_events::seq.eq(second)).select(audit_events::actor_name).first(c).unwrap();
            diesel::update(audit_events::table.filter(audit_events::seq.eq(second))).set(audit_events::actor_name.eq("mallory")).execute(c).unwrap();
            was
        })
        .await;
    let found = app.with_conn(|c| audit::verify(c).unwrap()).await;
    assert_eq!(found.broken.as_ref().map(|b| b.seq), Some(second), "{found:?}");
    assert!(found.broken.unwrap().reason.contains("changed"));

    // Put back, it holds again; removed, the gap is found.
    app.with_conn(move |c| diesel::update(audit_events::table.filter(audit_events::seq.eq(second))).set(audit_events::actor_name.eq(was)).execute(c).unwrap())
        .await;
    assert_eq!(app.with_conn(|c| audit::verify(c).unwrap()).await.broken, None);
    app.with_conn(move |c| diesel::delete(audit_events::table.filter(audit_events::seq.eq(second))).execute(c).unwrap()).await;
    let gap = app.with_conn(|c| audit::verify(c).unwrap()).await.broken.expect("a removed entry is found");
    assert_eq!(gap.seq, second + 1, "{gap:?}");
    // The last entry removed: the head no longer matches.
    let fresh = TestApp::spawn().await;
    fresh.with_conn(|c| audit::record_alone(c, &audit::Actor::cli(), audit::Event::new("test.one", "x")).unwrap()).await;
    fresh.with_conn(|c| audit::record_alone(c, &audit::Actor::cli(), audit::Event::new("test.two", "x")).unwrap()).await;
    let last: i64 = fresh.with_conn(|c| audit_events::table.select(diesel::dsl::max(audit_events::seq)).first::<Option<i64>>(c).unwrap().unwrap()).await;
    fresh.with_conn(move |c| diesel::delete(audit_events::table.filter(audit_events::seq.eq(last))).execute(c).unwrap()).await;
    assert!(fresh.with_conn(|c| audit::verify(c).unwrap()).await.broken.is_some());
}

#[actix_web::test]
async fn the_retention_purge_records_itself_and_the_chain_still_verifies_from_the_first_kept_entry() {
    let app = TestApp::spawn().await;
    for n in ["one", "two", "three"] {
        app.with_conn(move |c| audit::record_alone(c, &audit::Actor::cli(), audit::Event::new("test.entry", n)).unwrap()).await;
    }
    // A retention of -1 days: everything written so far is past it.
    let removed = app.with_conn(|c| audit::purge(c, -1).unwrap()).await;
    assert!(removed >= 3, "{removed}");
    app.with_conn(|c| audit::record_alone(c, &audit::Actor::cli(), audit::Event::new("test.after", "four")).unwrap()).await;
    let left: Vec<String> = app.with_conn(|c| audit_events::table.order(audit_events::seq.asc()).select(audit_events::action).load(c).unwrap()).await;
    assert_eq!(left, ["audit.purge", "test.after"]);
    let v = app.with_conn(|c| audit::verify(c).unwrap()).await;
    assert_eq!((v.broken, v.checked), (None, 2));
    // The first kept entry is still tied to the last purged one: removing it is found.
    let first: i64 = app.with_conn(|c| audit_events::table.select(diesel::dsl::min(audit_events::seq)).first::<Option<i64>>(c).unwrap().unwrap()).await;
    app.with_conn(move |c| diesel::delete(audit_events::table.filter(audit_events::seq.eq(first))).execute(c).unwrap()).await;
    assert!(app.with_conn(|c| audit::verify(c).unwrap()).await.broken.is_some());
}

#[actix_web::test]
async fn the_audit_log_page_filters_pages_and_exports_the_same_rows_as_csv() {
    let mut app = TestApp::spawn().await;
    let tom = app.add_contact("tom", "tom@example.com").await;
    app.add_contact("ann", "ann@example.com").await;
    app.run_pending_jobs().await;
    app.sign_in().await;

    let page = app.get("/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("contact.create") && page.body.contains("admin.sign_in"), "{}", page.body);
    let only_tom = app.get(&format!("/audit?target={tom}")).await;
    assert_eq!(only_tom.body.matches("<tr>").count(), 2, "header and one entry: {}", only_tom.body);
    let by_admin = app.get("/audit?actor=admin&action=admin").await;
    assert!(by_admin.body.contains("<code>admin.sign_in</code>") && !by_admin.body.contains("<code>contact.create</code>"), "{}", by_admin.body);
    let bad = app.get("/audit?from=28%2F11%2F2026").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("YYYY-MM-DD"));
    // The contact's own page shows its history.
    let details = app.get(&format!("/contacts/{tom}")).await;
    assert!(details.body.contains("History") && details.body.contains("contact.create"), "{}", details.body);

    let csv = app.get("/audit.csv?action=contact.create").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert!(lines[0].starts_with("event_id,time_utc,actor_type,actor"), "{}", csv.body);
    assert_eq!(lines.len(), 3, "{}", csv.body);
    let api = app.api("ListAuditEvents", &[("EventAction", "contact.create")]).await.json();
    let ids: Vec<&str> = api["AuditEvents"].as_array().unwrap().iter().map(|e| e["EventId"].as_str().unwrap()).collect();
    let csv_ids: Vec<&str> = lines[1..].iter().map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(ids, csv_ids);
}

#[actix_web::test]
async fn list_audit_events_pages_with_next_token_and_refuses_bad_filters() {
    let mut app = TestApp::spawn().await;
    for n in 0..5 {
        app.with_conn(move |c| audit::record_alone(c, &audit::Actor::cli(), audit::Event::new("test.entry", format!("t{n}"))).unwrap()).await;
    }
    let first = app.api("ListAuditEvents", &[("EventAction", "test"), ("MaxResults", "2")]).await.json();
    let token = first["NextToken"].as_str().expect("more pages").to_owned();
    let second = app.api("ListAuditEvents", &[("EventAction", "test"), ("MaxResults", "2"), ("NextToken", &token)]).await.json();
    let third = app.api("ListAuditEvents", &[("EventAction", "test"), ("MaxResults", "2"), ("NextToken", second["NextToken"].as_str().unwrap())]).await.json();
    let targets: Vec<&str> =
        [&first, &second, &third].iter().flat_map(|p| p["AuditEvents"].as_array().unwrap().iter().map(|e| e["TargetId"].as_str().unwrap())).collect();
    assert_eq!(targets, ["t4", "t3", "t2", "t1", "t0"]);
    assert!(third.get("NextToken").is_none() || third["NextToken"].is_null(), "{third}");
    let bad_time = app.api("ListAuditEvents", &[("StartTime", "yesterday")]).await;
    assert_eq!((bad_time.status, bad_time.json()["Code"].as_str()), (StatusCode::BAD_REQUEST, Some("InvalidParameter.StartTime")));
    let forged = app.api("ListAuditEvents", &[("NextToken", "abc")]).await;
    assert_eq!(forged.json()["Code"], "InvalidParameter.NextToken");
}

#[actix_web::test]
async fn t5_eight_writers_at_once_leave_one_unbroken_chain_in_commit_order() {
    let app = TestApp::spawn().await;
    let before = app.with_conn(|c| audit::verify(c).unwrap()).await.checked;
    let pool = app.state.pool.clone();
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                for i in 0..15 {
                    // Two entries a transaction, with other work between them.
                    rd_contacts::db::transaction(&mut conn, |c| {
                        audit::record(c, &audit::Actor::cli(), audit::Event::new("test.concurrent", format!("w{w}-{i}-a")))?;
                        audit::verify(c)?;
                        audit::record(c, &audit::Actor::cli(), audit::Event::new("test.concurrent", format!("w{w}-{i}-b")))
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let v = app.with_conn(|c| audit::verify(c).unwrap()).await;
    assert_eq!((v.broken, v.checked), (None, before + 8 * 15 * 2));
    // A transaction's entries are numbered together: each "a" is followed by its own "b".
    let targets: Vec<String> = app
        .with_conn(|c| {
            audit_events::table
                .filter(audit_events::action.eq("test.concurrent"))
                .order(audit_events::seq.asc())
                .select(audit_events::target_id)
                .load(c)
                .unwrap()
        })
        .await;
    for pair in targets.chunks(2) {
        assert_eq!(pair[0].trim_end_matches("-a"), pair[1].trim_end_matches("-b"), "{targets:?}");
    }
}
