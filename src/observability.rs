//! What `/metrics` shows, in Prometheus' text format (the `metrics` facade and its
//! Prometheus recorder): requests by route and status with a latency histogram and the
//! emails this process sent or failed, counted as they happen; the queue, the deliveries,
//! the verification emails of the day and the pool, read when scraped.

use std::sync::OnceLock;

use diesel::QueryResult;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::db::{AnyConnection, now_utc};

/// Latency buckets, in seconds: a page at 5 ms to a slow export at 10 s.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// How often the recorder's pending samples are folded into its histograms. The recorder
/// keeps every latency recorded until then: when nothing scraped `/metrics`, that was 8
/// bytes and more a request for as long as the server ran (a `serve` on SQLite grew from
/// 37 to 108 MB in 72 s of wrk at 20,000–28,000 requests a second).
pub const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The process's recorder, installed on first use (one per process: servers in tests
/// share it), with a thread that keeps it ([`UPKEEP_EVERY`]).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new().set_buckets(&BUCKETS).expect("the buckets are not empty");
        match builder.install_recorder() {
            Ok(handle) => {
                describe();
                let upkeep = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(|| {
                    loop {
                        std::thread::sleep(UPKEEP_EVERY);
                        if let Some(handle) = HANDLE.get() {
                            handle.run_upkeep();
                        }
                    }
                });
                if let Err(e) = upkeep {
                    tracing::warn!(error = %e, "no thread to keep the metrics: only a scrape of /metrics folds their samples");
                }
                handle
            }
            // Another recorder was installed first (an embedding program's): ours renders empty.
            Err(_) => PrometheusBuilder::new().build_recorder().handle(),
        }
    })
}

fn describe() {
    metrics::describe_counter!("rdc_http_requests_total", "HTTP requests answered, by route pattern and status");
    metrics::describe_histogram!("rdc_http_request_duration_seconds", metrics::Unit::Seconds, "Time to answer a request, by route pattern");
    metrics::describe_counter!("rdc_emails_total", "Emails this process handed to the mail server (outcome sent) or could not (failed)");
    metrics::describe_gauge!("rdc_jobs", "Jobs in the queue, by kind and status");
    metrics::describe_gauge!("rdc_oldest_queued_job_age_seconds", "How long the oldest queued job has been due (0 when none waits)");
    metrics::describe_gauge!("rdc_deliveries", "Notification deliveries, by status");
    metrics::describe_gauge!("rdc_verification_emails_last_day", "Verification emails sent in the last 24 hours");
    metrics::describe_gauge!("rdc_verification_emails_daily_limit", "Verification emails allowed in 24 hours (rule C4)");
    metrics::describe_gauge!("rdc_db_pool_connections", "Database connections of this process, by state");
}

/// One answered request.
pub fn request(route: &str, status: u16, seconds: f64) {
    if TIMING.load(std::sync::atomic::Ordering::Relaxed) {
        let mut timed = timings();
        timed.micros.push((seconds * 1e6) as u32);
        timed.not_ok += usize::from(status != 200);
    }
    handle();
    metrics::counter!("rdc_http_requests_total", "route" => route.to_owned(), "status" => status.to_string()).increment(1);
    metrics::histogram!("rdc_http_request_duration_seconds", "route" => route.to_owned()).record(seconds);
}

/// Whether answered requests' times are kept for [`timed_requests`] (`bench load` only).
static TIMING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The requests answered since [`time_requests`].
#[derive(Debug, Default)]
pub struct Timed {
    /// Each one's time in µs, from its arrival at the server's first middleware to its
    /// answer (sorted once [`timed_requests`] returns them).
    pub micros: Vec<u32>,
    /// How many were answered with another status than 200.
    pub not_ok: usize,
}

fn timings() -> std::sync::MutexGuard<'static, Timed> {
    static TIMINGS: std::sync::Mutex<Timed> = std::sync::Mutex::new(Timed { micros: Vec::new(), not_ok: 0 });
    TIMINGS.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// From now on keeps each answered request's time and whether it was a 200, for `bench
/// load` to show the server's own percentiles beside the load generator's (which also
/// count the waits before a request reaches the server) and to count failures without
/// handing every answer's body to the load generator's script.
pub fn time_requests() {
    *timings() = Timed::default();
    TIMING.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// What was kept since [`time_requests`], the times sorted; keeps no more.
pub fn timed_requests() -> Timed {
    TIMING.store(false, std::sync::atomic::Ordering::Relaxed);
    let mut timed = std::mem::take(&mut *timings());
    timed.micros.sort_unstable();
    timed
}

/// One email handed to the mail server, or not.
pub fn email(sent: bool) {
    handle();
    metrics::counter!("rdc_emails_total", "outcome" => if sent { "sent" } else { "failed" }).increment(1);
}

/// Reads what is counted in the database into gauges. Four small queries.
pub fn scrape(conn: &mut AnyConnection) -> QueryResult<()> {
    handle();
    let census = crate::jobs::census(conn)?;
    for (kind, status, n) in census.counts {
        metrics::gauge!("rdc_jobs", "kind" => kind, "status" => status).set(n as f64);
    }
    let age = census.oldest_queued.map_or(0.0, |t| (now_utc() - t).as_seconds_f64().max(0.0));
    metrics::gauge!("rdc_oldest_queued_job_age_seconds").set(age);
    for (status, n) in crate::notifications::delivery::census(conn)? {
        metrics::gauge!("rdc_deliveries", "status" => status).set(n as f64);
    }
    metrics::gauge!("rdc_verification_emails_last_day").set(crate::contacts::sent_in_last_day(conn)? as f64);
    metrics::gauge!("rdc_verification_emails_daily_limit").set(crate::contacts::DAILY_LIMIT as f64);
    Ok(())
}

/// The pool's connections now.
pub fn pool(state: diesel::r2d2::State) {
    handle();
    metrics::gauge!("rdc_db_pool_connections", "state" => "idle").set(f64::from(state.idle_connections));
    metrics::gauge!("rdc_db_pool_connections", "state" => "in_use").set(f64::from(state.connections - state.idle_connections));
}

/// Everything, in Prometheus' text format.
pub fn render() -> String {
    let h = handle();
    h.run_upkeep();
    h.render()
}
