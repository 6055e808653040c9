//! Outgoing email: SMTP in production, a file outbox in development (shown by the
//! console's Outbox page), memory in tests. Email is only ever sent from a job.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::config::MailSetting;

pub mod smtp;
pub mod templates;

/// Who asks for an email with a single-use link, where links point, and the key that
/// seals the link while the email waits in the queue.
#[derive(Debug, Clone)]
pub struct Sender {
    pub requested_by: String,
    pub public_url: String,
    pub secrets: crate::secrets::SecretBox,
}

/// One email, as the jobs queue carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A message in the file outbox, with its file name and time.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxMessage {
    #[serde(skip)]
    pub id: String,
    pub from: String,
    pub sent_at: String,
    #[serde(flatten)]
    pub email: Email,
}

impl OutboxMessage {
    /// When it was written, in UTC (`sent_at` is RFC 3339, as stored).
    pub fn sent(&self) -> Option<time::PrimitiveDateTime> {
        let t = time::OffsetDateTime::parse(&self.sent_at, &time::format_description::well_known::Rfc3339).ok()?.to_offset(time::UtcOffset::UTC);
        Some(time::PrimitiveDateTime::new(t.date(), t.time()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("bad RDC_SMTP_URL: {0}")]
    Config(String),
    #[error("bad address: {0}")]
    Address(String),
    #[error("could not build the message: {0}")]
    Build(String),
    /// Worth another try later (connection refused, 4xx from the server…).
    #[error("the mail server did not take the message: {0}")]
    Transient(String),
    /// Will not work by trying again (5xx rejection).
    #[error("the mail server rejected the message: {0}")]
    Permanent(String),
    /// The mail server refused this recipient (5xx to RCPT, or to the message itself):
    /// the address bounces.
    #[error("the mail server refused the address: {0}")]
    Rejected(String),
    #[error("could not write to the outbox: {0}")]
    Io(#[from] std::io::Error),
}

impl MailError {
    pub fn is_transient(&self) -> bool {
        matches!(self, MailError::Transient(_) | MailError::Io(_))
    }

    /// The recipient's address was refused for good: it bounces.
    pub fn is_bounce(&self) -> bool {
        matches!(self, MailError::Rejected(_))
    }
}

/// Our own connections for plain `smtp://` URLs (see [`smtp`]), lettre's transport for
/// the rest.
#[derive(Clone)]
pub enum SmtpTransport {
    Direct(Arc<smtp::Direct>),
    Lettre(AsyncSmtpTransport<Tokio1Executor>),
}

impl SmtpTransport {
    fn from_url(url: &str, pool_size: u32) -> Result<SmtpTransport, MailError> {
        if let Some(server) = smtp::Server::parse(url) {
            return Ok(SmtpTransport::Direct(Arc::new(smtp::Direct::new(server, pool_size as usize))));
        }
        let pool = lettre::transport::smtp::PoolConfig::new().max_size(pool_size);
        Ok(SmtpTransport::Lettre(AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| MailError::Config(e.to_string()))?.pool_config(pool).build()))
    }

    async fn send(&self, message: Message) -> Result<(), MailError> {
        match self {
            SmtpTransport::Direct(direct) => direct.send(&message).await.map_err(|f| match f {
                smtp::Failure::Permanent(e) => MailError::Permanent(e),
                smtp::Failure::Rejected(e) => MailError::Rejected(e),
                smtp::Failure::Transient(e) => MailError::Transient(e),
            }),
            SmtpTransport::Lettre(transport) => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| if e.is_permanent() { MailError::Permanent(e.to_string()) } else { MailError::Transient(e.to_string()) }),
        }
    }
}

#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: SmtpTransport,
        from: Mailbox,
    },
    File {
        dir: PathBuf,
        from: String,
    },
    /// Kept in memory (tests); `delay` makes each send take that long, like a slow server,
    /// and the addresses in `refused` are answered as a server answers a dead mailbox.
    Memory {
        sent: Arc<Mutex<Vec<Email>>>,
        delay: Option<std::time::Duration>,
        refused: Arc<Mutex<Vec<String>>>,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Smtp { .. } => f.write_str("Mailer::Smtp"),
            Mailer::File { dir, .. } => write!(f, "Mailer::File({})", dir.display()),
            Mailer::Memory { .. } => f.write_str("Mailer::Memory"),
        }
    }
}

impl Mailer {
    pub fn from_setting(setting: &MailSetting, from: &str) -> Result<Mailer, MailError> {
        Ok(match setting {
            MailSetting::Smtp(url) => {
                let transport = SmtpTransport::from_url(url, 4)?;
                Mailer::Smtp { transport, from: from.parse().map_err(|e: lettre::address::AddressError| MailError::Config(format!("RDC_MAIL_FROM: {e}")))? }
            }
            MailSetting::File(dir) => {
                // The outbox holds links in the clear: only the server's user may read it.
                crate::config::private_dir(dir)?;
                Mailer::File { dir: dir.clone(), from: from.to_owned() }
            }
            MailSetting::Memory => Mailer::Memory { sent: Arc::default(), delay: None, refused: Arc::default() },
        })
    }

