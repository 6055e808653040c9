//! The audit trail: who changed what, when, through what, written in the transaction that
//! makes the change, and chained entry to entry by SHA-256 so that a row edited or removed
//! by hand in the database is found (`rd-contacts audit verify`).
//!
//! An entry's hash covers its number, time, actor, action, targets, changes and the hash
//! of the entry before it. [`record`] writes an entry unsealed; [`seal`], which
//! `db::transaction` runs just before an outermost transaction commits, numbers and
//! chains that transaction's entries under the chain's head (`audit_chain`, one row), so
//! entries are numbered in commit order, the chain never forks, and the head is locked
//! only for a transaction's last statements (never while it goes on to lock other rows).
//! The head also remembers where the retention purge cut the chain.
//! Entries never hold a password, a secret or a token: [`Changes`] is built field by
//! field by the services, from names, addresses, types and ids only.

mod actor;

use diesel::prelude::*;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::PrimitiveDateTime;

pub use actor::{Actor, ActorKind, Via};

use crate::db::paged::PagedDsl;
use crate::db::schema::{audit_chain, audit_events};
use crate::db::{AnyConnection, now_utc};

/// What changed, field by field: before → after. `None` is "no value" (created, cleared).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes(Map<String, Value>);

impl Changes {
    pub fn new() -> Changes {
        Changes::default()
    }

    /// Notes a field that went from `before` to `after`; an unchanged field is left out.
    pub fn field(mut self, name: &str, before: impl Into<Value>, after: impl Into<Value>) -> Changes {
        let (before, after) = (before.into(), after.into());
        if before != after {
            self.0.insert(name.to_owned(), Value::Array(vec![before, after]));
        }
        self
    }

