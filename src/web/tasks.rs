//! The Tasks page: background work (email, propagation, notifications) by its name, with
//! what each task works on, filtered by status and kind, a page at a time.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use crate::contacts;
use crate::directory::KeptByVersion;
use crate::domain::{Page, PageRequest};
use crate::jobs::{self, JobRow, JobStatus};
use crate::state::AppState;
use crate::web::filters;
use crate::web::session::CurrentAdmin;
use crate::web::{AppError, Chrome, Reply, html};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/jobs", web::get().to(tasks_page));
}

const PER_PAGE: i64 = 25;

/// A task as the page shows it: its name, and a link to what it works on.
struct TaskRow {
    job: JobRow,
    label: String,
    about: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "tasks/list.html")]
struct TasksPage {
    chrome: Chrome,
    view: Arc<TasksView>,
    kinds: Vec<(&'static str, &'static str)>,
    status: String,
    kind: String,
}

reads_its_view!(TasksPage => TasksView);

/// A page of tasks and how many are unfinished, the same for every administrator: kept
/// whole under the read version, by status, kind and page.
struct TasksView {
    tasks: Page<TaskRow>,
    unfinished: i64,
}

static TASKS_VIEWS: KeptByVersion<Arc<TasksView>> = KeptByVersion::of_anything_up_to(64);

impl TasksPage {
    fn statuses(&self) -> [JobStatus; 4] {
        JobStatus::ALL
    }
    fn link(&self, page: impl crate::web::render::Value<i64>) -> String {
        let mut q: Vec<(&str, String)> = Vec::new();
        for (k, v) in [("status", &self.status), ("kind", &self.kind)] {
            if !v.is_empty() {
                q.push((k, v.clone()));
            }
        }
        q.push(("page", page.value().to_string()));
        format!("?{}", serde_urlencoded::to_string(q).unwrap_or_default())
    }
}

#[derive(Deserialize)]
struct TasksQuery {
    status: Option<String>,
    kind: Option<String>,
    page: Option<i64>,
}

async fn tasks_page(state: web::Data<AppState>, admin: CurrentAdmin, query: web::Query<TasksQuery>) -> Reply {
    let kinds = state.registry.labels();
    let status_raw = query.status.clone().unwrap_or_default();
    let status = match status_raw.as_str() {
        "" => None,
        s => Some(JobStatus::ALL.into_iter().find(|j| j.as_str() == s).ok_or_else(|| AppError::BadRequest("Choose a status from the list.".into()))?),
    };
    let kind_raw = query.kind.clone().unwrap_or_default();
    if !kind_raw.is_empty() && !kinds.iter().any(|(k, _)| *k == kind_raw) {
        return Err(AppError::BadRequest("Choose a kind of task from the list.".into()));
    }
    let page = PageRequest::with_size(query.page, PER_PAGE);
    let kind = (!kind_raw.is_empty()).then(|| kind_raw.clone());
    let registry = state.registry.clone();
    let key = format!("{status:?}\n{kind:?}\n{page:?}");
    let view = TASKS_VIEWS
        .run_kept(&state.pool, key, move |c| {
            let found = jobs::list(c, status, kind.as_deref(), page)?;
            let contact_ids: Vec<String> = found.items.iter().filter_map(|j| j.about.as_deref()?.strip_prefix("contact:").map(str::to_owned)).collect();
            let names = contacts::contact_names(c, &contact_ids)?;
            let items = found
                .items
                .into_iter()
                .map(|job| {
                    let about = job.about.as_deref().and_then(|a| {
                        if let Some(id) = a.strip_prefix("contact:") {
                            Some((format!("/contacts/{id}"), names.get(id).cloned().unwrap_or_else(|| format!("{id} (deleted)"))))
                        } else {
                            a.strip_prefix("notification:").map(|n| (format!("/notifications?notification={n}"), format!("Notification #{n}")))
                        }
                    });
                    TaskRow { label: registry.label_of(&job.kind).to_owned(), about, job }
                })
                .collect();
            let tasks = Page { items, total: found.total, request: found.request };
            Ok::<_, AppError>(Arc::new(TasksView { tasks, unfinished: jobs::unfinished_count(c)? }))
        })
        .await?;
    html(StatusCode::OK, &TasksPage { chrome: Chrome::new(&admin, "jobs"), view, kinds, status: status_raw, kind: kind_raw })
}
