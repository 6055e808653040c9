//! `send_email`: delivers one email through the configured mailer.

use diesel::QueryResult;

use super::{JobContext, JobError, enqueue};
use crate::db::AnyConnection;
use crate::mail::Email;

pub const KIND: &str = "send_email";

/// Queues an email; call inside the transaction of the change that causes it.
pub fn enqueue_email(conn: &mut AnyConnection, email: &Email) -> QueryResult<i64> {
    enqueue(conn, KIND, email)
}

pub async fn run(ctx: &JobContext, payload: &str) -> Result<(), JobError> {
    let email: Email = serde_json::from_str(payload)?;
    ctx.mailer.send(&email).await.map_err(|e| JobError::Failed { message: e.to_string(), transient: e.is_transient() })
}