    /// A field that was set (a created object's values).
    pub fn set(self, name: &str, value: impl Into<Value>) -> Changes {
        self.field(name, Value::Null, value)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn to_json(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: &'static str,
    /// What the change is about (a contact, a member, a folder, an administrator).
    pub target: String,
    /// A second object it touches: the folder or member of a binding, a move's destination.
    pub related: Option<String>,
    pub changes: Changes,
}

impl Event {
    pub fn new(action: &'static str, target: impl Into<String>) -> Event {
        Event { action, target: target.into(), related: None, changes: Changes::new() }
    }

    pub fn related(mut self, id: impl Into<String>) -> Event {
        self.related = Some(id.into());
        self
    }

    pub fn changes(mut self, changes: Changes) -> Event {
        self.changes = changes;
        self
    }
}

/// An entry as written, before it is sealed.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_events)]
struct NewAuditEvent {
    at: PrimitiveDateTime,
    actor_kind: String,
    actor_id: String,
    actor_name: String,
    via: String,
    request_id: Option<String>,
    action: String,
    target_id: String,
    related_id: Option<String>,
    changes: String,
}

/// A sealed entry (only sealed ones are read: an unsealed one is its own transaction's).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    #[diesel(select_expression = audit_events::seq.assume_not_null())]
    #[diesel(select_expression_type = diesel::dsl::AssumeNotNull<audit_events::seq>)]
    pub seq: i64,
    pub at: PrimitiveDateTime,
    pub actor_kind: String,
    pub actor_id: String,
    pub actor_name: String,
    pub via: String,
    pub request_id: Option<String>,
    pub action: String,
    pub target_id: String,
    pub related_id: Option<String>,
    pub changes: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEvent {
    /// The hash this entry must carry, from its own fields and `prev_hash`.
    fn expected_hash(&self) -> String {
        let fields = serde_json::json!([
            self.seq,
            canonical_time(&self.at),
            self.actor_kind,
            self.actor_id,
            self.actor_name,
            self.via,
            self.request_id,
            self.action,
            self.target_id,
            self.related_id,
            self.changes,
            self.prev_hash,
        ]);
        hex::encode(Sha256::digest(fields.to_string().as_bytes()))
    }

    pub fn actor_label(&self) -> &'static str {
        ActorKind::parse(&self.actor_kind).map_or("Unknown", ActorKind::label)
    }

    /// The changes as (field, before, after), values shown as text ("—" for none).
    pub fn change_list(&self) -> Vec<(String, String, String)> {
        let shown = |v: &Value| match v {
            Value::Null => "—".to_owned(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match serde_json::from_str::<Map<String, Value>>(&self.changes) {
            Ok(map) => map
                .iter()
                .map(|(k, v)| match v.as_array().map(Vec::as_slice) {
                    Some([before, after]) => (k.clone(), shown(before), shown(after)),
                    _ => (k.clone(), String::new(), shown(v)),
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// The time as hashed: to the microsecond, as both databases keep it.
fn canonical_time(t: &PrimitiveDateTime) -> String {
    let (d, h) = (t.date(), t.time());
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}", d.year(), u8::from(d.month()), d.day(), h.hour(), h.minute(), h.second(), h.microsecond())
}

/// Writes `event` by `actor` into the trail, in the caller's transaction; it is sealed
/// (numbered and chained) when that transaction commits, and goes if it rolls back.
pub fn record(conn: &mut AnyConnection, actor: &Actor, event: Event) -> QueryResult<()> {
    let entry = NewAuditEvent {
        at: now_utc(),
        actor_kind: actor.kind.as_str().to_owned(),
        actor_id: actor.id.clone(),
        actor_name: actor.name.clone(),
        via: actor.via.as_str().to_owned(),
        request_id: actor.request_id.clone(),
        action: event.action.to_owned(),
        target_id: event.target,
        related_id: event.related,
        changes: event.changes.to_json(),
    };
    diesel::insert_into(audit_events::table).values(&entry).execute(conn).map(|_| ())
}

/// Numbers and chains the entries written but not sealed yet: this transaction's (other
/// transactions' unsealed entries are not visible; a committed one left unsealed, were
/// there any, is taken along). `db::transaction` runs it before each outermost commit; it
/// costs one indexed query when the transaction recorded nothing.
pub fn seal(conn: &mut AnyConnection) -> QueryResult<()> {
    let unsealed: Vec<i64> = audit_events::table.filter(audit_events::seq.is_null()).order(audit_events::id.asc()).select(audit_events::id).load(conn)?;
    if unsealed.is_empty() {
        return Ok(());
    }
    let n = unsealed.len() as i64;
    diesel::update(audit_chain::table.find(1)).set(audit_chain::last_seq.eq(audit_chain::last_seq + n)).execute(conn)?;
    let (last, mut prev): (i64, String) = audit_chain::table.find(1).select((audit_chain::last_seq, audit_chain::last_hash)).first(conn)?;
    type Row = (i64, PrimitiveDateTime, String, String, String, String, Option<String>, String, String, Option<String>, String);
    let rows: Vec<Row> = audit_events::table
        .filter(audit_events::id.eq_any(&unsealed))
        .order(audit_events::id.asc())
        .select((
            audit_events::id,
            audit_events::at,
            audit_events::actor_kind,
            audit_events::actor_id,
            audit_events::actor_name,
            audit_events::via,
            audit_events::request_id,
            audit_events::action,
            audit_events::target_id,
            audit_events::related_id,
            audit_events::changes,
        ))
        .load(conn)?;
    for (i, (id, at, actor_kind, actor_id, actor_name, via, request_id, action, target_id, related_id, changes)) in rows.into_iter().enumerate() {
        let mut e = AuditEvent {
            seq: last - n + 1 + i as i64,
            at,
            actor_kind,
            actor_id,
            actor_name,
            via,
            request_id,
            action,
            target_id,
            related_id,
            changes,
            prev_hash: prev,
            hash: String::new(),
        };
        e.hash = e.expected_hash();
        diesel::update(audit_events::table.find(id))
            .set((audit_events::seq.eq(Some(e.seq)), audit_events::prev_hash.eq(&e.prev_hash), audit_events::hash.eq(&e.hash)))
            .execute(conn)?;
        prev = e.hash;
    }
    diesel::update(audit_chain::table.find(1)).set(audit_chain::last_hash.eq(&prev)).execute(conn)?;
    Ok(())
}

/// Writes several entries (one per target of a binding, say).
pub fn record_all(conn: &mut AnyConnection, actor: &Actor, events: impl IntoIterator<Item = Event>) -> QueryResult<()> {
    events.into_iter().try_for_each(|e| record(conn, actor, e))
}

/// Records `event` in a transaction of its own (a failed sign-in changes nothing else).
pub fn record_alone(conn: &mut AnyConnection, actor: &Actor, event: Event) -> QueryResult<()> {
    crate::db::transaction(conn, |conn| record(conn, actor, event))
}

/// Which entries to list; every filter is optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// An actor's name or id (user name, email, AccessKey ID, "job 42").
    pub actor: Option<String>,
    /// An action (`contact.update`), or a family of them (`contact`).
    pub action: Option<String>,
    /// A target or related id: a contact's history is its id.
    pub target: Option<String>,
    pub since: Option<PrimitiveDateTime>,
    pub until: Option<PrimitiveDateTime>,
}

/// A page of entries, newest first, and the cursor of the next (older) page.
#[derive(Debug, Clone)]
pub struct EventPage {
    pub events: Vec<AuditEvent>,
    pub next: Option<i64>,
}

/// Entries matching `filter`, newest first, older than `before` (a previous page's `next`).
pub fn list(conn: &mut AnyConnection, filter: &Filter, before: Option<i64>, limit: i64) -> QueryResult<EventPage> {
    let mut q = audit_events::table.filter(audit_events::seq.is_not_null()).select(AuditEvent::as_select()).into_boxed();
    if let Some(actor) = &filter.actor {
        q = q.filter(audit_events::actor_name.eq(actor.clone()).or(audit_events::actor_id.eq(actor.clone())));
    }
    if let Some(action) = &filter.action {
        q = if action.contains('.') {
            q.filter(audit_events::action.eq(action.clone()))
        } else {
            q.filter(audit_events::action.eq(action.clone()).or(audit_events::action.like(format!("{}.%", escape_like(action))).escape('\\')))
        };
    }
    if let Some(target) = &filter.target {
        q = q.filter(audit_events::target_id.eq(target.clone()).or(audit_events::related_id.eq(target.clone())));
    }
    if let Some(since) = filter.since {
        q = q.filter(audit_events::at.ge(since));
    }
    if let Some(until) = filter.until {
        q = q.filter(audit_events::at.lt(until));
    }
    if let Some(before) = before {
        q = q.filter(audit_events::seq.lt(before));
    }
    let mut events: Vec<AuditEvent> = q.order(audit_events::seq.desc()).limited(limit + 1).load(conn)?;
    let next = if events.len() as i64 > limit {
        events.truncate(limit as usize);
        events.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(EventPage { events, next })
}

/// The last `n` entries about one object (a contact, member or folder): its page's History.
/// Kept under the read version: every entry moves it on (migration 000028).
pub fn recent(conn: &mut AnyConnection, target: &str, n: i64) -> QueryResult<Vec<AuditEvent>> {
    RECENT.copy_or_read(conn, &format!("{n}/{target}"), |conn| {
        let filter = Filter { target: Some(target.to_owned()), ..Filter::default() };
        Ok(list(conn, &filter, None, n)?.events)
    })
}

/// The last entries about an object, by how many and its id.
static RECENT: crate::directory::KeptByVersion<std::sync::Arc<Vec<AuditEvent>>> = crate::directory::KeptByVersion::of_anything();

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Where the chain first fails to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub seq: i64,
    pub reason: String,
}

/// What `verify` found: how many entries it checked, and the first that does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub checked: i64,
    pub first_kept: Option<i64>,
    pub broken: Option<Broken>,
}

/// Walks the chain from the first kept entry to the head, recomputing every hash.
pub fn verify(conn: &mut AnyConnection) -> QueryResult<Verification> {
    let (last_seq, last_hash, purged_seq, purged_hash): (i64, String, i64, String) =
        audit_chain::table.find(1).select((audit_chain::last_seq, audit_chain::last_hash, audit_chain::purged_seq, audit_chain::purged_hash)).first(conn)?;
    let (mut expect_seq, mut expect_prev) = (purged_seq + 1, purged_hash);
    let mut checked = 0;
    let mut first_kept = None;
    let mut after = purged_seq;
    let broken = |seq: i64, reason: String| Some(Broken { seq, reason });
    loop {
        let batch: Vec<AuditEvent> = audit_events::table
            .select(AuditEvent::as_select())
            .filter(audit_events::seq.gt(after))
            // Entries sealed after the head was read are the next verification's.
            .filter(audit_events::seq.le(last_seq))
            .order(audit_events::seq.asc())
            .limit(1000)
            .load(conn)?;
        let Some(_) = batch.first() else { break };
        for e in &batch {
            first_kept.get_or_insert(e.seq);
            let problem = if e.seq != expect_seq {
                Some(format!("entry {expect_seq} is missing (the next entry is {})", e.seq))
            } else if e.prev_hash != expect_prev {
                Some("its link to the entry before does not match (an entry before it was removed or changed)".to_owned())
            } else if e.hash != e.expected_hash() {
                Some("its content does not match its hash (the entry was changed)".to_owned())
            } else {
                None
            };
            if let Some(reason) = problem {
                return Ok(Verification { checked, first_kept, broken: broken(e.seq, reason) });
            }
            checked += 1;
            after = e.seq;
            expect_seq = e.seq + 1;
            expect_prev = e.hash.clone();
        }
    }
    let broken = if expect_seq <= last_seq {
        broken(expect_seq, format!("entries {expect_seq} to {last_seq} are missing"))
    } else if expect_prev != last_hash && last_seq > purged_seq {
        broken(last_seq, "the chain's head does not match the last entry".to_owned())
    } else {
        None
    };
    Ok(Verification { checked, first_kept, broken })
}

/// Removes entries older than `days` days and records that it did; the first kept entry
/// is then checked against the last removed one, whose hash the head keeps.
pub fn purge(conn: &mut AnyConnection, days: i64) -> QueryResult<usize> {
    let cutoff = now_utc() - time::Duration::days(days);
    crate::db::transaction(conn, |conn| {
        // The head first: two servers purging at once take turns, and the second finds nothing.
        diesel::update(audit_chain::table.find(1)).set(audit_chain::purged_seq.eq(audit_chain::purged_seq)).execute(conn)?;
        let last_old: Option<(i64, String)> = audit_events::table
            .filter(audit_events::at.lt(cutoff))
            .filter(audit_events::seq.is_not_null())
            .order(audit_events::seq.desc())
            .select((audit_events::seq.assume_not_null(), audit_events::hash))
            .first(conn)
            .optional()?;
        let Some((through, hash)) = last_old else { return Ok(0) };
        let removed = diesel::delete(audit_events::table.filter(audit_events::seq.le(through))).execute(conn)?;
        if removed == 0 {
            return Ok(0);
        }
        diesel::update(audit_chain::table.find(1)).set((audit_chain::purged_seq.eq(through), audit_chain::purged_hash.eq(&hash))).execute(conn)?;
        let changes = Changes::new().set("entries_removed", removed as i64).set("through_entry", through).set("retention_days", days);
        record(conn, &Actor::upkeep("audit retention"), Event::new("audit.purge", "audit").changes(changes))?;
        Ok(removed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash before the first entry (the migration's).
    const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

    fn entry() -> AuditEvent {
        AuditEvent {
            seq: 7,
            at: now_utc(),
            actor_kind: "admin".into(),
            actor_id: "1".into(),
            actor_name: "alice".into(),
            via: "console".into(),
            request_id: Some("R1".into()),
            action: "contact.update".into(),
            target_id: "c-1".into(),
            related_id: None,
            changes: Changes::new().field("name", "A", "B").to_json(),
            prev_hash: GENESIS.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn t_an_entrys_hash_covers_every_field() {
        let e = entry();
        let h = e.expected_hash();
        assert_eq!(h.len(), 64);
        let variants: Vec<AuditEvent> = vec![
            AuditEvent { seq: 8, ..e.clone() },
            AuditEvent { actor_name: "mallory".into(), ..e.clone() },
            AuditEvent { action: "contact.delete".into(), ..e.clone() },
            AuditEvent { target_id: "c-2".into(), ..e.clone() },
            AuditEvent { related_id: Some("fd-1".into()), ..e.clone() },
            AuditEvent { changes: Changes::new().field("name", "A", "C").to_json(), ..e.clone() },
            AuditEvent { prev_hash: "1".repeat(64), ..e.clone() },
            AuditEvent { request_id: None, ..e.clone() },
            AuditEvent { at: e.at + time::Duration::microseconds(1), ..e.clone() },
        ];
        for v in variants {
            assert_ne!(v.expected_hash(), h, "{v:?}");
        }
    }

    #[test]
    fn unchanged_fields_are_left_out_of_the_changes() {
        let c = Changes::new().field("name", "A", "A").field("title", "Finance", "TechnicalDirector");
        assert_eq!(c.to_json(), r#"{"title":["Finance","TechnicalDirector"]}"#);
        let e = AuditEvent { changes: c.to_json(), ..entry() };
        assert_eq!(e.change_list(), vec![("title".into(), "Finance".into(), "TechnicalDirector".into())]);
    }
}
