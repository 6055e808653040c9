//! Binding and unbinding contacts: rules B1–B6 and U1–U3.

use actix_web::http::StatusCode;
use rd_contacts::db::AnyConnection;
use rd_contacts::directory::{self, JoinMethod, NewAccount};
use rd_contacts::domain::{AccountId, DisplayName, EmailAddress, FolderId, FolderName, MessageType};
use rd_contacts::message_center;

use crate::support::TestApp;

struct Tree {
    root: String,
    a: String,
    b: String,
}

fn folder(c: &mut AnyConnection, parent: &str, name: &str) -> String {
    directory::create_folder(c, &FolderId::parse(parent).unwrap(), &FolderName::parse(name).unwrap(), &rd_contacts::audit::Actor::cli()).unwrap().id
}

fn member_in(c: &mut AnyConnection, folder: &str, name: &str, email: Option<&str>) -> String {
    let new = NewAccount {
        display_name: DisplayName::parse(name).unwrap(),
        folder: FolderId::parse(folder).unwrap(),
        security_email: email.map(|e| EmailAddress::parse(e).unwrap()),
        account_name_prefix: None,
        join_method: JoinMethod::Created,
    };
    rd_contacts::membership::create_account(c, &new, &rd_contacts::audit::Actor::cli()).unwrap().id
}

async fn tree(app: &TestApp) -> Tree {
    app.with_conn(|c| {
        let root = directory::get_directory(c).unwrap().root_folder_id;
        let a = folder(c, &root, "a");
        let b = folder(c, &root, "b");
        Tree { root, a, b }
    })
    .await
}

async fn member(app: &TestApp, folder: &str, name: &'static str, email: Option<&'static str>) -> String {
    let f = folder.to_owned();
    app.with_conn(move |c| member_in(c, &f, name, email)).await
}

async fn contacts_of(app: &TestApp, account: &str) -> Vec<String> {
    let a = account.to_owned();
    let mut ids: Vec<String> =
        app.with_conn(move |c| rd_contacts::contacts::scope::member_contacts(c, &a, None, false).unwrap().into_iter().map(|m| m.contact.id).collect()).await;
    ids.sort();
    ids
}

async fn bind(app: &mut TestApp, contact: &str, targets: &[&str]) -> crate::support::Response {
    let keys: Vec<String> = (1..=targets.len()).map(|i| format!("Members.{i}")).collect();
    let mut params = vec![("ContactId", contact)];
    params.extend(keys.iter().map(String::as_str).zip(targets.iter().copied()));
    app.api("AssociateMembers", &params).await
}

