//! Rule T5: every write works under concurrency on both databases (no 5xx from locking,
//! uniqueness enforced by the schema), and start-up is safe for servers starting together.

use actix_web::http::StatusCode;
use diesel::connection::SimpleConnection;
use rd_contacts::config::MailSetting;
use rd_contacts::db;
use rd_contacts::directory;
use rd_contacts::mail::Mailer;
use rd_contacts::startup;
use rd_contacts::web::AppError;

use crate::support::{Response, TestApp, TestDatabase};

async fn root(app: &TestApp) -> String {
    app.with_conn(|c| directory::get_directory(c).unwrap().root_folder_id).await
}

/// Letters only (contact names take no digits): 0 → "a", 27 → "bb".
fn letters(mut n: usize) -> String {
    let mut s = String::new();
    loop {
        s.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            return s;
        }
    }
}

fn server_errors(results: &[(String, Response)]) -> Vec<String> {
    results.iter().filter(|(_, r)| r.status.is_server_error()).map(|(what, r)| format!("{what}: {} {}", r.status, r.body)).collect()
}

#[actix_web::test]
async fn t5_eight_clients_writing_at_once_through_the_api_and_the_console_get_no_5xx() {
    let app = TestApp::spawn().await;
    let root = root(&app).await;
    let mut setup = app.client();
    let mut contacts = Vec::new();
    for i in 0..8 {
        contacts.push(setup.active_contact(&format!("writer{}", letters(i)), &format!("writer{i}@example.com")).await);
    }
    // Background work goes on at the same time (verification emails, propagation).
    rd_contacts::jobs::spawn_workers(app.state.jobs(), 2);
    let clients: Vec<_> = contacts
        .into_iter()
        .enumerate()
        .map(|(i, contact)| {
            let (mut c, root) = (setup.client(), root.clone());
            async move {
                let mut results = Vec::new();
                c.sign_in().await;
                for j in 0..30 {
                    let (what, r) = match j % 6 {
                        0 => ("CreateFolder", c.api("CreateFolder", &[("FolderName", &format!("c{i}f{j}")), ("ParentFolderId", &root)]).await),
                        1 => (
                            "CreateResourceAccount",
                            c.api("CreateResourceAccount", &[("DisplayName", &format!("c{i} m{j}")), ("ParentFolderId", &root)]).await,
                        ),
                        2 => ("console create folder", c.post(&format!("/folders/{root}/folders"), &[("name", &format!("k{i}g{j}"))]).await),
                        3 => (
                            "console create member",
                            c.post(
                                &format!("/folders/{root}/members"),
                                &[("display_name", &format!("k{i} n{j}")), ("security_email", &format!("k{i}n{j}@example.com"))],
                            )
                            .await,
                        ),
                        4 if j % 12 == 4 => ("AssociateMembers", c.api("AssociateMembers", &[("ContactId", &contact), ("Members.1", &root)]).await),
                        4 => ("DisassociateMembers", c.api("DisassociateMembers", &[("ContactId", &contact), ("Members.1", &root)]).await),
                        _ => (
                            "UpdateMessageContact",
                            c.api("UpdateMessageContact", &[("ContactId", &contact), ("Title", if j % 2 == 0 { "CEO" } else { "ProjectDirector" })]).await,
                        ),
                    };
                    results.push((format!("client {i} write {j} {what}"), r));
                }
                results
            }
        })
        .collect();
    let results: Vec<(String, Response)> = futures_util::future::join_all(clients).await.into_iter().flatten().collect();
    assert_eq!(results.len(), 240);
    assert_eq!(server_errors(&results), Vec::<String>::new());
    let succeeded = results.iter().filter(|(_, r)| r.status.is_success() || r.status.is_redirection()).count();
    assert_eq!(succeeded, 240, "{:?}", results.iter().filter(|(_, r)| r.status.is_client_error()).map(|(w, r)| format!("{w}: {}", r.body)).collect::<Vec<_>>());
}

#[actix_web::test]
async fn t5_simultaneous_creations_of_one_folder_name_create_one_folder() {
    let app = TestApp::spawn().await;
    let root = root(&app).await;
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let (mut c, root) = (app.client(), root.clone());
            async move { c.api("CreateFolder", &[("FolderName", "Finance"), ("ParentFolderId", &root)]).await }
        })
        .collect();
    let answers = futures_util::future::join_all(calls).await;
    let created = answers.iter().filter(|r| r.status == StatusCode::OK).count();
    let refused: Vec<_> =
        answers.iter().filter(|r| r.status != StatusCode::OK).map(|r| (r.status, r.json()["Code"].as_str().unwrap_or("").to_owned())).collect();
    assert_eq!(created, 1, "{refused:?}");
    assert!(refused.iter().all(|(s, code)| *s == StatusCode::CONFLICT && code == "EntityAlreadyExists.Folder"), "{refused:?}");
    let listed = app.client().api("ListFoldersForParent", &[("ParentFolderId", &root)]).await.json();
    assert_eq!(listed["TotalCount"], 1, "{listed}");
}

