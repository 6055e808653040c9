//! `rd-contacts bench notify`: publishes a notification to the largest folder subtree of
//! the directory (filled with demo data first if empty), runs its fan-out and sending
//! against a local SMTP sink on loopback, and prints emails per second; then a plain
//! Python `smtplib` sender (as many connections as ours) sends as many emails of the same
//! size to the same sink, and the ratio of the two rates is printed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use diesel::prelude::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::config::{MailSetting, Settings};
use crate::db::schema::folders;
use crate::db::{self, schema::deliveries};
use crate::directory;
use crate::domain::{FolderId, MessageType, TargetId};
use crate::errors::BoxError;
use crate::jobs::{self, JobContext};
use crate::mail::Mailer;
use crate::notifications::{self, NewNotification};

/// A minimal SMTP server that accepts every message and counts them.
async fn smtp_sink(count: Arc<AtomicUsize>) -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply: &[u8] = if in_data {
                        if line == "." {
                            in_data = false;
                            count.fetch_add(1, Ordering::Relaxed);
                            b"250 OK\r\n"
                        } else {
                            continue;
                        }
                    } else {
                        match line.get(..4).map(str::to_ascii_uppercase).as_deref() {
                            Some("EHLO") | Some("HELO") => b"250-sink\r\n250 PIPELINING\r\n",
                            Some("DATA") => {
                                in_data = true;
                                b"354 go on\r\n"
                            }
                            Some("QUIT") => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                break;
                            }
                            _ => b"250 OK\r\n",
                        }
                    };
                    if write.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    Ok(port)
}

pub async fn run(settings: Settings, folders_wanted: usize, members_wanted: usize) -> Result<(), BoxError> {
    let count = Arc::new(AtomicUsize::new(0));
    let port = smtp_sink(count.clone()).await?;
    // Pooled as `serve` pools it: as many connections as a notification sends at once.
    let mut with_sink = settings.clone();
    with_sink.mail = MailSetting::Smtp(format!("smtp://127.0.0.1:{port}"));
    let mailer = Mailer::for_settings(&with_sink)?;
    let pool = db::connect(&settings.database_url, 4)?;
    let (folder, members) = {
        let mut conn = pool.get()?;
        directory::ensure_directory(&mut conn, "Management account")?;
        let (f, m) = directory::directory_counts(&mut conn)?;
        if f == 0 && m == 0 {
            directory::demo::fill(&mut conn, folders_wanted, members_wanted, &crate::audit::Actor::cli())?;
        }
        // The top-level folder whose subtree holds the most members.
        let tops: Vec<(String, String)> = folders::table.filter(folders::depth.eq(1)).select((folders::id, folders::path)).load(&mut **conn)?;
        let mut best = (String::new(), -1);
        for (id, path) in tops {
            let n = crate::contacts::propagation::covered_count(&mut conn, &crate::contacts::propagation::Scope::Subtree { path })?;
            if n > best.1 {
                best = (id, n);
            }
        }
        best
    };
    let new = NewNotification::parse(MessageType::SecurityMessage, "Benchmark", "A benchmark notification.")?;
    let target = TargetId::Folder(FolderId::parse(&folder)?);
    let started = Instant::now();
    let (n, _) = db::run(&pool, move |c| notifications::publish(c, &new, Some(&target), &crate::audit::Actor::cli(), None).map_err(BoxError::from)).await?;
    let ctx = JobContext {
        pool: pool.clone(),
        mailer,
        secrets: crate::secrets::SecretBox::new(secrecy::ExposeSecret::expose_secret(&settings.secret_key)),
        settings: settings.jobs.clone(),
        registry: std::sync::Arc::new(crate::startup::job_registry()),
        public_url: settings.public_url.clone(),
    };
    jobs::run_pending_jobs(&ctx).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let id = n.id;
    let sent: i64 = db::run(&pool, move |c| {
        deliveries::table.filter(deliveries::notification_id.eq(id)).filter(deliveries::status.eq("sent")).count().get_result::<i64>(c).map_err(BoxError::from)
    })
    .await?;
    let rate = sent as f64 / elapsed;
    println!(
        "notification to {members} members of folder {folder}: {sent} emails sent ({} received by the SMTP sink) in {elapsed:.2} s = {rate:.0} emails/s",
        count.load(Ordering::Relaxed),
    );
    let connections = settings.jobs.send_concurrency.max(1);
    let emails = (sent as usize).max(1_000);
    let script = std::env::temp_dir().join(format!("rdc-smtplib-{}.py", std::process::id()));
    std::fs::write(&script, SMTPLIB_SENDER)?;
    let command = script.clone();
    // Off the runtime's threads: the sink answers on them meanwhile.
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3").arg(&command).args(["127.0.0.1", &port.to_string(), &emails.to_string(), &connections.to_string()]).output()
    })
    .await?;
    let _ = std::fs::remove_file(&script);
    match out {
        Ok(out) if out.status.success() => {
            let python: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().map_err(|_| "could not read the smtplib sender's rate")?;
            println!(
                "python smtplib, {connections} connections, {emails} emails to the same sink: {python:.0} emails/s; ours is {:.0}% of it",
                rate / python * 100.0
            );
        }
        Ok(out) => println!("the smtplib sender failed: {}", String::from_utf8_lossy(&out.stderr).trim()),
        Err(e) => println!("no smtplib comparison (python3: {e})"),
    }
    Ok(())
}

/// A plain sender: `connections` threads, each with one SMTP connection, sending its
/// share of `emails` messages of about the size of ours (text and HTML parts); prints
/// emails per second.
const SMTPLIB_SENDER: &str = r#"
import smtplib, sys, threading, time
host, port, emails, connections = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
body = "A benchmark notification. " * 60
def message(to):
    return ("From: rd-contacts <bench@example.com>\r\nTo: " + to + "\r\nSubject: [Security] Benchmark\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n"
            "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>" + body + "</p>\r\n--b--\r\n")
def worker(k):
    s = smtplib.SMTP(host, port)
    for i in range(k, emails, connections):
        to = "member%d@example.com" % i
        s.sendmail("bench@example.com", [to], message(to))
    s.quit()
started = time.perf_counter()
threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
for t in threads: t.start()
for t in threads: t.join()
print(emails / (time.perf_counter() - started))
"#;
