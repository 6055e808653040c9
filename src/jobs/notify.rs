//! The two jobs of a notification: fan-out (deliveries for each member's recipients,
//! batch by batch) and sending (concurrently over the mailer's pooled connections).

use futures_util::StreamExt;

use super::{JobContext, JobError};
use crate::db;
use crate::domain::MessageType;
use crate::mail::templates::{NotificationMail, notification_email};
use crate::notifications::{self, FanOut, Outcome, Send};

const FAN_OUT_BATCH: i64 = 5_000;
const SEND_BATCH: i64 = 200;
const CONCURRENCY: usize = 16;

fn failed(e: impl std::fmt::Display) -> JobError {
    JobError::Failed { message: e.to_string(), transient: true }
}

pub async fn fan_out(ctx: &JobContext, id: i64, payload: &str) -> Result<(), JobError> {
    let mut state: FanOut = serde_json::from_str(payload)?;
    loop {
        let s = state.clone();
        match db::run(&ctx.pool, move |c| notifications::fan_out_step(c, id, &s, FAN_OUT_BATCH).map_err(failed)).await? {
            Some(next) => state = next,
            None => return Ok(()),
        }
    }
}

/// Sends every pending delivery once; transient failures stay `retrying` and fail the
/// job transiently, so the queue tries them again after its backoff.
pub async fn send(ctx: &JobContext, payload: &str) -> Result<(), JobError> {
    let job: Send = serde_json::from_str(payload)?;
    let mut after = 0;
    loop {
        let n = job.notification_id;
        let (notification, batch) = db::run(&ctx.pool, move |c| notifications::pending(c, n, after, SEND_BATCH).map_err(failed)).await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        let label = MessageType::parse(&notification.message_type).map(|t| t.label()).unwrap_or("Notification");
        let outcomes: Vec<Outcome> = futures_util::stream::iter(batch.into_iter().map(|p| {
            let mail = notification_email(&NotificationMail {
                to: &p.address,
                type_label: label,
                subject: &notification.subject,
                content: &notification.content,
                account_name: &p.account_name,
                account_id: &p.account_id,
            });
            let mailer = ctx.mailer.clone();
            async move {
                let error = match mail {
                    Ok(email) => mailer.send(&email).await.err().map(|e| (e.to_string(), e.is_transient())),
                    Err(e) => Some((e.to_string(), false)),
                };
                Outcome { delivery: p.id, attempts: p.attempts, error }
            }
        }))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
        db::run(&ctx.pool, move |c| notifications::record(c, &outcomes).map_err(failed)).await?;
    }
    let n = job.notification_id;
    let retrying = db::run(&ctx.pool, move |c| notifications::retrying_count(c, n).map_err(failed)).await?;
    if retrying > 0 {
        return Err(JobError::Failed { message: format!("{retrying} deliveries will be tried again"), transient: true });
    }
    Ok(())
}
