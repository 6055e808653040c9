//! `send_email`: delivers one email through the configured mailer, in the express lane.
//!
//! An email that carries a single-use link (verification, invitation) is queued with a
//! slot where the link goes and the link itself sealed: the raw token is never stored in
//! the clear. The link is put in when the email is sent, and a finished job's payload is
//! erased (rule T3).

use diesel::QueryResult;

use super::{Job, JobError, JobRun, Lane, Step, enqueue};
use crate::db::AnyConnection;
use crate::mail::Email;
use crate::secrets::SecretBox;

/// Where an email's link goes until it is sent.
pub const LINK_SLOT: &str = "{{rdc-link}}";

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SendEmail {
    #[serde(flatten)]
    pub email: Email,
    /// The link for `LINK_SLOT`, sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_link: Option<String>,
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#x27;")
}

impl SendEmail {
    /// The email as it goes out: the link opened and put in its slot.
    pub fn open(&self, secrets: &SecretBox) -> Result<Email, JobError> {
        let Some(sealed) = &self.sealed_link else { return Ok(self.email.clone()) };
        let link = secrets
            .open(sealed)
            .ok_or_else(|| JobError::Failed { message: "the email's link could not be opened: was RDC_SECRET_KEY changed?".into(), transient: false })?;
        Ok(Email { text: self.email.text.replace(LINK_SLOT, &link), html: self.email.html.replace(LINK_SLOT, &html_escape(&link)), ..self.email.clone() })
    }
}

impl Job for SendEmail {
    const KIND: &'static str = "send_email";
    const LABEL: &'static str = "Sending an email";
    const LANE: Lane = Lane::Express;

    async fn run(self, run: &JobRun) -> Result<Step, JobError> {
        let email = self.open(&run.secrets)?;
        if let Err(e) = run.mailer.send(&email).await {
            if e.is_bounce() {
                let (to, answer) = (email.to.clone(), e.to_string());
                crate::db::run(&run.pool, move |c| Ok::<_, JobError>(crate::bounces::mark(c, &to, &answer, &crate::audit::Actor::mail_server())?)).await?;
            }
            return Err(JobError::Failed { message: e.to_string(), transient: e.is_transient() });
        }
        Ok(Step::Done)
    }
}

/// Queues an email; call inside the transaction of the change that causes it.
pub fn enqueue_email(conn: &mut AnyConnection, email: &Email) -> QueryResult<i64> {
    enqueue(conn, &SendEmail { email: email.clone(), sealed_link: None })
}

/// Queues an email that someone asked for (a test email), within the limit of mail to
/// its address; `Err` says when the next one may go.
pub fn enqueue_limited(conn: &mut AnyConnection, email: &Email) -> QueryResult<Result<i64, crate::limits::Exceeded>> {
    crate::db::transaction(conn, |conn| {
        Ok(match crate::limits::take(conn, &crate::limits::mail_scope(&email.to), crate::limits::MAIL_PER_ADDRESS)? {
            Ok(_) => Ok(enqueue_email(conn, email)?),
            Err(e) => Err(e),
        })
    })
}

/// Queues an email whose text and HTML hold `LINK_SLOT` where `link` goes; the link is
/// stored sealed.
pub fn enqueue_with_link(conn: &mut AnyConnection, email: &Email, link: &str, secrets: &SecretBox) -> QueryResult<i64> {
    enqueue(conn, &SendEmail { email: email.clone(), sealed_link: Some(secrets.seal(link)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t3_a_queued_link_is_sealed_and_put_in_only_when_sent() {
        let secrets = SecretBox::new(b"a test secret key that is long enough for cookies and sealing, 64+ bytes");
        let link = "https://rdc.example/verify/AbC_123-xyz&x=1";
        let email =
            Email { to: "a@example.com".into(), subject: "s".into(), text: format!("Open {LINK_SLOT}"), html: format!("<a href=\"{LINK_SLOT}\">open</a>") };
        let job = SendEmail { email, sealed_link: Some(secrets.seal(link)) };
        let payload = serde_json::to_string(&job).unwrap();
        assert!(!payload.contains("AbC_123-xyz"), "the token is not in the payload: {payload}");
        let sent = serde_json::from_str::<SendEmail>(&payload).unwrap().open(&secrets).unwrap();
        assert_eq!(sent.text, format!("Open {link}"));
        assert_eq!(sent.html, "<a href=\"https://rdc.example/verify/AbC_123-xyz&amp;x=1\">open</a>");
        let other = SecretBox::new(b"another key that is long enough to be a real key for this test, 64+");
        assert!(job.open(&other).is_err(), "a changed key refuses to open it");
    }

    #[test]
    fn an_email_queued_before_links_were_sealed_still_reads() {
        let old = r#"{"to":"a@example.com","subject":"s","text":"t","html":"h"}"#;
        let job: SendEmail = serde_json::from_str(old).unwrap();
        assert!(job.sealed_link.is_none());
    }
}
