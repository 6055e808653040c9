//! The directory kept in step with a file, from the console: upload (or paste) the file,
//! preview what it would change and the coverage gaps that would open, then apply exactly
//! that plan; and the directory as a file the other way. The same service as
//! `rd-contacts directory import|export`.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db;
use crate::directory::DirectoryError;
use crate::directory_file::{self, FileError, Mode, Outcome};
use crate::errors::StorageError;
use crate::state::AppState;
use crate::web::session::{CsrfForm, CurrentAdmin};
use crate::web::{AppError, Chrome, Reply, html, redirect};

/// The largest form these pages take: a file of `CONSOLE_MAX_ROWS` rows, URL-encoded.
const FORM_LIMIT: usize = 4 * 1024 * 1024;

/// Rows the console takes at once; a larger file goes through the command line, which has
/// no request to keep short.
pub const CONSOLE_MAX_ROWS: usize = 5000;

/// Items of each kind of change a preview lists before "and n more".
const SHOWN: usize = 50;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/directory/sync", web::get().to(form))
        .service(web::resource("/directory/sync/preview").app_data(web::PayloadConfig::new(FORM_LIMIT)).route(web::post().to(preview)))
        .service(web::resource("/directory/sync/apply").app_data(web::PayloadConfig::new(FORM_LIMIT)).route(web::post().to(apply)))
        .route("/directory/export.csv", web::get().to(export));
}

#[derive(Template)]
#[template(path = "directory/sync.html")]
struct SyncForm {
    chrome: Chrome,
    content: String,
    remove_missing: bool,
    errors: Vec<String>,
    max_rows: usize,
}

/// A kind of change and the first items it names.
struct Section {
    what: &'static str,
    total: usize,
    shown: Vec<String>,
}

#[derive(Template)]
#[template(path = "directory/sync_preview.html")]
struct SyncPreview {
    chrome: Chrome,
    content: String,
    remove_missing: bool,
    digest: String,
    sections: Vec<Section>,
    gaps: Vec<String>,
    removals: usize,
    /// Set when an apply found the directory changed since the previous preview.
    changed: bool,
}

#[derive(Deserialize)]
struct SyncFields {
    #[serde(default)]
    content: String,
    #[serde(default)]
    remove_missing: Option<String>,
    #[serde(default)]
    digest: String,
}

async fn form(admin: CurrentAdmin) -> Reply {
    let page =
        SyncForm { chrome: Chrome::new(&admin, "directory"), content: String::new(), remove_missing: false, errors: Vec::new(), max_rows: CONSOLE_MAX_ROWS };
    html(StatusCode::OK, &page)
}

