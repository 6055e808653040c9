//! `send_email`: delivers one email through the configured mailer, in the express lane.

use diesel::QueryResult;

use super::{Job, JobError, JobRun, Lane, Step, enqueue};
use crate::db::AnyConnection;
use crate::mail::Email;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SendEmail(pub Email);

impl Job for SendEmail {
    const KIND: &'static str = "send_email";
    const LANE: Lane = Lane::Express;

    async fn run(self, run: &JobRun) -> Result<Step, JobError> {
        run.mailer.send(&self.0).await.map_err(|e| JobError::Failed { message: e.to_string(), transient: e.is_transient() })?;
        Ok(Step::Done)
    }
}

/// Queues an email; call inside the transaction of the change that causes it.
pub fn enqueue_email(conn: &mut AnyConnection, email: &Email) -> QueryResult<i64> {
    enqueue(conn, &SendEmail(email.clone()))
}