    /// The mailer `serve` uses: SMTP keeps as many pooled connections as a notification
    /// sends emails at once.
    pub fn for_settings(settings: &crate::config::Settings) -> Result<Mailer, MailError> {
        match &settings.mail {
            MailSetting::Smtp(url) => {
                let transport = SmtpTransport::from_url(url, settings.jobs.send_concurrency as u32)?;
                let from = settings.mail_from.parse().map_err(|e: lettre::address::AddressError| MailError::Config(format!("RDC_MAIL_FROM: {e}")))?;
                Ok(Mailer::Smtp { transport, from })
            }
            other => Mailer::from_setting(other, &settings.mail_from),
        }
    }

    /// A memory mailer whose every send takes `delay` (tests of a slow mail server).
    pub fn memory_with_delay(delay: std::time::Duration) -> Mailer {
        Mailer::Memory { sent: Arc::default(), delay: Some(delay), refused: Arc::default() }
    }

    /// A memory mailer answers `550` for `address` from now on (tests of bounces).
    pub fn refuse(&self, address: &str) {
        if let Mailer::Memory { refused, .. } = self {
            refused.lock().expect("mailer lock").push(address.to_lowercase());
        }
    }

    /// A memory mailer takes mail for `address` again (its mailbox was fixed).
    pub fn accept(&self, address: &str) {
        if let Mailer::Memory { refused, .. } = self {
            refused.lock().expect("mailer lock").retain(|a| *a != address.to_lowercase());
        }
    }

    /// What a memory mailer has sent, oldest first (empty for the others).
    pub fn sent(&self) -> Vec<Email> {
        match self {
            Mailer::Memory { sent, .. } => sent.lock().expect("mailer lock").clone(),
            _ => Vec::new(),
        }
    }

    /// Where the file outbox is, if this mailer writes one.
    pub fn outbox_dir(&self) -> Option<&Path> {
        match self {
            Mailer::File { dir, .. } => Some(dir),
            _ => None,
        }
    }

    pub async fn send(&self, email: &Email) -> Result<(), MailError> {
        let outcome = self.deliver(email).await;
        crate::observability::email(outcome.is_ok());
        outcome
    }

    async fn deliver(&self, email: &Email) -> Result<(), MailError> {
        match self {
            Mailer::Smtp { transport, from } => {
                let to: Mailbox = email.to.parse().map_err(|e: lettre::address::AddressError| MailError::Address(format!("{}: {e}", email.to)))?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(&email.subject)
                    .multipart(MultiPart::alternative_plain_html(email.text.clone(), email.html.clone()))
                    .map_err(|e| MailError::Build(e.to_string()))?;
                transport.send(message).await
            }
            Mailer::File { dir, from } => {
                let now = time::OffsetDateTime::now_utc();
                let sent_at = now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
                let id = format!("{}-{}", now.unix_timestamp_nanos(), uuid::Uuid::new_v4().simple());
                let message = OutboxMessage { id: id.clone(), from: from.clone(), sent_at, email: email.clone() };
                let json = serde_json::to_vec_pretty(&message).map_err(|e| MailError::Build(e.to_string()))?;
                let (tmp, done) = (dir.join(format!("{id}.tmp")), dir.join(format!("{id}.json")));
                tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    std::io::Write::write_all(&mut crate::config::private_file(&tmp)?, &json)?;
                    std::fs::rename(&tmp, &done)
                })
                .await
                .map_err(|e| MailError::Io(std::io::Error::other(e)))??;
                Ok(())
            }
            Mailer::Memory { sent, delay, refused } => {
                if let Some(d) = delay {
                    tokio::time::sleep(*d).await;
                }
                if refused.lock().expect("mailer lock").contains(&email.to.to_lowercase()) {
                    return Err(MailError::Rejected(format!("550 5.1.1 <{}>: mailbox unavailable", email.to)));
                }
                sent.lock().expect("mailer lock").push(email.clone());
                Ok(())
            }
        }
    }
}

/// The file outbox, newest first: one page of messages and the total count.
pub fn read_outbox(dir: &Path, offset: usize, limit: usize) -> std::io::Result<(Vec<OutboxMessage>, usize)> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(|e| e.ok()).filter_map(|e| e.file_name().into_string().ok()).filter(|n| n.ends_with(".json")).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    names.sort_by(|a, b| b.cmp(a));
    let total = names.len();
    let mut out = Vec::new();
    for name in names.into_iter().skip(offset).take(limit) {
        if let Some(m) = read_outbox_message(dir, name.trim_end_matches(".json"))? {
            out.push(m);
        }
    }
    Ok((out, total))
}

/// One message of the file outbox by id; `None` when there is no such message.
pub fn read_outbox_message(dir: &Path, id: &str) -> std::io::Result<Option<OutboxMessage>> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Ok(None);
    }
    match std::fs::read(dir.join(format!("{id}.json"))) {
        Ok(bytes) => Ok(serde_json::from_slice::<OutboxMessage>(&bytes).ok().map(|mut m| {
            m.id = id.to_owned();
            m
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
