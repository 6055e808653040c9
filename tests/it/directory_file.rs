//! The directory kept in step with a file: an import brings it to the file's state, a
//! second import changes nothing, a dry run changes nothing, and an export imports back
//! as a no-op.

use actix_web::http::StatusCode;
use rd_contacts::audit::Actor;
use rd_contacts::directory_file::{self, HEADER, Mode, Plan};

use crate::support::TestApp;

async fn member(app: &TestApp, name: &'static str) -> String {
    crate::support::member_in(app, None, name).await
}

async fn import(app: &TestApp, text: String, remove_missing: bool) -> Plan {
    app.with_conn(move |c| directory_file::import(c, &directory_file::parse(&text).unwrap(), remove_missing, Mode::Apply, &Actor::cli()).unwrap().plan).await
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
            directory_file::import(c, &rows, true, Mode::DryRun, &Actor::cli()).unwrap().plan
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
    let error = app.with_conn(move |c| directory_file::import(c, &rows, false, Mode::Apply, &Actor::cli()).unwrap_err().to_string()).await;
    assert!(error.contains("Line 3") && error.contains("Line 4"), "{error}");
    assert_eq!(exported(&app).await, before);
    assert!(directory_file::parse("name,email\nx,y\n").unwrap_err()[0].contains("header"));
}

/// The hidden fields of the preview's Apply form.
fn apply_fields(body: &str) -> (String, String) {
    (
        crate::support::capture(body, r#"name="digest" value="([^"]+)""#),
        crate::support::capture(body, r#"(?s)<textarea name="content" hidden>(.*?)</textarea>"#),
    )
}

#[actix_web::test]
async fn the_console_previews_a_file_then_applies_exactly_that_plan() {
    let mut app = TestApp::spawn().await;
    let gone = member(&app, "gone").await;
    app.sign_in().await;
    let form = app.get("/directory/sync").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("data-load-into=\"sync-content\"") && form.body.contains("/directory/export.csv"), "{}", form.body);

    let file = format!("{HEADER}\nops/db,,Payments prod,pay@example.com\n");
    let preview = app.post("/directory/sync/preview", &[("content", &file), ("remove_missing", "1")]).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(
        preview.body.contains("New folders (2)") && preview.body.contains("New members (1)") && preview.body.contains("Removed members (1)"),
        "{}",
        preview.body
    );
    assert!(preview.body.contains(&format!("gone ({gone})")), "the removal is listed: {}", preview.body);
    assert!(preview.body.contains("data-confirm=\"Apply this plan? 1 member will be removed"), "a removal is confirmed first: {}", preview.body);
    assert!(exported(&app).await.iter().any(|r| r.account_id == gone), "the preview changed nothing");

    let (digest, content) = apply_fields(&preview.body);
    let content = content.replace("&#x2f;", "/").replace("&#47;", "/");
    assert!(content.contains("Payments prod"), "{content}");
    let applied = app.post("/directory/sync/apply", &[("content", &content), ("remove_missing", "1"), ("digest", &digest)]).await;
    assert_eq!(applied.status, StatusCode::SEE_OTHER, "{}", applied.body);
    let rows = exported(&app).await;
    assert!(rows.iter().any(|r| r.folder_path == "ops/db" && r.display_name == "Payments prod"));
    assert!(!rows.iter().any(|r| r.account_id == gone));
    let flash = app.get("/directory").await;
    assert!(flash.body.contains("The directory now matches the file"), "{}", flash.body);

    let again = app.post("/directory/sync/preview", &[("content", &content), ("remove_missing", "1")]).await;
    assert!(again.body.contains("already matches this file"), "a second run changes nothing: {}", again.body);

    // The export is the file an import takes: it previews as a no-op.
    let csv = app.get("/directory/export.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers.get("content-disposition").is_some_and(|v| v.to_str().unwrap().contains("directory.csv")));
    let back = app.post("/directory/sync/preview", &[("content", &csv.body), ("remove_missing", "1")]).await;
    assert!(back.body.contains("already matches this file"), "{}", back.body);
}

#[actix_web::test]
async fn a_plan_that_changed_since_its_preview_is_not_applied_and_the_new_one_is_shown() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let file = format!("{HEADER}\nops,,alpha,\n");
    let preview = app.post("/directory/sync/preview", &[("content", &file), ("remove_missing", "1")]).await;
    let (digest, _) = apply_fields(&preview.body);
    // Meanwhile someone adds a member the file does not list.
    let late = member(&app, "late").await;
    let applied = app.post("/directory/sync/apply", &[("content", &file), ("remove_missing", "1"), ("digest", &digest)]).await;
    assert_eq!(applied.status, StatusCode::CONFLICT, "{}", applied.body);
    assert!(applied.body.contains("changed since your preview") && applied.body.contains(&format!("late ({late})")), "{}", applied.body);
    let rows = exported(&app).await;
    assert!(rows.iter().any(|r| r.account_id == late) && !rows.iter().any(|r| r.display_name == "alpha"), "nothing was applied");
}

#[actix_web::test]
async fn the_console_names_each_bad_line_and_refuses_a_file_too_large_changing_nothing() {
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let before = exported(&app).await;
    let bad = format!("{HEADER}\nops,,,\nops,not-an-id,x,\n");
    let refused = app.post("/directory/sync/preview", &[("content", &bad)]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Line 3") && refused.body.contains("not-an-id"), "the line and the text kept: {}", refused.body);
    let header = app.post("/directory/sync/preview", &[("content", "name,email\nx,y\n")]).await;
    assert!(header.body.contains("The first line must be the header"), "{}", header.body);
    let mut big = format!("{HEADER}\n");
    for i in 0..5001 {
        big.push_str(&format!("f{i},,,\n"));
    }
    let large = app.post("/directory/sync/preview", &[("content", &big)]).await;
    assert_eq!(large.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &large.body[..200.min(large.body.len())]);
    assert!(large.body.contains("at most 5000 at once") && large.body.contains("rd-contacts directory import"), "says what to do instead");
    assert_eq!(exported(&app).await, before);
}

#[actix_web::test]
async fn a_dry_run_names_the_coverage_gaps_the_import_would_open() {
    let mut app = TestApp::spawn().await;
    let file = format!("{HEADER}\nops,,nobody reads this,\nops,,covered,sec@example.com\n");
    let rows = directory_file::parse(&file).unwrap();
    let outcome = app.with_conn(move |c| directory_file::import(c, &rows, false, Mode::DryRun, &Actor::cli()).unwrap()).await;
    // A member without a security email starts with an empty Message Center (rule M4): it
    // would hear nothing of any type; the one with a security email is covered.
    assert_eq!(outcome.gaps_opened.len(), 6, "{:?}", outcome.gaps_opened);
    assert!(outcome.gaps_opened.iter().all(|(_, n)| *n == 1), "{:?}", outcome.gaps_opened);
    assert_eq!(outcome.gap_sentences().len(), 1);
    app.sign_in().await;
    let preview = app.post("/directory/sync/preview", &[("content", &file)]).await;
    assert!(preview.body.contains("1 more member with nobody to notify for"), "{}", preview.body);
    assert!(exported(&app).await.iter().all(|r| r.display_name != "covered"), "the dry run and the preview changed nothing");
}
