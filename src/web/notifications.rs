//! The Notifications page (the delivery log, filtered and paginated) and "Send test
//! notification" on a member's page.

use crate::web::Reply;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::session::{CsrfForm, CurrentAdmin};
use super::{Chrome, html, redirect};
use crate::db;
use crate::domain::{AccountId, MessageType, Page, PageRequest, TargetId};
use crate::notifications::delivery::DeliveryStatus;
use crate::notifications::{self, LogFilter, LogLine, NewNotification, Summary};
use crate::state::AppState;
use crate::web::AppError;
use crate::web::filters;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/notifications", web::get().to(log_page)).route("/members/{id}/test-notification", web::post().to(send_test));
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
    lines: Page<LogLine>,
    member: String,
    message_type: String,
    outcome: String,
    notification: Option<i64>,
    types: [MessageType; 6],
    pending: bool,
    /// The selected notification, or the most recent ones, with their counts.
    summaries: Vec<Summary>,
}

impl LogPage {
    fn outcomes(&self) -> [DeliveryStatus; 5] {
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
    let notification = query.notification;
    let (lines, summaries) = db::run(&state.pool, move |c| {
        let lines = notifications::log(c, &filter, page)?;
        let summaries = notifications::summaries(c, notification, if notification.is_some() { 1 } else { 5 })?;
        Ok::<_, AppError>((lines, summaries))
    })
    .await?;
    let pending = summaries.iter().any(|s| s.notification.finished_at.is_none());
    html(
        StatusCode::OK,
        &LogPage {
            chrome: Chrome::new(&admin, "notifications"),
            lines,
            member,
            message_type,
            outcome,
            notification: query.notification,
            types: MessageType::ALL,
            pending,
            summaries,
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
    let who = admin.username.clone();
    let (n, _) = db::run(&state.pool, move |c| {
        let scope = format!("test-notification:{account}");
        notifications::publish(c, &new, Some(&TargetId::Account(account.clone())), &who, Some((&scope, crate::limits::TEST_NOTIFICATIONS_PER_MEMBER)))
    })
    .await?;
    Ok(redirect(&format!("/notifications?notification={}", n.id)))
}