async fn unbind(app: &mut TestApp, contact: &str, targets: &[&str]) -> crate::support::Response {
    let keys: Vec<String> = (1..=targets.len()).map(|i| format!("Members.{i}")).collect();
    let mut params = vec![("ContactId", contact)];
    params.extend(keys.iter().map(String::as_str).zip(targets.iter().copied()));
    app.api("DisassociateMembers", &params).await
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[actix_web::test]
async fn b1_only_an_active_contact_can_be_bound() {
    let mut app = TestApp::spawn().await;
    let t = tree(&app).await;
    let verifying = app.add_contact("tom", "tom@example.com").await;
    let resp = bind(&mut app, &verifying, &[&t.root]).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert_eq!(resp.json()["Code"], "ContactStatusMismatchAction");
    app.run_pending_jobs().await;
}

#[actix_web::test]
async fn b1_the_root_covers_everyone_a_folder_its_subtree_and_a_member_itself() {
    let mut app = TestApp::spawn().await;
    let t = tree(&app).await;
    let a1 = member(&app, &t.a, "in a", None).await;
    let b1 = member(&app, &t.b, "in b", None).await;
    let top = member(&app, &t.root, "at root", None).await;
    let everyone = app.active_contact("Everyone", "all@example.com").await;
    let folder_a = app.active_contact("FolderA", "a@example.com").await;
    let just_b = app.active_contact("JustB", "b@example.com").await;
    let rd = app.api("GetResourceDirectory", &[]).await.json()["ResourceDirectory"]["ResourceDirectoryId"].as_str().unwrap().to_owned();
    assert_eq!(bind(&mut app, &everyone, &[&rd]).await.status, StatusCode::OK);
    assert_eq!(bind(&mut app, &folder_a, &[&t.a]).await.status, StatusCode::OK);
    let direct = bind(&mut app, &just_b, &[&b1]).await;
    assert_eq!(direct.json()["Members"][0]["MemberId"], b1.as_str());
    assert_eq!(contacts_of(&app, &a1).await, sorted(vec![everyone.clone(), folder_a.clone()]));
    assert_eq!(contacts_of(&app, &b1).await, sorted(vec![everyone.clone(), just_b.clone()]));
    assert_eq!(contacts_of(&app, &top).await, vec![everyone.clone()]);
    let got = app.api("GetMessageContact", &[("ContactId", &everyone)]).await.json();
    assert_eq!(got["Contact"]["Members"], serde_json::json!([rd]), "listed as bound");
    let by_member = app.api("ListMessageContacts", &[("Member", &t.a)]).await.json();
    assert_eq!(by_member["TotalCount"], 1);
    assert_eq!(by_member["Contacts"][0]["ContactId"], folder_a.as_str());
    assert!(by_member["Contacts"][0]["AssociatedDate"].is_string());
}

#[actix_web::test]
async fn b2_at_most_ten_targets_and_never_the_same_one_twice() {
    let mut app = TestApp::spawn().await;
    let t = tree(&app).await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    let folders: Vec<String> = app
        .with_conn(move |c| {
            let root = directory::get_directory(c).unwrap().root_folder_id;
            (0..11).map(|i| folder(c, &root, &format!("f{i}"))).collect()
        })
        .await;
    let dup = bind(&mut app, &tom, &[&t.a, &t.a]).await;
    assert_eq!(dup.json()["Code"], "InvalidParameter.Members.Duplicate");
    let six: Vec<&str> = folders[..6].iter().map(String::as_str).collect();
    assert_eq!(bind(&mut app, &tom, &six).await.json()["Code"], "InvalidParameter.Members.Length");
    assert_eq!(bind(&mut app, &tom, &["fd-0000000000"]).await.json()["Code"], "InvalidMember");
    for chunk in folders[..10].chunks(5) {
        let targets: Vec<&str> = chunk.iter().map(String::as_str).collect();
        assert_eq!(bind(&mut app, &tom, &targets).await.status, StatusCode::OK);
    }
    assert_eq!(bind(&mut app, &tom, &[&folders[10]]).await.json()["Code"], "LimitExceeded.ContactMembers");
    assert_eq!(bind(&mut app, &tom, &[&folders[0]]).await.json()["Code"], "InvalidParameter.Members.Duplicate", "already bound");
    assert_eq!(unbind(&mut app, &tom, &[&t.b]).await.json()["Code"], "InvalidParameter.Members", "not bound");
}

#[actix_web::test]
async fn b3_a_member_created_five_levels_below_a_bound_root_has_the_contact() {
    let mut app = TestApp::spawn().await;
    let t = tree(&app).await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    bind(&mut app, &tom, &[&t.root]).await;
    let deep = app
        .with_conn(move |c| {
            let mut parent = t.a.clone();
            for level in 2..=5 {
                parent = folder(c, &parent, &format!("l{level}"));
            }
            member_in(c, &parent, "deep member", None)
        })
        .await;
    assert_eq!(contacts_of(&app, &deep).await, vec![tom]);
}

#[actix_web::test]
async fn b4_a_removed_member_keeps_its_contact_until_it_is_unbound_by_name() {
    let mut app = TestApp::spawn().await;
    let t = tree(&app).await;
    let m = member(&app, &t.a, "leaver", None).await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    bind(&mut app, &tom, &[&t.a]).await;
    app.api("RemoveCloudAccount", &[("AccountId", &m)]).await;
    assert_eq!(contacts_of(&app, &m).await, vec![tom.clone()], "not unbound by the removal");
    assert_eq!(recipients(&app, &m, MessageType::SecurityMessage).await, ["tom@example.com"], "still receives");
    unbind(&mut app, &tom, &[&t.a]).await;
    assert_eq!(contacts_of(&app, &m).await, vec![tom.clone()], "a folder's unbinding does not reach a member no longer in it");
    let gone = unbind(&mut app, &tom, &[&m]).await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    assert!(contacts_of(&app, &m).await.is_empty());
}

async fn recipients(app: &TestApp, account: &str, t: MessageType) -> Vec<String> {
    let a = account.to_owned();
    app.with_conn(move |c| message_center::recipients_for(c, &a, t).unwrap().into_iter().map(|r| r.email).collect()).await
}

#[actix_web::test]
async fn b5_a_member_moved_from_a_to_b_loses_as_contact_gains_bs_and_keeps_the_roots() {
    let mut app = TestApp::spawn().await;
    let t = tree(&app).await;
    let m = member(&app, &t.a, "mover", Some("own@example.com")).await;
    let (ca, cb, croot, cdirect) = (
        app.active_contact("ForA", "a@example.com").await,
        app.active_contact("ForB", "b@example.com").await,
        app.active_contact("ForRoot", "root@example.com").await,
        app.active_contact("Direct", "direct@example.com").await,
    );
    bind(&mut app, &ca, &[&t.a]).await;
    bind(&mut app, &cb, &[&t.b]).await;
    bind(&mut app, &croot, &[&t.root]).await;
    bind(&mut app, &cdirect, &[&m]).await;
    assert_eq!(contacts_of(&app, &m).await, sorted(vec![ca.clone(), croot.clone(), cdirect.clone()]));
    let moved = app.api("MoveAccount", &[("AccountId", &m), ("DestinationFolderId", &t.b)]).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(contacts_of(&app, &m).await, sorted(vec![cb, croot, cdirect]));
}

#[actix_web::test]
async fn u1_unbinding_keeps_members_another_binding_still_covers() {
    let mut app = TestApp::spawn().await;
    let t = tree(&app).await;
    let in_a = member(&app, &t.a, "in a", Some("a-own@example.com")).await;
    let in_b = member(&app, &t.b, "in b", Some("b-own@example.com")).await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    bind(&mut app, &tom, &[&t.root, &t.a]).await;
    let resp = unbind(&mut app, &tom, &[&t.root]).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(contacts_of(&app, &in_a).await, vec![tom.clone()], "still covered by a's binding");
    assert!(contacts_of(&app, &in_b).await.is_empty());
    assert_eq!(app.api("GetMessageContact", &[("ContactId", &tom)]).await.json()["Contact"]["Members"], serde_json::json!([t.a]));
}

#[actix_web::test]
async fn u2_unbinding_the_only_security_recipient_keeps_the_contact_for_that_member() {
    let mut app = TestApp::spawn().await;
    let t = tree(&app).await;
    let lonely = member(&app, &t.a, "lonely", None).await;
    let covered = member(&app, &t.a, "covered", Some("own@example.com")).await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    bind(&mut app, &tom, &[&t.a]).await;
    let resp = unbind(&mut app, &tom, &[&t.a]).await;
    assert_eq!(resp.status, StatusCode::OK, "the unbind itself succeeds");
    assert_eq!(app.api("GetMessageContact", &[("ContactId", &tom)]).await.json()["Contact"]["Members"], serde_json::json!([]), "the binding is gone");
    assert_eq!(contacts_of(&app, &lonely).await, vec![tom.clone()], "kept: the only Security and Fault recipient");
    assert!(contacts_of(&app, &covered).await.is_empty(), "the others lose it");
    assert_eq!(recipients(&app, &lonely, MessageType::SecurityMessage).await, ["tom@example.com"]);
    app.sign_in().await;
    let page = app.get(&format!("/contacts/{tom}")).await;
    assert!(page.body.contains("the only Security, Fault recipient of this member"), "{}", page.body);
    let member_page = app.get(&format!("/members/{lonely}")).await;
    assert!(member_page.body.contains("retained"));
}

#[actix_web::test]
async fn u3_and_b6_a_large_unbind_is_a_task_and_blocks_moves_until_it_ends() {
    // More members than propagate within a request: a task, in batches.
    let mut app = TestApp::spawn_with(|s| {
        s.jobs.inline_limit = 5;
        s.jobs.propagation_batch = 3;
    })
    .await;
    app.with_conn(|c| directory::demo::fill(c, 3, 10, &rd_contacts::audit::Actor::cli()).unwrap()).await;
    let (root, first, other) = app
        .with_conn(|c| {
            let root = directory::get_directory(c).unwrap().root_folder_id;
            let page = directory::list_accounts(c, None, None, rd_contacts::domain::PageRequest::new(None, Some(1))).unwrap();
            let folders = directory::folder_options(c).unwrap();
            (root, page.items[0].clone(), folders.iter().find(|f| f.depth > 0).unwrap().id.clone())
        })
        .await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    let bound = bind(&mut app, &tom, &[&root]).await;
    assert_eq!(bound.status, StatusCode::OK);
    assert!(contacts_of(&app, &first.id).await.is_empty(), "10 members, over the limit of 5: propagation is a task");
    app.run_pending_jobs().await;
    assert_eq!(contacts_of(&app, &first.id).await, vec![tom.clone()]);
    let total = app.with_conn(|c| rd_contacts::jobs::recent(c, 1).unwrap()[0].clone()).await;
    assert_eq!((total.progress_done, total.progress_total, total.status.as_str()), (10, 10, "done"));

    unbind(&mut app, &tom, &[&root]).await;
    let dest = if first.folder_id.as_deref() == Some(other.as_str()) { root.clone() } else { other.clone() };
    let refused = app.api("MoveAccount", &[("AccountId", &first.id), ("DestinationFolderId", &dest)]).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.json()["Code"], "ConcurrentCallNotSupported");
    app.sign_in().await;
    let console = app.post(&format!("/members/{}/move", first.id), &[("destination", &dest)]).await;
    assert_eq!(console.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(console.body.contains("cannot move while contacts are being unbound"));
    app.run_pending_jobs().await;
    let accepted = app.api("MoveAccount", &[("AccountId", &first.id), ("DestinationFolderId", &dest)]).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    let id = AccountId::parse(&first.id).unwrap();
    let kept = app.with_conn(move |c| rd_contacts::contacts::scope::member_contacts(c, id.as_str(), None, false).unwrap()).await;
    assert!(kept.len() <= 1);
}

/// How many associations there are, and how many the planner's statistics count.
async fn association_rows_and_statistics(app: &TestApp) -> (f64, f64) {
    app.with_conn(|c| {
        use diesel::prelude::*;
        let rows: i64 = rd_contacts::db::schema::associations::table.count().get_result(c).unwrap();
        (rows as f64, rd_contacts::db::estimated_rows(c, "associations").unwrap())
    })
    .await
}

#[actix_web::test]
async fn a_large_unbind_then_bind_leaves_the_planner_statistics_counting_the_associations_there_are() {
    // The plans of a contact's pages follow its share of the associations: statistics
    // taken while another contact was bound at the root made the next one's page take
    // 5.5 s at a million members. Each job refreshes them once it has changed enough.
    let mut app = TestApp::spawn_with(|s| s.jobs.inline_limit = 100).await;
    app.with_conn(|c| directory::demo::fill(c, 3, 3_000, &rd_contacts::audit::Actor::cli()).unwrap()).await;
    let root = app.with_conn(|c| directory::get_directory(c).unwrap().root_folder_id).await;
    let close = |(rows, counted): (f64, f64)| (counted - rows).abs() <= rows * 0.25 + 50.0;

    let tom = app.active_contact("tom", "tom@example.com").await;
    bind(&mut app, &tom, &[&root]).await;
    app.run_pending_jobs().await;
    let bound = association_rows_and_statistics(&app).await;
    assert!(bound.0 >= 3_000.0 && close(bound), "after the bind, (rows, statistics) = {bound:?}");

    unbind(&mut app, &tom, &[&root]).await;
    app.run_pending_jobs().await;
    let unbound = association_rows_and_statistics(&app).await;
    assert!(unbound.0 < 1_000.0 && close(unbound), "after the unbind, (rows, statistics) = {unbound:?}");

    let ann = app.active_contact("ann", "ann@example.com").await;
    bind(&mut app, &ann, &[&root]).await;
    app.run_pending_jobs().await;
    let rebound = association_rows_and_statistics(&app).await;
    assert!(rebound.0 >= 3_000.0 && close(rebound), "after the next bind, (rows, statistics) = {rebound:?}");
}

#[actix_web::test]
async fn the_effective_scope_lists_every_member_with_the_target_it_comes_through() {
    let mut app = TestApp::spawn().await;
    let t = tree(&app).await;
    let in_a = member(&app, &t.a, "alpha member", None).await;
    let in_b = member(&app, &t.b, "beta member", Some("own@example.com")).await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    bind(&mut app, &tom, &[&t.a, &in_b]).await;
    app.sign_in().await;
    let page = app.get(&format!("/contacts/{tom}/members")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&in_a) && page.body.contains(&format!("folder {}", t.a)));
    assert!(page.body.contains(&in_b) && page.body.contains("bound directly"));
    assert!(app.get(&format!("/contacts/{tom}")).await.body.contains("All 2 members"));
}

