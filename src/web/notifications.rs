//! The Notifications page (the delivery log, filtered and paginated) and "Send test
//! notification" on a member's page.

use std::sync::Arc;

use crate::web::Reply;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::session::{CsrfForm, CurrentAdmin};
use super::{Chrome, html, redirect};
use crate::db;
use crate::domain::{AccountId, MessageType, PageRequest, TargetId};
use crate::notifications::delivery::DeliveryStatus;
use crate::notifications::{self, LogFilter, LogView, NewNotification, NotifyError};
use crate::state::AppState;
use crate::web::AppError;
use crate::web::filters;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/notifications", web::get().to(log_page))
        .route("/notifications", web::post().to(publish))
        .route("/notifications/new", web::get().to(new_form))
        .route("/members/{id}/test-notification", web::post().to(send_test));
}

#[derive(Deserialize)]
struct LogQuery {
    notification: Option<i64>,
    member: Option<String>,
    r#type: Option<String>,
    outcome: Option<String>,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "notifications/log.html")]
struct LogPage {
    chrome: Chrome,
    /// A page of the log, and the selected notification or the most recent ones, with
    /// their counts.
    view: Arc<LogView>,
    member: String,
    message_type: String,
    outcome: String,
    notification: Option<i64>,
    types: [MessageType; 6],
    pending: bool,
}

reads_its_view!(LogPage => LogView);

impl LogPage {
    /// A stored message type by its label ("Security"); an unknown one as it is.
    fn type_label<'a>(&self, api_name: &'a str) -> &'a str {
        match MessageType::parse(api_name) {
            Ok(t) => t.label(),
            Err(_) => api_name,
        }
    }
    fn outcomes(&self) -> [DeliveryStatus; 6] {
        DeliveryStatus::ALL
    }
    fn is_outcome(&self, o: &DeliveryStatus) -> bool {
        self.outcome == o.as_str()
    }
    fn link(&self, page: impl crate::web::render::Value<i64>) -> String {
        let mut q = vec![("page".to_owned(), page.value().to_string())];
        if let Some(n) = self.notification {
            q.push(("notification".into(), n.to_string()));
        }
        for (k, v) in [("member", &self.member), ("type", &self.message_type), ("outcome", &self.outcome)] {
            if !v.is_empty() {
                q.push((k.into(), v.clone()));
            }
        }
        format!("?{}", serde_urlencoded::to_string(q).unwrap_or_default())
    }
}

async fn log_page(state: web::Data<AppState>, admin: CurrentAdmin, query: web::Query<LogQuery>) -> Reply {
    let member = query.member.clone().unwrap_or_default().trim().to_owned();
    if !member.is_empty() && AccountId::parse(&member).is_err() {
        return Err(AppError::BadRequest("A member id is 16 digits: check the Member id filter.".into()));
    }
    let message_type = query.r#type.clone().unwrap_or_default();
    let status = query.outcome.as_deref().and_then(DeliveryStatus::parse);
    let outcome = status.map(|s| s.as_str().to_owned()).unwrap_or_default();
    let filter = LogFilter {
        notification: query.notification,
        account: (!member.is_empty()).then(|| member.clone()),
        message_type: MessageType::parse(&message_type).ok(),
        status,
    };
    let page = PageRequest::with_size(query.page, 50);
    let latest = if query.notification.is_some() { 1 } else { 5 };
    let view = notifications::log_page(&state.pool, filter, page, latest).await?;
    let pending = view.summaries.iter().any(|s| s.notification.finished_at.is_none());
    html(
        StatusCode::OK,
        &LogPage {
            chrome: Chrome::new(&admin, "notifications"),
            view,
            member,
            message_type,
            outcome,
            notification: query.notification,
            types: MessageType::ALL,
            pending,
        },
    )
}

#[derive(Deserialize)]
struct TestForm {
    message_type: String,
}

async fn send_test(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<TestForm>) -> Reply {
    let account = AccountId::parse(&path).map_err(|_| AppError::NotFound(format!("There is no member {}.", path.as_str())))?;
    let t = MessageType::parse(&form.data.message_type).map_err(|e| AppError::BadRequest(e.message))?;
    let new = NewNotification::parse(
        t,
        "Test notification",
        &format!("This is a test {} notification sent by {} from the rd-contacts console.", t.label(), admin.username),
    )?;
    let actor = admin.actor();
    let (n, members) = db::run(&state.pool, move |c| {
        let scope = format!("test-notification:{account}");
        notifications::publish(c, &new, Some(&TargetId::Account(account.clone())), &actor, Some((&scope, crate::limits::TEST_NOTIFICATIONS_PER_MEMBER)))
    })
    .await?;
    admin.flash.say(if members > 0 { format!("Test notification #{} is on its way.", n.id) } else { "The member is no longer in the directory.".to_owned() });
    Ok(redirect(&format!("/notifications?notification={}", n.id)))
}

// ---------------------------------------------------------------- publishing

