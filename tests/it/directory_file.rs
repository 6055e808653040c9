//! The directory kept in step with a file: an import brings it to the file's state, a
//! second import changes nothing, a dry run changes nothing, and an export imports back
//! as a no-op.

use rd_contacts::audit::Actor;
use rd_contacts::directory::{self, JoinMethod, NewAccount};
use rd_contacts::directory_file::{self, HEADER, Plan};
use rd_contacts::domain::{DisplayName, FolderId};

use crate::support::TestApp;

async fn member(app: &TestApp, name: &'static str) -> String {
    app.with_conn(move |c| {
        let root = directory::get_directory(c).unwrap().root_folder_id;
        let new = NewAccount {
            display_name: DisplayName::parse(name).unwrap(),
            folder: FolderId::parse(&root).unwrap(),
            security_email: None,
            account_name_prefix: None,
            join_method: JoinMethod::Created,
        };
        rd_contacts::membership::create_account(c, &new, &Actor::cli()).unwrap().id
    })
    .await
}

async fn import(app: &TestApp, text: String, remove_missing: bool) -> Plan {
    app.with_conn(move |c| directory_file::apply(c, &directory_file::parse(&text).unwrap(), remove_missing, &Actor::cli()).unwrap()).await
}

async fn exported(app: &TestApp) -> Vec<directory_file::Row> {
    app.with_conn(|c| directory_file::export(c).unwrap()).await
}

#[actix_web::test]
async fn an_import_brings_the_directory_to_the_files_state_and_a_second_run_changes_nothing() {
    let app = TestApp::spawn().await;
    let keep = member(&app, "keep").await;
    let gone = member(&app, "gone").await;
    let moving = member(&app, "moving").await;
    let file = format!("{HEADER}\nops/db,,\"Payments prod\",pay@example.com\nops,{moving},Moving renamed,\n,{keep},keep,keep@example.com\narchive,,,\n");

    let plan = import(&app, file.clone(), true).await;
    assert_eq!(plan.folders_added, ["ops", "ops/db", "archive"]);
    assert_eq!(plan.members_added.len(), 1);
    assert!(plan.members_added[0].starts_with("Payments prod"), "{plan:?}");
    assert_eq!(plan.moves.len(), 1);
    assert!(plan.moves[0].contains(&moving) && plan.moves[0].ends_with("to ops"), "{plan:?}");
    assert_eq!(plan.renames.len(), 1);
    assert_eq!(plan.email_changes.len(), 1, "keep gets its security email: {plan:?}");
    assert_eq!(plan.removals, [format!("gone ({gone})")]);

    let rows = exported(&app).await;
    let paths: Vec<(&str, &str)> = rows.iter().map(|r| (r.folder_path.as_str(), r.display_name.as_str())).collect();
    assert!(
        paths.contains(&("ops/db", "Payments prod"))
            && paths.contains(&("ops", "Moving renamed"))
            && paths.contains(&("", "keep"))
            && paths.contains(&("archive", ""))
    );
    assert!(!rows.iter().any(|r| r.account_id == gone), "removed members are not exported");

    let again = import(&app, file, true).await;
    assert!(again.is_empty(), "a second import changes nothing: {again:?}");
}

#[actix_web::test]
async fn a_dry_run_changes_nothing_and_an_export_imports_back_as_a_no_op() {
    let app = TestApp::spawn().await;
    member(&app, "alpha").await;
    let before = exported(&app).await;
    let file = format!("{HEADER}\nfinance,,beta,\n");
    let plan = app
        .with_conn(move |c| {
            let rows = directory_file::parse(&file).unwrap();
            rd_contacts::db::dry_run(c, |c| directory_file::apply(c, &rows, true, &Actor::cli())).unwrap()
        })
        .await;
    assert_eq!((plan.folders_added.len(), plan.members_added.len(), plan.removals.len()), (1, 1, 1), "{plan:?}");
    assert_eq!(exported(&app).await, before, "the dry run changed nothing");

    let json = serde_json::to_string(&before).unwrap();
    assert!(import(&app, json, true).await.is_empty(), "its own export, as JSON, changes nothing");
    assert!(import(&app, directory_file::to_csv(&before), true).await.is_empty(), "nor as CSV");
}

#[actix_web::test]
async fn an_import_with_bad_lines_names_each_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let before = exported(&app).await;
    let text = format!("{HEADER}\nops,,,\nops,not-an-id,x,\nfinance,,beta,not-an-address\n");
    let rows = directory_file::parse(&text).unwrap();
    let error = app.with_conn(move |c| directory_file::apply(c, &rows, false, &Actor::cli()).unwrap_err().to_string()).await;
    assert!(error.contains("Line 3") && error.contains("Line 4"), "{error}");
    assert_eq!(exported(&app).await, before);
    assert!(directory_file::parse("name,email\nx,y\n").unwrap_err()[0].contains("header"));
}
