//! The Audit log page: every change, newest first, filtered by who, action, target and
//! days, an older page at a time; and the same entries as a streamed CSV file.

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{HttpResponse, http::header};
use askama::Template;
use serde::Deserialize;
use time::{Date, PrimitiveDateTime, Time};

use crate::audit::{self, AuditEvent, Filter};
use crate::db;
use crate::errors::StorageError;
use crate::state::AppState;
use crate::web::filters;
use crate::web::session::CurrentAdmin;
use crate::web::{AppError, Chrome, Reply, html};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(audit_page)).route("/audit.csv", web::get().to(audit_csv));
}

const PER_PAGE: i64 = 50;
/// How many of its last changes a contact's, member's or folder's page shows.
pub const HISTORY_ROWS: i64 = 10;
/// Rows read per query while the CSV streams.
const CSV_BATCH: i64 = 500;

/// The filters as typed, kept to show them again and to build links.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
    /// First day shown (UTC), `YYYY-MM-DD`.
    #[serde(default)]
    from: String,
    /// Last day shown (UTC), included.
    #[serde(default)]
    to: String,
    /// Entries older than this one (the "Older" link).
    before: Option<String>,
}

fn day(s: &str, field: &str) -> Result<Option<Date>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let parsed = (|| {
        let mut parts = s.splitn(3, '-');
        let (y, m, d) = (parts.next()?.parse::<i32>().ok()?, parts.next()?.parse::<u8>().ok()?, parts.next()?.parse::<u8>().ok()?);
        Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()
    })();
    parsed.map(Some).ok_or_else(|| format!("Enter the {field} day as YYYY-MM-DD, such as 2026-11-28."))
}

impl AuditQuery {
    /// The filter, or a message saying what to fix.
    fn filter(&self) -> Result<Filter, String> {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        for (name, v) in [("who", &self.actor), ("action", &self.action), ("target", &self.target)] {
            if v.len() > 200 || v.contains('\0') {
                return Err(format!("The {name} filter must be under 200 characters of text."));
            }
        }
        let from = day(&self.from, "first")?;
        let to = day(&self.to, "last")?;
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            return Err("The last day comes before the first: swap them.".into());
        }
        Ok(Filter {
            actor: text(&self.actor),
            action: text(&self.action),
            target: text(&self.target),
            since: from.map(|d| PrimitiveDateTime::new(d, Time::MIDNIGHT)),
            until: to.and_then(|d| d.next_day()).map(|d| PrimitiveDateTime::new(d, Time::MIDNIGHT)),
        })
    }

    fn before(&self) -> Result<Option<i64>, String> {
        match self.before.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
            None => Ok(None),
            Some(b) => b.parse::<i64>().map(Some).map_err(|_| "That page link is broken: start again from the newest entries.".to_owned()),
        }
    }

    fn is_filtered(&self) -> bool {
        [&self.actor, &self.action, &self.target, &self.from, &self.to].iter().any(|v| !v.trim().is_empty())
    }

    /// The query string of these filters, with `before` when given.
    fn query(&self, before: Option<i64>) -> String {
        let mut q: Vec<(&str, String)> = Vec::new();
        for (k, v) in [("actor", &self.actor), ("action", &self.action), ("target", &self.target), ("from", &self.from), ("to", &self.to)] {
            if !v.trim().is_empty() {
                q.push((k, v.trim().to_owned()));
            }
        }
        if let Some(b) = before {
            q.push(("before", b.to_string()));
        }
        serde_urlencoded::to_string(q).unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "audit/list.html")]
struct AuditPage {
    chrome: Chrome,
    q: AuditQuery,
    events: Vec<AuditEvent>,
    next: Option<i64>,
    paged: bool,
    error: Option<String>,
}