/// The publish form, with what was typed and what was wrong.
#[derive(Default)]
struct PublishForm {
    message_type: String,
    subject: String,
    content: String,
    /// "directory", "folder" or "member".
    scope: String,
    folder: String,
    member: String,
    type_error: Option<String>,
    subject_error: Option<String>,
    content_error: Option<String>,
    target_error: Option<String>,
    form_error: Option<String>,
}

impl PublishForm {
    fn has_errors(&self) -> bool {
        self.type_error.is_some() || self.subject_error.is_some() || self.content_error.is_some() || self.target_error.is_some() || self.form_error.is_some()
    }
}

#[derive(Template)]
#[template(path = "notifications/new.html")]
struct PublishPage {
    chrome: Chrome,
    form: PublishForm,
    folders: Vec<crate::directory::FolderOption>,
    types: [MessageType; 6],
}

impl PublishPage {
    fn indent(&self, f: &crate::directory::FolderOption) -> String {
        "\u{a0}\u{a0}".repeat(f.depth.max(0) as usize)
    }
    fn scope_is(&self, s: &str) -> bool {
        self.form.scope == s || (self.form.scope.is_empty() && s == "directory")
    }
}

async fn render_publish(state: &AppState, admin: &CurrentAdmin, form: PublishForm) -> Reply {
    let folders = db::run(&state.pool, crate::directory::folder_options).await?;
    let status = if form.has_errors() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    html(status, &PublishPage { chrome: Chrome::new(admin, "notifications"), form, folders, types: MessageType::ALL })
}

#[derive(Deserialize)]
struct NewQuery {
    folder: Option<String>,
    member: Option<String>,
}

/// The publish form; `?folder=` or `?member=` (from a folder's or a member's page) picks the target.
async fn new_form(state: web::Data<AppState>, admin: CurrentAdmin, query: web::Query<NewQuery>) -> Reply {
    let mut form = PublishForm { message_type: MessageType::SecurityMessage.api_name().into(), ..Default::default() };
    if let Some(f) = query.folder.as_deref().filter(|f| !f.is_empty()) {
        (form.scope, form.folder) = ("folder".into(), f.to_owned());
    } else if let Some(m) = query.member.as_deref().filter(|m| !m.is_empty()) {
        (form.scope, form.member) = ("member".into(), m.to_owned());
    }
    render_publish(&state, &admin, form).await
}

#[derive(Deserialize)]
struct PublishFields {
    #[serde(default)]
    message_type: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    folder: String,
    #[serde(default)]
    member: String,
}

/// Publishes a notification from the console, as PublishNotification does for the API.
async fn publish(state: web::Data<AppState>, admin: CurrentAdmin, form: CsrfForm<PublishFields>) -> Reply {
    let f = form.data;
    let mut shown = PublishForm {
        message_type: f.message_type.clone(),
        subject: f.subject.clone(),
        content: f.content.clone(),
        scope: f.scope.clone(),
        folder: f.folder.clone(),
        member: f.member.clone(),
        ..Default::default()
    };
    let message_type = MessageType::parse(&f.message_type).map_err(|_| "Choose a message type".to_owned());
    let target = match f.scope.as_str() {
        "" | "directory" => Ok(None),
        "folder" => crate::domain::FolderId::parse(&f.folder).map(|id| Some(TargetId::Folder(id))).map_err(|_| "Choose a folder".to_owned()),
        "member" => AccountId::parse(&f.member).map(|id| Some(TargetId::Account(id))).map_err(|e| e.message),
        _ => Err("Choose whom the notification is for".to_owned()),
    };
    let (new, target) = match (message_type, target) {
        (Ok(t), Ok(target)) => match NewNotification::parse(t, &f.subject, &f.content) {
            Ok(new) => (new, target),
            Err(NotifyError::InvalidSubject(m)) => return render_publish(&state, &admin, PublishForm { subject_error: Some(m), ..shown }).await,
            Err(NotifyError::InvalidContent(m)) => return render_publish(&state, &admin, PublishForm { content_error: Some(m), ..shown }).await,
            Err(e) => return Err(e.into()),
        },
        (t, target) => {
            shown.type_error = t.err();
            shown.target_error = target.err();
            return render_publish(&state, &admin, shown).await;
        }
    };
    let who = admin.username.clone();
    let scope = format!("publish-console:{who}");
    let actor = admin.actor();
    match db::run(&state.pool, move |c| notifications::publish(c, &new, target.as_ref(), &actor, Some((&scope, crate::limits::PUBLISH_PER_KEY)))).await {
        Ok((n, members)) => {
            admin.flash.say(format!(
                "Notification #{} is published to {}.",
                n.id,
                if members == 1 { "1 member".to_owned() } else { format!("{members} members") }
            ));
            Ok(redirect(&format!("/notifications?notification={}", n.id)))
        }
        Err(e @ NotifyError::InvalidTarget(_)) => render_publish(&state, &admin, PublishForm { target_error: Some(e.to_string()), ..shown }).await,
        Err(e @ NotifyError::Throttled(_)) => render_publish(&state, &admin, PublishForm { form_error: Some(e.to_string()), ..shown }).await,
        Err(e) => Err(e.into()),
    }
}
