//! `rd-contacts bench notify`: publishes a notification to the largest folder subtree of
//! the directory (filled with demo data first if empty), runs its fan-out and sending
//! against a local SMTP sink on loopback, and prints emails per second.

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
    let mailer = Mailer::from_setting(&MailSetting::Smtp(format!("smtp://127.0.0.1:{port}")), &settings.mail_from)?;
    let pool = db::connect(&settings.database_url, 4)?;
    let (folder, members) = {
        let mut conn = pool.get()?;
        directory::ensure_directory(&mut conn, "Management account")?;
        let (f, m) = directory::directory_counts(&mut conn)?;
        if f == 0 && m == 0 {
            directory::demo::fill(&mut conn, folders_wanted, members_wanted)?;
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
    let (n, _) = db::run(&pool, move |c| notifications::publish(c, &new, Some(&target), "bench", None).map_err(BoxError::from)).await?;
    let ctx = JobContext {
        pool: pool.clone(),
        mailer,
        secrets: crate::secrets::SecretBox::new(secrecy::ExposeSecret::expose_secret(&settings.secret_key)),
        settings: settings.jobs.clone(),
        registry: std::sync::Arc::new(crate::startup::job_registry()),
    };
    jobs::run_pending_jobs(&ctx).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let id = n.id;
    let sent: i64 = db::run(&pool, move |c| {
        deliveries::table.filter(deliveries::notification_id.eq(id)).filter(deliveries::status.eq("sent")).count().get_result::<i64>(c).map_err(BoxError::from)
    })
    .await?;
    println!(
        "notification to {members} members of folder {folder}: {sent} emails sent ({} received by the SMTP sink) in {elapsed:.2} s = {:.0} emails/s",
        count.load(Ordering::Relaxed),
        sent as f64 / elapsed
    );
    Ok(())
}
