//! The two jobs of a notification: fan-out (deliveries for each member's recipients,
//! batch by batch) and sending (each delivery claimed, sent, and its outcome recorded).

use futures_util::StreamExt;

use super::delivery::{self, Claimed, Outcome};
use super::{FanOut, Notification, SendNotification, fan_out_step};
use crate::db::{self, AnyConnection};
use crate::domain::MessageType;
use crate::jobs::{self, Job, JobError, JobRun, Step};
use crate::mail::Mailer;
use crate::mail::templates::{NotificationMail, notification_email};

impl Job for FanOut {
    const KIND: &'static str = "notification_fan_out";
    const LABEL: &'static str = "Preparing a notification's deliveries";

    fn about(&self) -> Option<String> {
        Some(format!("notification:{}", self.notification_id))
    }

    async fn run(self, run: &JobRun) -> Result<Step, JobError> {
        let mut state = self;
        // Batches sized by time, as a binding's are.
        let mut pace = jobs::Pace::new(run.settings.propagation_batch);
        loop {
            let (s, lease, batch) = (state.clone(), run.lease.clone(), pace.size());
            let (next, took) = db::run(&run.pool, move |c| {
                let started = std::time::Instant::now();
                let next = fan_out_step(c, &lease, &s, batch).map_err(JobError::transient)?;
                Ok::<_, JobError>((next, started.elapsed()))
            })
            .await?;
            pace.took(took);
            match next {
                Some(next) => state = next,
                None => {
                    // Only a help to the planner: the fan-out is done (and its sending
                    // enqueued) whether or not this works.
                    let n = state.notification_id;
                    if let Err(e) = db::run(&run.pool, move |c| delivery::refresh_statistics(c, n).map_err(JobError::transient)).await {
                        tracing::warn!(error = %e, notification.id = n, "the deliveries' statistics were not refreshed");
                    }
                    return Ok(Step::Done);
                }
            }
        }
    }

    /// The members reached so far still get their emails; the notification says why
    /// the others did not.
    fn give_up(self, conn: &mut AnyConnection, _job: i64, reason: &str) -> diesel::QueryResult<()> {
        delivery::record_gave_up(conn, self.notification_id, &format!("its recipients could not all be listed ({reason})"))?;
        jobs::enqueue(conn, &SendNotification { notification_id: self.notification_id })?;
        Ok(())
    }
}

/// Sends one delivery's email.
async fn attempt(mailer: &Mailer, notification: &Notification, label: &str, d: Claimed) -> Outcome {
    let mail = notification_email(&NotificationMail {
        to: &d.address,
        type_label: label,
        subject: &notification.subject,
        content: &notification.content,
        account_name: &d.account_name,
        account_id: &d.account_id,
    });
    let (error, bounced) = match mail {
        Ok(email) => match mailer.send(&email).await {
            Ok(()) => (None, None),
            Err(e) => (Some((e.to_string(), e.is_transient())), e.is_bounce().then(|| d.address.clone())),
        },
        Err(e) => (Some((e.to_string(), false)), None),
    };
    Outcome { delivery: d.id, attempts: d.attempts, error, bounced }
}

