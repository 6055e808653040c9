//! SMTP connections opened by us, with `TCP_NODELAY`, for plain `smtp://` URLs.
//!
//! lettre writes a message's body and its closing `.` in two writes on a socket without
//! `TCP_NODELAY`: the second waits for the server's delayed ACK, about 40 ms an email,
//! so 16 connections sent some 320 emails a second where a plain Python sender reached
//! 4,600. Here lettre still speaks SMTP (`AsyncSmtpConnection`: EHLO, STARTTLS, AUTH,
//! MAIL/RCPT/DATA), over a socket we connect ourselves. URLs this does not understand
//! (`smtps://`, other parameters) keep lettre's own transport.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::Message;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::extension::{Extension, MailBodyParameter, MailParameter};

/// A connection idle longer than this is closed rather than reused (servers drop idle
/// clients after a few minutes; reusing one they dropped costs a failed attempt).
const IDLE: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// What `smtp://[user:password@]host[:port][?tls=required]` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub host: String,
    pub port: u16,
    pub starttls: bool,
    pub credentials: Option<(String, String)>,
}

impl Server {
    /// The URL's server, or `None` when it asks for more than this transport does.
    pub fn parse(url: &str) -> Option<Server> {
        let rest = url.strip_prefix("smtp://")?;
        let (authority, query) = rest.split_once('?').map_or((rest, None), |(a, q)| (a, Some(q)));
        let starttls = match query {
            None | Some("") => false,
            Some("tls=required") => true,
            Some(_) => return None,
        };
        let authority = authority.trim_end_matches('/');
        let (credentials, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => {
                let (user, password) = userinfo.split_once(':')?;
                let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8().ok().map(|s| s.into_owned());
                (Some((decode(user)?, decode(password)?)), host_port)
            }
            None => (None, authority),
        };
        if host_port.starts_with('[') {
            return None;
        }
        // lettre's default ports: 25 for plain SMTP, 587 (submission) with STARTTLS.
        let (host, port) = match host_port.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()?),
            None => (host_port, if starttls { 587 } else { 25 }),
        };
        if host.is_empty() || host.contains('/') {
            return None;
        }
        Some(Server { host: host.to_owned(), port, starttls, credentials })
    }
}

/// A small pool of our own connections to one server.
pub struct Direct {
    server: Server,
    hello: ClientId,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    max_idle: usize,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct").field("host", &self.server.host).field("port", &self.server.port).finish()
    }
}

type SmtpError = lettre::transport::smtp::Error;

/// Why a send failed: the recipient refused (5xx to RCPT or to the message: the address
/// bounces), permanent otherwise (a 5xx to MAIL FROM, a message the server cannot take),
/// or worth trying again.
pub enum Failure {
    Permanent(String),
    Rejected(String),
    Transient(String),
}

impl From<SmtpError> for Failure {
    fn from(e: SmtpError) -> Failure {
        if e.is_permanent() { Failure::Permanent(e.to_string()) } else { Failure::Transient(e.to_string()) }
    }
}