impl AuditPage {
    fn older(&self) -> String {
        format!("/audit?{}", self.q.query(self.next))
    }
    fn newest(&self) -> String {
        format!("/audit?{}", self.q.query(None))
    }
    fn csv(&self) -> String {
        format!("/audit.csv?{}", self.q.query(None))
    }
    fn filtered(&self) -> bool {
        self.q.is_filtered()
    }
}

async fn audit_page(state: web::Data<AppState>, admin: CurrentAdmin, query: web::Query<AuditQuery>) -> Reply {
    let q = query.into_inner();
    let chrome = Chrome::new(&admin, "audit");
    let parsed = q.filter().and_then(|f| Ok((f, q.before()?)));
    let (filter, before) = match parsed {
        Ok(p) => p,
        Err(error) => {
            let page = AuditPage { chrome, q, events: Vec::new(), next: None, paged: false, error: Some(error) };
            return html(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let page = db::run(&state.pool, move |c| Ok::<_, StorageError>(audit::list(c, &filter, before, PER_PAGE)?)).await?;
    html(StatusCode::OK, &AuditPage { chrome, q, events: page.events, next: page.next, paged: before.is_some(), error: None })
}

pub const CSV_HEADER: &str = "event_id,time_utc,actor_type,actor,actor_id,via,request_id,action,target_id,related_id,changes,hash\r\n";

fn csv_row(out: &mut String, e: &AuditEvent) {
    let seq = e.seq.to_string();
    let at = crate::api::iso_time(&e.at);
    let fields: [&str; 12] = [
        &seq,
        &at,
        &e.actor_kind,
        &e.actor_name,
        &e.actor_id,
        &e.via,
        e.request_id.as_deref().unwrap_or(""),
        &e.action,
        &e.target_id,
        e.related_id.as_deref().unwrap_or(""),
        &e.changes,
        &e.hash,
    ];
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        crate::csv::field(out, f);
    }
    out.push_str("\r\n");
}

/// The entries matching the filters as CSV, newest first, read and sent a batch at a time
/// (a year of entries never sits in memory).
async fn audit_csv(state: web::Data<AppState>, _admin: CurrentAdmin, query: web::Query<AuditQuery>) -> Reply {
    let filter = query.filter().map_err(AppError::BadRequest)?;
    let pool = state.pool.clone();
    // (next cursor, header sent, finished)
    let start: (Option<i64>, bool, bool) = (None, false, false);
    let body = futures_util::stream::unfold(start, move |(before, started, done)| {
        let (pool, filter) = (pool.clone(), filter.clone());
        async move {
            if done {
                return None;
            }
            if !started {
                return Some((Ok::<_, AppError>(Bytes::from_static(CSV_HEADER.as_bytes())), (None, true, false)));
            }
            let page = match db::run(&pool, move |c| Ok::<_, StorageError>(audit::list(c, &filter, before, CSV_BATCH)?)).await {
                Ok(p) => p,
                Err(e) => return Some((Err(AppError::from(e)), (None, true, true))),
            };
            let mut out = String::new();
            for e in &page.events {
                csv_row(&mut out, e);
            }
            let finished = page.next.is_none();
            Some((Ok(Bytes::from(out)), (page.next, true, finished)))
        }
    });
    let name = format!("audit-{}.csv", crate::db::now_utc().date());
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .streaming(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_day_is_included_and_a_reversed_range_is_refused() {
        let q = AuditQuery { from: "2026-11-01".into(), to: "2026-11-02".into(), ..AuditQuery::default() };
        let f = q.filter().unwrap();
        assert_eq!(f.until.unwrap().date().to_string(), "2026-11-03");
        let bad = AuditQuery { from: "2026-11-05".into(), to: "2026-11-02".into(), ..AuditQuery::default() };
        assert!(bad.filter().unwrap_err().contains("swap"));
        let typo = AuditQuery { from: "28/11/2026".into(), ..AuditQuery::default() };
        assert!(typo.filter().unwrap_err().contains("YYYY-MM-DD"));
    }
}