/// How often a sending job writes its progress.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Records outcomes, trying again for a few seconds if the database is away: each
/// outcome lost here is an email sent twice later.
/// The job's progress (finished, total) is written with them when given.
async fn record(run: &JobRun, outcomes: Vec<Outcome>, progress: Option<(i64, i64)>) -> Result<(), JobError> {
    let mut tries = 0;
    loop {
        let (lease, o) = (run.lease.clone(), outcomes.clone());
        let written = db::run(&run.pool, move |c| {
            if !o.is_empty() {
                delivery::record(c, &lease.token, &o)?;
            }
            if let Some((finished, total)) = progress {
                lease.progress(c, finished, total)?;
            }
            Ok::<_, JobError>(())
        })
        .await;
        match written {
            Ok(()) => return Ok(()),
            Err(e) if tries < 5 => {
                tries += 1;
                tracing::warn!(error = %e, tries, "could not record delivery outcomes; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(500 * tries)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

impl Job for SendNotification {
    const KIND: &'static str = "notification_send";
    const LABEL: &'static str = "Sending a notification";

    fn about(&self) -> Option<String> {
        Some(format!("notification:{}", self.notification_id))
    }

    /// Claims due deliveries a few at a time and sends them concurrently, recording each
    /// outcome as soon as it is known, so that at any moment only the emails in flight
    /// are sent and not yet recorded. Deliveries waiting for a retry bring the job back
    /// when they are due.
    async fn run(self, run: &JobRun) -> Result<Step, JobError> {
        let n = self.notification_id;
        let (notification, counts) = db::run(&run.pool, move |c| {
            delivery::release_orphans(c, n)?;
            let notification = super::get(c, n)?;
            let counts = delivery::counts(c, &[n])?.remove(&n).unwrap_or_default();
            Ok::<_, JobError>((notification, counts))
        })
        .await?;
        let label = MessageType::parse(&notification.message_type).map(|t| t.label()).unwrap_or("Notification");
        let concurrency = run.settings.send_concurrency;
        // Several emails per connection a claim: each claim is a few statements, and what
        // is claimed but not yet sent is simply released if the server dies. The next
        // claim is made while the last one's emails are sent (the sending waited for each
        // claim, its connections idle, some 440 times for 28,000 emails).
        let (pool, token) = (run.pool.clone(), run.lease.token.clone());
        let (claimed_tx, claimed_rx) = tokio::sync::mpsc::channel::<Result<Vec<Claimed>, JobError>>(1);
        let claiming = async move {
            loop {
                let (pool, token) = (pool.clone(), token.clone());
                match db::run(&pool, move |c| Ok::<_, JobError>(delivery::claim(c, n, &token, 4 * concurrency as i64)?)).await {
                    Ok(rows) if rows.is_empty() => break,
                    Ok(rows) => {
                        if claimed_tx.send(Ok(rows)).await.is_err() {
                            break; // the sending stopped: nothing more to claim for it
                        }
                    }
                    Err(e) => {
                        let _ = claimed_tx.send(Err(e)).await;
                        break;
                    }
                }
            }
        };
        let claims = futures_util::stream::unfold(claimed_rx, |mut rx| async move { rx.recv().await.map(|batch| (batch, rx)) });
        let notification = &notification;
        let attempts = claims
            .flat_map(|batch| {
                futures_util::stream::iter(match batch {
                    Ok(rows) => rows.into_iter().map(Ok).collect::<Vec<_>>(),
                    Err(e) => vec![Err(e)],
                })
            })
            .map(|item| {
                let mailer = run.mailer.clone();
                async move {
                    match item {
                        Ok(d) => Ok(attempt(&mailer, notification, label, d).await),
                        Err(e) => Err(e),
                    }
                }
            })
            .buffer_unordered(concurrency);
        // Sending and recording run side by side: while a chunk of outcomes is written,
        // the emails in flight go on (awaiting the write in the sending loop stalled every
        // connection for a transaction per email). The channel and the chunk hold half the
        // concurrency each, so at most twice the concurrency are sent and not yet recorded,
        // counting those on the wire.
        let half = (concurrency / 2).max(1);
        let (outcomes_tx, mut outcomes_rx) = tokio::sync::mpsc::channel::<Outcome>(half);
        let sending = async move {
            futures_util::pin_mut!(attempts);
            let mut failure = None;
            while let Some(result) = attempts.next().await {
                match result {
                    Ok(o) => {
                        if outcomes_tx.send(o).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => failure = Some(e),
                }
            }
            failure
        };
        // Moved in: when recording fails, its end drops the receiver and sending stops.
        let recording = async move {
            let mut finished = counts.finished();
            // Progress is written with the outcomes a few times a second, not with each
            // chunk: one statement less in most of the transactions that keep pace with
            // the sending.
            let (mut shown, mut shown_at) = (finished, std::time::Instant::now());
            while let Some(first) = outcomes_rx.recv().await {
                let mut outcomes = vec![first];
                while outcomes.len() < half {
                    match outcomes_rx.try_recv() {
                        Ok(o) => outcomes.push(o),
                        Err(_) => break,
                    }
                }
                finished +=
                    outcomes.iter().filter(|o| o.error.as_ref().is_none_or(|(_, transient)| !transient || o.attempts + 1 >= delivery::MAX_ATTEMPTS)).count()
                        as i64;
                let due = shown_at.elapsed() >= PROGRESS_EVERY;
                record(run, outcomes, due.then_some((finished, counts.total()))).await?;
                if due {
                    (shown, shown_at) = (finished, std::time::Instant::now());
                }
            }
            if shown != finished {
                record(run, Vec::new(), Some((finished, counts.total()))).await?;
            }
            Ok::<_, JobError>(())
        };
        let ((), failure, recorded) = tokio::join!(claiming, sending, recording);
        recorded?;
        if let Some(e) = failure {
            return Err(e);
        }
        let lease = run.lease.duration;
        let wake = db::run(&run.pool, move |c| {
            let wake = delivery::next_wake(c, n, lease)?;
            if wake.is_none() {
                delivery::mark_finished(c, n)?;
            }
            Ok::<_, JobError>(wake)
        })
        .await?;
        Ok(wake.map_or(Step::Done, Step::RunAgainAt))
    }

    fn give_up(self, conn: &mut AnyConnection, _job: i64, reason: &str) -> diesel::QueryResult<()> {
        delivery::give_up(conn, self.notification_id, reason).map(|_| ())
    }
}