#[actix_web::test]
async fn t5_deleting_a_folder_while_members_are_created_in_it_never_answers_5xx() {
    let app = TestApp::spawn().await;
    let root = root(&app).await;
    let mut c = app.client();
    for round in 0..10 {
        let folder = c.api("CreateFolder", &[("FolderName", &format!("race{round}")), ("ParentFolderId", &root)]).await.json()["Folder"]["FolderId"]
            .as_str()
            .unwrap()
            .to_owned();
        let (mut a, mut b, mut d) = (app.client(), app.client(), app.client());
        let delete = [("FolderId", folder.as_str())];
        let member = [("DisplayName", "racer"), ("ParentFolderId", folder.as_str())];
        let inner = [("FolderName", "inner"), ("ParentFolderId", folder.as_str())];
        let (deleted, created, created_too) =
            tokio::join!(a.api("DeleteFolder", &delete), b.api("CreateResourceAccount", &member), d.api("CreateFolder", &inner));
        for (what, r) in [("DeleteFolder", &deleted), ("CreateResourceAccount", &created), ("CreateFolder", &created_too)] {
            assert!(!r.status.is_server_error(), "round {round}, {what}: {} {}", r.status, r.body);
        }
        // Whatever won, the directory is consistent: a folder deleted holds nothing.
        if deleted.status == StatusCode::OK {
            assert_ne!(created.status, StatusCode::OK, "round {round}: a member in a deleted folder");
            assert_ne!(created_too.status, StatusCode::OK, "round {round}: a folder in a deleted folder");
        }
    }
}

#[actix_web::test]
async fn t5_simultaneous_accepts_of_one_invitation_give_one_account_and_no_5xx() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let root = root(&app).await;
    let member = app.api("CreateResourceAccount", &[("DisplayName", "invited"), ("ParentFolderId", &root)]).await.json()["Account"]["AccountId"]
        .as_str()
        .unwrap()
        .to_owned();
    let invited = app.post(&format!("/members/{member}/invite"), &[("email", "keeper@example.com")]).await;
    assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.body);
    app.run_pending_jobs().await;
    let re = regex_lite::Regex::new(r"http://rdc\.test(/invite/[A-Za-z0-9_-]+)").unwrap();
    let link = app.sent_emails().iter().find_map(|e| re.captures(&e.text).map(|c| c[1].to_owned())).expect("an invitation");
    let mut clients = Vec::new();
    for _ in 0..16 {
        let mut c = app.client();
        let page = c.get(&link).await;
        let token = crate::support::capture(&page.body, r#"name="csrf_token" value="([^"]+)""#);
        clients.push((c, token));
    }
    let accepts: Vec<_> =
        clients
            .into_iter()
            .map(|(mut c, token)| {
                let link = link.clone();
                async move {
                    c.post_raw(&link, &[("csrf_token", &token), ("password", "Tide-lantern-91-quartz"), ("password_again", "Tide-lantern-91-quartz")]).await
                }
            })
            .collect();
    let answers = futures_util::future::join_all(accepts).await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
    assert!(statuses.iter().all(|s| *s < 500), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 303).count(), 1, "exactly one accept signs in: {statuses:?}");
}

#[test]
fn t5_servers_starting_together_on_a_new_database_all_start_and_one_creates_the_administrator() {
    let db = TestDatabase::empty();
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let mut settings = crate::support::settings_for(&db.url);
            settings.mail = MailSetting::Memory;
            std::thread::spawn(move || {
                let mailer = Mailer::from_setting(&settings.mail, &settings.mail_from).unwrap();
                startup::prepare(settings, mailer).map(|(_, first)| first.admin).map_err(|e| e.to_string())
            })
        })
        .collect();
    let results: Vec<_> = starts.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let admins = results.iter().filter(|r| matches!(r, Ok(Some(_)))).count();
    assert_eq!(admins, 1, "exactly one start shows the first administrator's password: {results:?}");
}

#[actix_web::test]
async fn t5_a_request_whose_database_connection_is_cut_answers_503_not_500() {
    let app = TestApp::spawn().await;
    if !db::is_postgres_url(app.database_url()) {
        // An SQLite file cannot be cut off; its equivalent, a lock held past the busy
        // timeout, is classified the same way.
        let locked = diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::Unknown, Box::new("database is locked".to_owned()));
        assert!(matches!(AppError::from(locked), AppError::Unavailable));
        return;
    }
    let url = app.database_url().to_owned();
    let error = app
        .with_conn(move |c| {
            use diesel::prelude::*;
            #[derive(QueryableByName)]
            struct Pid {
                #[diesel(sql_type = diesel::sql_types::Integer)]
                pid: i32,
            }
            let pid = diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result::<Pid>(c).unwrap().pid;
            // Another session cuts this one off, as a restart or a network failure would.
            let mut admin = diesel::PgConnection::establish(&url).unwrap();
            admin.batch_execute(&format!("SELECT pg_terminate_backend({pid})")).unwrap();
            directory::get_directory(c).unwrap_err()
        })
        .await;
    let app_error = AppError::from(error);
    assert!(matches!(app_error, AppError::Unavailable), "{app_error:?}");
    assert_eq!(actix_web::ResponseError::status_code(&app_error), StatusCode::SERVICE_UNAVAILABLE);
    // The pool notices the broken connection and the next request is served.
    let mut c = app.client();
    assert_eq!(c.api("GetResourceDirectory", &[]).await.status, StatusCode::OK);
}