fn refuse(admin: &CurrentAdmin, fields: SyncFields, errors: Vec<String>) -> Reply {
    let page = SyncForm {
        chrome: Chrome::new(admin, "directory"),
        content: fields.content,
        remove_missing: fields.remove_missing.is_some(),
        errors,
        max_rows: CONSOLE_MAX_ROWS,
    };
    html(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

fn preview_page(admin: &CurrentAdmin, fields: SyncFields, outcome: &Outcome, changed: bool) -> Reply {
    let sections = outcome
        .plan
        .sections()
        .into_iter()
        .filter(|(_, items)| !items.is_empty())
        .map(|(what, items)| Section { what, total: items.len(), shown: items.iter().take(SHOWN).cloned().collect() })
        .collect();
    let page = SyncPreview {
        chrome: Chrome::new(admin, "directory"),
        content: fields.content,
        remove_missing: fields.remove_missing.is_some(),
        digest: outcome.digest(),
        sections,
        gaps: outcome.gap_sentences(),
        removals: outcome.plan.removals.len(),
        changed,
    };
    html(if changed { StatusCode::CONFLICT } else { StatusCode::OK }, &page)
}

/// What an import run came to, short of a failure of the server.
enum Ran {
    Done(Outcome),
    /// The file is wrong: what to fix.
    Refused(Vec<String>),
    /// The directory changed since the preview; nothing was applied.
    Changed,
}

async fn run(state: &AppState, admin: &CurrentAdmin, fields: &SyncFields, mode: Mode) -> Result<Ran, AppError> {
    let rows = match directory_file::parse(&fields.content) {
        Ok(rows) if rows.len() > CONSOLE_MAX_ROWS => {
            return Ok(Ran::Refused(vec![format!(
                "This file has {} rows; the console takes at most {CONSOLE_MAX_ROWS} at once. Import a larger file with `rd-contacts directory import FILE`.",
                rows.len()
            )]));
        }
        Ok(rows) if rows.is_empty() => return Ok(Ran::Refused(vec!["The file lists no folder and no member. Choose a file, or paste its text.".into()])),
        Ok(rows) => rows,
        Err(errors) => return Ok(Ran::Refused(errors)),
    };
    let remove_missing = fields.remove_missing.is_some();
    let actor = admin.actor();
    match db::run(&state.pool, move |c| directory_file::import(c, &rows, remove_missing, mode, &actor)).await {
        Ok(outcome) => Ok(Ran::Done(outcome)),
        Err(FileError::Invalid(errors)) => Ok(Ran::Refused(errors)),
        Err(FileError::PlanChanged(_)) => Ok(Ran::Changed),
        Err(FileError::Line { error: DirectoryError::Storage(s), .. } | FileError::Directory(DirectoryError::Storage(s)) | FileError::Storage(s)) => {
            Err(s.into())
        }
        Err(e @ FileError::Line { .. }) => Ok(Ran::Refused(vec![e.to_string()])),
        Err(FileError::Directory(error)) => Err(error.into()),
    }
}

async fn preview(state: web::Data<AppState>, admin: CurrentAdmin, form: CsrfForm<SyncFields, FORM_LIMIT>) -> Reply {
    let fields = form.data;
    match run(&state, &admin, &fields, Mode::DryRun).await? {
        Ran::Done(outcome) => preview_page(&admin, fields, &outcome, false),
        Ran::Refused(errors) => refuse(&admin, fields, errors),
        Ran::Changed => unreachable!("a dry run applies no plan"),
    }
}

async fn apply(state: web::Data<AppState>, admin: CurrentAdmin, form: CsrfForm<SyncFields, FORM_LIMIT>) -> Reply {
    let fields = form.data;
    match run(&state, &admin, &fields, Mode::ApplyIfPlanned(fields.digest.clone())).await? {
        Ran::Done(outcome) => {
            let summary = outcome.plan.summary();
            tracing::info!(%summary, "directory brought to an uploaded file");
            admin.flash.say(if outcome.plan.is_empty() {
                "The directory already matched the file: nothing changed.".to_owned()
            } else {
                format!("The directory now matches the file ({summary}).")
            });
            Ok(redirect("/directory"))
        }
        Ran::Refused(errors) => refuse(&admin, fields, errors),
        // Someone changed the directory since the preview: show the plan as it is now.
        Ran::Changed => match run(&state, &admin, &fields, Mode::DryRun).await? {
            Ran::Done(outcome) => preview_page(&admin, fields, &outcome, true),
            Ran::Refused(errors) => refuse(&admin, fields, errors),
            Ran::Changed => unreachable!("a dry run applies no plan"),
        },
    }
}

/// The directory as the file an import takes (formula-safe, and it imports back as a
/// no-op: see `crate::csv`).
async fn export(state: web::Data<AppState>, _admin: CurrentAdmin) -> Result<HttpResponse, AppError> {
    let rows = db::run(&state.pool, |c| Ok::<_, StorageError>(directory_file::export(c)?)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((CONTENT_DISPOSITION, "attachment; filename=\"directory.csv\""))
        .body(directory_file::to_csv(&rows)))
}