#[actix_web::test]
async fn b6_an_unbinding_task_that_gave_up_no_longer_blocks_moves() {
    let mut app = TestApp::spawn().await;
    let t = tree(&app).await;
    let m = member(&app, &t.a, "mover", Some("mover@example.com")).await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    // An unbinding task on folder A, as a large unbind leaves one (rule U3).
    app.with_conn({
        let (a, tom) = (t.a.clone(), tom.clone());
        move |c| {
            use diesel::prelude::*;
            use rd_contacts::contacts::bindings::{Propagation, UnbindMembers};
            use rd_contacts::contacts::propagation::Scope;
            use rd_contacts::db::schema::{folders, unbind_tasks};
            let path: String = folders::table.find(&a).select(folders::path).first(c).unwrap();
            let job = rd_contacts::jobs::enqueue(
                c,
                &UnbindMembers(Propagation { contact_id: tom.clone(), scope: Scope::Subtree { path: path.clone() }, cursor: String::new(), done: 0, total: 1 }),
            )
            .unwrap();
            diesel::insert_into(unbind_tasks::table)
                .values((
                    unbind_tasks::job_id.eq(job),
                    unbind_tasks::contact_id.eq(&tom),
                    unbind_tasks::target_id.eq(&a),
                    unbind_tasks::folder_path.eq(&path),
                    unbind_tasks::created_at.eq(rd_contacts::db::now_utc()),
                ))
                .execute(c)
                .unwrap();
        }
    })
    .await;
    let blocked = app.api("MoveAccount", &[("AccountId", &m), ("DestinationFolderId", &t.b)]).await;
    assert_eq!(blocked.json()["Code"], "ConcurrentCallNotSupported");
    app.with_conn(|c| {
        use diesel::prelude::*;
        use rd_contacts::db::schema::jobs as j;
        diesel::update(j::table.filter(j::kind.eq("unbind_members")))
            .set((
                j::status.eq("running"),
                j::attempts.eq(rd_contacts::jobs::DEFAULT_MAX_ATTEMPTS),
                j::locked_by.eq("dead"),
                j::locked_until.eq(rd_contacts::db::now_utc() - time::Duration::seconds(1)),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
    app.run_pending_jobs().await;
    let moved = app.api("MoveAccount", &[("AccountId", &m), ("DestinationFolderId", &t.b)]).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
}

/// A contact's kept association count, checked against a real count of its rows.
async fn kept_count(app: &TestApp, contact: &str, what: &str) -> i64 {
    let c = contact.to_owned();
    let (kept, real) = app
        .with_conn(move |conn| {
            use diesel::prelude::*;
            use rd_contacts::db::schema::associations;
            let kept = rd_contacts::contacts::scope::effective_scope(conn, &c).unwrap().associated;
            let real: i64 = associations::table.filter(associations::contact_id.eq(&c)).count().get_result(conn).unwrap();
            (kept, real)
        })
        .await;
    assert_eq!(kept, real, "{what}: the kept count for {contact}");
    kept
}

/// The number of members a contact's page shows is kept by triggers, not counted per
/// view: it must equal the real count through bind, unbind (rule U2 keeps some), a
/// member's removal (rule B4) and a second contact's changes.
#[actix_web::test]
async fn the_kept_association_count_is_the_real_one_through_bind_unbind_and_removal() {
    let mut app = TestApp::spawn().await;
    let t = tree(&app).await;
    let m1 = member(&app, &t.a, "count one", None).await;
    let m2 = member(&app, &t.a, "count two", None).await;
    member(&app, &t.b, "count three", None).await;
    let ann = app.active_contact("ann", "ann@example.com").await;
    let bob = app.active_contact("bob", "bob@example.com").await;
    assert_eq!(kept_count(&app, &ann, "new contact").await, 0);
    bind(&mut app, &ann, &[&t.root]).await;
    bind(&mut app, &bob, &[&t.a]).await;
    app.run_pending_jobs().await;
    assert_eq!(kept_count(&app, &ann, "bound at the root").await, 3);
    assert_eq!(kept_count(&app, &bob, "bound to a folder").await, 2);
    app.api("RemoveCloudAccount", &[("AccountId", &m1)]).await;
    app.run_pending_jobs().await;
    kept_count(&app, &ann, "after a removal").await;
    kept_count(&app, &bob, "after a removal").await;
    unbind(&mut app, &ann, &[&t.root]).await;
    app.run_pending_jobs().await;
    kept_count(&app, &ann, "after unbinding").await;
    assert!(kept_count(&app, &bob, "the other contact, untouched").await >= 1);
    bind(&mut app, &ann, &[&m2]).await;
    app.run_pending_jobs().await;
    assert!(kept_count(&app, &ann, "bound to one member").await >= 1);
}

/// A contact's page lists its first members by name, whether it reaches most of the
/// directory (found by walking members in name order) or a few (its own, sorted).
#[actix_web::test]
async fn a_contacts_page_lists_its_first_members_by_name_whether_it_reaches_many_or_few() {
    let mut app = TestApp::spawn().await;
    let t = tree(&app).await;
    let mut names = Vec::new();
    for i in (0..12).rev() {
        let name: &'static str = Box::leak(format!("member {i:02}").into_boxed_str());
        names.push((member(&app, &t.a, name, None).await, name));
    }
    let wide = app.active_contact("wide", "wide@example.com").await;
    let narrow = app.active_contact("narrow", "narrow@example.com").await;
    bind(&mut app, &wide, &[&t.root]).await;
    bind(&mut app, &narrow, &[&names[0].0, &names[5].0]).await;
    app.run_pending_jobs().await;
    let sample = |contact: String| {
        app.with_conn(move |c| {
            rd_contacts::contacts::scope::effective_scope(c, &contact).unwrap().covered_sample.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>()
        })
    };
    let wide_sample = sample(wide).await;
    assert_eq!(wide_sample.len(), 12);
    assert_eq!(wide_sample[0], "member 00");
    assert!(wide_sample.windows(2).all(|w| w[0] <= w[1]), "by name: {wide_sample:?}");
    assert_eq!(sample(narrow).await, ["member 06", "member 11"]);
}

#[actix_web::test]
async fn contacts_and_bindings_kept_between_views_show_every_change_at_once_even_in_plain_sql() {
    // Folder, member and contact pages keep a contact, its bindings, a folder's contacts and
    // the contacts it may bind while the search version stands; a change to a contact or a
    // binding, from the service or in plain SQL, moves it on and shows on the next view.
    use diesel::prelude::*;
    use rd_contacts::db::schema::{bindings, contacts};
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let id = app.active_contact("Opslead", "lead@example.com").await;
    let t = tree(&app).await;
    let a_path = app.with_conn({
        let a = t.a.clone();
        move |c| directory::get_folder(c, &FolderId::parse(&a).unwrap()).unwrap().path
    });
    let a_path = a_path.await;
    let first = kept_views(&app, id.clone(), a_path.clone()).await;
    assert_eq!(first, ("Opslead".to_owned(), vec!["Opslead".to_owned()], vec![], vec![]));
    assert_eq!(kept_views(&app, id.clone(), a_path.clone()).await, first, "the same views again");

    let resp = bind(&mut app, &id, &[&t.a]).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    app.run_pending_jobs().await;
    let bound = kept_views(&app, id.clone(), a_path.clone()).await;
    assert_eq!((bound.2.as_slice(), bound.3.as_slice()), ([String::from("Opslead")].as_slice(), [t.a.clone()].as_slice()), "bound to the folder");

    let renamed = id.clone();
    app.with_conn(move |c| diesel::update(contacts::table.find(&renamed)).set(contacts::name.eq("Platformlead")).execute(c).unwrap()).await;
    let renamed = kept_views(&app, id.clone(), a_path.clone()).await;
    assert_eq!(
        (renamed.0.as_str(), renamed.1.as_slice(), renamed.2.as_slice()),
        ("Platformlead", [String::from("Platformlead")].as_slice(), [String::from("Platformlead")].as_slice()),
        "renamed in plain SQL"
    );

    let unbound = id.clone();
    app.with_conn(move |c| diesel::delete(bindings::table.filter(bindings::contact_id.eq(&unbound))).execute(c).unwrap()).await;
    let unbound = kept_views(&app, id.clone(), a_path.clone()).await;
    assert_eq!((unbound.2.len(), unbound.3.len()), (0, 0), "its binding deleted in plain SQL: {unbound:?}");

    let paused = id.clone();
    app.with_conn(move |c| diesel::update(contacts::table.find(&paused)).set(contacts::status.eq("Deleting")).execute(c).unwrap()).await;
    assert!(kept_views(&app, id.clone(), a_path.clone()).await.1.is_empty(), "no longer active, so no longer offered");
}

/// A contact's name, the contacts offered to bind, those on a folder's path and the
/// contact's bound targets, as the pages read them.
async fn kept_views(app: &TestApp, id: String, path: String) -> (String, Vec<String>, Vec<String>, Vec<String>) {
    use rd_contacts::contacts::bindings::{bindings_of, bindings_of_contacts};
    use rd_contacts::contacts::{bindable_contacts, get_contact, scope};
    app.with_conn(move |c| {
        let name = get_contact(c, &rd_contacts::domain::ContactId::parse(&id).unwrap()).map(|k| k.name).unwrap_or_else(|e| e.to_string());
        let bindable: Vec<String> = bindable_contacts(c, 100).unwrap().into_iter().map(|k| k.name).collect();
        let (here, above) = scope::folder_contacts(c, &path).unwrap();
        let on_folder: Vec<String> =
            here.iter().map(|(k, _)| k.name.clone()).chain(above.iter().map(|(k, _, from)| format!("{} from {from}", k.name))).collect();
        let bound: Vec<String> = bindings_of(c, &id).unwrap().into_iter().map(|b| b.target_key).collect();
        let of_many: Vec<String> = bindings_of_contacts(c, &[id.as_str(), id.as_str()]).unwrap().into_iter().map(|b| b.target_key).collect();
        assert_eq!(bound, of_many, "a member page's read of its contacts' bindings");
        (name, bindable, on_folder, bound)
    })
    .await
}

#[actix_web::test]
async fn the_effective_scope_names_the_members_that_keep_a_contact_unbound_and_those_that_left() {
    // A contact's page lists, beside its covered members, those that keep it without a
    // binding (rule U2 retained it) and those that left the directory (rule B4), by name.
    use diesel::prelude::*;
    use rd_contacts::db::schema::associations;
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let contact = app.active_contact("Keeper", "keeper@example.com").await;
    let t = tree(&app).await;
    let scope = app
        .with_conn(move |c| {
            let [zoe, bob, carol, dan] = ["zoe", "bob", "carol", "dan"].map(|n| member_in(c, &t.a, n, None));
            for m in [&zoe, &bob, &carol, &dan] {
                crate::support::add_association(c, m, &contact).unwrap();
            }
            for m in [&zoe, &carol] {
                diesel::update(associations::table.filter(associations::account_id.eq(m)).filter(associations::contact_id.eq(&contact)))
                    .set(associations::retained_types.eq(MessageType::SecurityMessage.bit()))
                    .execute(c)
                    .unwrap();
            }
            for m in [&bob, &carol] {
                directory::remove_account(c, &AccountId::parse(m).unwrap(), &rd_contacts::audit::Actor::cli()).unwrap();
            }
            rd_contacts::contacts::scope::effective_scope(c, &contact).unwrap()
        })
        .await;
    let names = |list: &[rd_contacts::contacts::scope::SpecialMember]| list.iter().map(|m| m.display_name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&scope.retained), ["zoe"], "retained and still a member");
    assert_eq!(names(&scope.removed), ["bob", "carol"], "left the directory, by name, whether retained or not");
    assert_eq!(scope.retained[0].retained, rd_contacts::domain::MessageTypes::from_bits(MessageType::SecurityMessage.bit()));
}