/// A contact deleted while another transaction adds associations for it: whichever comes
/// first, no association is left naming a contact that is gone. On PostgreSQL the keys
/// are checked per statement (migration 000025), so this is what they must still hold.
#[actix_web::test]
async fn t5_a_contact_deleted_while_associations_are_added_for_it_leaves_none_behind() {
    let mut app = TestApp::spawn().await;
    let member = crate::support::member_in(&app, None, "member").await;
    let first = app.active_contact("tom", "tom@example.com").await;
    let second = app.active_contact("ann", "ann@example.com").await;
    let pool = app.state.pool.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        let add = crate::support::add_association;
        let delete = |c: &mut db::AnyConnection, contact: &str| diesel::sql_query(format!("DELETE FROM contacts WHERE id = '{contact}'")).execute(c);
        let left = |c: &mut db::AnyConnection, contact: &str| -> i64 {
            use rd_contacts::db::schema::associations;
            associations::table.filter(associations::contact_id.eq(contact)).count().get_result(c).unwrap()
        };
        let hold = std::time::Duration::from_millis(300);

        // The addition first: the deletion waits for it, then takes what it added.
        let (started, waiting) = std::sync::mpsc::channel();
        let adder = {
            let (pool, member, contact) = (pool.clone(), member.clone(), first.clone());
            std::thread::spawn(move || {
                db::transaction(&mut pool.get().unwrap(), |c| {
                    add(c, &member, &contact)?;
                    started.send(()).unwrap();
                    std::thread::sleep(hold);
                    Ok::<_, diesel::result::Error>(())
                })
            })
        };
        waiting.recv().unwrap();
        let mut c = pool.get().unwrap();
        delete(&mut c, &first).expect("the deletion waits for the addition, then goes through");
        adder.join().unwrap().expect("the addition committed first");
        assert_eq!(left(&mut c, &first), 0, "the deletion took the association added meanwhile");

        // The deletion first: the addition waits for it, then fails as a missing contact.
        let (started, waiting) = std::sync::mpsc::channel();
        let deleter = {
            let (pool, contact) = (pool.clone(), second.clone());
            std::thread::spawn(move || {
                db::transaction(&mut pool.get().unwrap(), |c| {
                    delete(c, &contact)?;
                    started.send(()).unwrap();
                    std::thread::sleep(hold);
                    Ok::<_, diesel::result::Error>(())
                })
            })
        };
        waiting.recv().unwrap();
        let late = add(&mut c, &member, &second);
        deleter.join().unwrap().expect("the deletion committed first");
        assert!(matches!(late, Err(ref e) if db::is_foreign_key_violation(e)), "{late:?}");
        assert_eq!(left(&mut c, &second), 0);
    })
    .await
    .unwrap();
}

/// Eight TagResources at once, each adding ten new keys to a member that has ten: the
/// limit of 20 holds whatever the timing, and each request is set whole or refused whole.
#[actix_web::test]
async fn t5_simultaneous_tag_requests_never_give_a_resource_more_than_twenty_tags() {
    let mut app = TestApp::spawn().await;
    let member = crate::support::member_in(&app, None, "tagged").await;
    let keys = |prefix: &str| (1..=10).map(|i| (format!("Tag.{i}.Key"), format!("{prefix}{i}"))).collect::<Vec<_>>();
    let tag = |app: &mut TestApp, member: String, keys: Vec<(String, String)>| {
        let mut c = app.client();
        async move {
            let mut params: Vec<(&str, &str)> = vec![("ResourceType", "Account"), ("ResourceId.1", &member)];
            params.extend(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            c.api("TagResources", &params).await
        }
    };
    assert_eq!(tag(&mut app, member.clone(), keys("first")).await.status, StatusCode::OK);
    let calls: Vec<_> = (0..8).map(|n| tag(&mut app, member.clone(), keys(&letters(n)))).collect();
    let answers = futures_util::future::join_all(calls).await;
    let set = answers.iter().filter(|r| r.status == StatusCode::OK).count();
    let refused: Vec<_> = answers.iter().filter(|r| r.status != StatusCode::OK).map(|r| r.json()["Code"].as_str().unwrap_or("").to_owned()).collect();
    assert!(refused.iter().all(|code| code == "LimitExceeded.Tags"), "{refused:?}");
    let m = member.clone();
    let count: i64 = app
        .with_conn(move |c| {
            use diesel::prelude::*;
            use rd_contacts::db::schema::tags;
            tags::table.filter(tags::resource_id.eq(&m)).count().get_result(c).unwrap()
        })
        .await;
    assert_eq!(set, 1, "one request fits, the others do not: {refused:?}");
    assert_eq!(count, 20);
}