impl Direct {
    pub fn new(server: Server, max_idle: usize) -> Direct {
        Direct { server, hello: ClientId::default(), idle: Mutex::new(Vec::new()), max_idle: max_idle.max(1) }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, Failure> {
        let address = (self.server.host.as_str(), self.server.port);
        let stream = match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(address)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(Failure::Transient(format!("could not connect to {}:{}: {e}", self.server.host, self.server.port))),
            Err(_) => return Err(Failure::Transient(format!("no answer from {}:{} within 30 s", self.server.host, self.server.port))),
        };
        stream.set_nodelay(true).map_err(|e| Failure::Transient(e.to_string()))?;
        let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello).await?;
        if self.server.starttls {
            let tls = TlsParameters::new(self.server.host.clone())?;
            conn.starttls(tls, &self.hello).await?;
        }
        if let Some((user, password)) = &self.server.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &Credentials::new(user.clone(), password.clone())).await?;
        }
        Ok(conn)
    }

    /// A pooled connection that has not idled too long, and how long it idled.
    fn take_idle(&self) -> Option<(AsyncSmtpConnection, Duration)> {
        let mut idle = self.idle.lock().expect("smtp pool lock");
        while let Some((conn, since)) = idle.pop() {
            if since.elapsed() < IDLE && !conn.has_broken() {
                return Some((conn, since.elapsed()));
            }
        }
        None
    }

    fn give_back(&self, conn: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().expect("smtp pool lock");
        if idle.len() < self.max_idle && !conn.has_broken() {
            idle.push((conn, Instant::now()));
        }
    }

    /// Sends one message. A connection that had idled a while and fails is replaced once
    /// by a new one (the server may have closed it meanwhile); one in steady use is not,
    /// since the message may have arrived before it failed. A connection that answered
    /// 5xx is reset and kept.
    pub async fn send(&self, message: &Message) -> Result<(), Failure> {
        let envelope = message.envelope();
        let bytes = message.formatted();
        if let Some((mut conn, idled)) = self.take_idle() {
            match transact(&mut conn, envelope, &bytes).await {
                Ok(()) => {
                    self.give_back(conn);
                    return Ok(());
                }
                Err(f @ (Failure::Permanent(_) | Failure::Rejected(_))) => {
                    self.give_back(conn);
                    return Err(f);
                }
                Err(f) if idled < Duration::from_secs(1) => {
                    conn.abort().await;
                    return Err(f);
                }
                Err(_) => conn.abort().await,
            }
        }
        let mut conn = self.connect().await?;
        match transact(&mut conn, envelope, &bytes).await {
            Ok(()) => {
                self.give_back(conn);
                Ok(())
            }
            Err(f @ (Failure::Permanent(_) | Failure::Rejected(_))) => {
                self.give_back(conn);
                Err(f)
            }
            Err(f) => {
                conn.abort().await;
                Err(f)
            }
        }
    }
}

/// One SMTP transaction, each step's answer told apart (lettre's `send` does the same
/// steps but does not say which one failed): a 5xx to RCPT or to the message itself is
/// the recipient's; after any 5xx the transaction is reset so the connection can be reused.
async fn transact(conn: &mut AsyncSmtpConnection, envelope: &Envelope, bytes: &[u8]) -> Result<(), Failure> {
    async fn reset(conn: &mut AsyncSmtpConnection, e: SmtpError, rejected: bool) -> Failure {
        if !e.is_permanent() {
            return e.into();
        }
        let _ = conn.command(Rset).await;
        if rejected { Failure::Rejected(e.to_string()) } else { Failure::Permanent(e.to_string()) }
    }
    let mut options = Vec::new();
    let non_ascii = envelope.from().into_iter().chain(envelope.to()).any(|a| !AsRef::<str>::as_ref(a).is_ascii());
    if non_ascii {
        if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Err(Failure::Permanent("the mail server takes no non-ASCII address (no SMTPUTF8)".into()));
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    if !bytes.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            return Err(Failure::Permanent("the mail server takes no 8-bit message (no 8BITMIME)".into()));
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    if let Err(e) = conn.command(Mail::new(envelope.from().cloned(), options)).await {
        return Err(reset(conn, e, false).await);
    }
    for to in envelope.to() {
        if let Err(e) = conn.command(Rcpt::new(to.clone(), Vec::new())).await {
            return Err(reset(conn, e, true).await);
        }
    }
    if let Err(e) = conn.command(Data).await {
        return Err(reset(conn, e, false).await);
    }
    match conn.message(bytes).await {
        Ok(_) => Ok(()),
        Err(e) => Err(reset(conn, e, true).await),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_starttls_urls_are_ours_the_rest_stay_lettres() {
        assert_eq!(Server::parse("smtp://127.0.0.1:2525"), Some(Server { host: "127.0.0.1".into(), port: 2525, starttls: false, credentials: None }));
        assert_eq!(
            Server::parse("smtp://me%40x.org:p%3Aw@mail.example.com:587?tls=required"),
            Some(Server { host: "mail.example.com".into(), port: 587, starttls: true, credentials: Some(("me@x.org".into(), "p:w".into())) })
        );
        assert_eq!(Server::parse("smtp://mail.example.com").map(|s| s.port), Some(25));
        assert_eq!(Server::parse("smtp://mail.example.com?tls=required").map(|s| s.port), Some(587));
        assert_eq!(Server::parse("smtp://mail.example.com/ehlo-name"), None);
        assert_eq!(Server::parse("smtps://mail.example.com:465"), None);
        assert_eq!(Server::parse("smtp://mail.example.com?tls=opportunistic"), None);
        assert_eq!(Server::parse("smtp://[::1]:25"), None);
    }
}
