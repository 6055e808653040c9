//! Binding contacts to the directory, a folder or a member, and unbinding them
//! (rules B1–B6, U1–U3). Small scopes propagate inside the request's transaction;
//! larger ones are jobs that work through the members in batches.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::models::{Contact, ContactStatus};
use super::propagation::{self, Scope};
use super::{ContactError, get_contact, lock_directory};
use crate::audit::{self, Actor, Changes, Event};
use crate::db::schema::{accounts, associations, bindings, folders, resource_directories, unbind_tasks};
use crate::db::{AnyConnection, now_utc};
use crate::domain::{ContactId, TargetId};
use crate::jobs;

/// At most this many targets per contact (rule B2).
pub const MAX_TARGETS: i64 = 10;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bindings)]
pub struct Binding {
    pub id: i64,
    pub contact_id: String,
    pub target_id: String,
    #[diesel(deserialize_as = String)]
    pub target_kind: TargetKind,
    pub target_key: String,
    pub folder_path: Option<String>,
    pub account_id: Option<String>,
    pub created_at: PrimitiveDateTime,
}

impl Binding {
    pub fn scope(&self) -> Scope {
        match (&self.folder_path, &self.account_id) {
            (Some(path), _) => Scope::Subtree { path: path.clone() },
            (None, Some(id)) => Scope::Account { id: id.clone() },
            (None, None) => Scope::Account { id: String::new() },
        }
    }
}

/// What a binding's target is; stored as `directory`, `folder` or `account`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// The whole directory (given as the directory's id or the root folder's).
    Directory,
    Folder,
    Account,
}

impl TargetKind {
    pub const ALL: [TargetKind; 3] = [TargetKind::Directory, TargetKind::Folder, TargetKind::Account];

    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Directory => "directory",
            TargetKind::Folder => "folder",
            TargetKind::Account => "account",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            TargetKind::Directory => "Resource directory",
            TargetKind::Folder => "Folder",
            TargetKind::Account => "Member",
        }
    }
    pub fn is_directory(self) -> bool {
        self == TargetKind::Directory
    }
}

crate::stored_as_text!(TargetKind, "binding target kind");

/// What a target resolves to.
struct Resolved {
    given: String,
    kind: TargetKind,
    key: String,
    folder_path: Option<String>,
    account_id: Option<String>,
}

impl Resolved {
    fn scope(&self) -> Scope {
        match (&self.folder_path, &self.account_id) {
            (Some(path), _) => Scope::Subtree { path: path.clone() },
            (_, Some(id)) => Scope::Account { id: id.clone() },
            _ => unreachable!("a target is a folder or a member"),
        }
    }
}

fn resolve(conn: &mut AnyConnection, target: &TargetId, given: &str) -> Result<Resolved, ContactError> {
    let invalid = || ContactError::InvalidMember(given.to_owned());
    match target {
        TargetId::Directory(rd) => {
            let root: Option<String> = resource_directories::table
                .filter(resource_directories::id.eq(rd.as_str()))
                .select(resource_directories::root_folder_id)
                .first(conn)
                .optional()?;
            let root = root.ok_or_else(invalid)?;
            let path: String = folders::table.find(&root).select(folders::path).first(conn)?;
            Ok(Resolved { given: given.to_owned(), kind: TargetKind::Directory, key: root, folder_path: Some(path), account_id: None })
        }
        TargetId::Folder(f) => {
            let (path, parent): (String, Option<String>) =
                folders::table.find(f.as_str()).select((folders::path, folders::parent_id)).first(conn).optional()?.ok_or_else(invalid)?;
            let kind = if parent.is_none() { TargetKind::Directory } else { TargetKind::Folder };
            Ok(Resolved { given: given.to_owned(), kind, key: f.to_string(), folder_path: Some(path), account_id: None })
        }
        TargetId::Account(a) => {
            let exists: i64 = accounts::table.filter(accounts::id.eq(a.as_str())).count().get_result(conn)?;
            if exists == 0 {
                return Err(invalid());
            }
            Ok(Resolved { given: given.to_owned(), kind: TargetKind::Account, key: a.to_string(), folder_path: None, account_id: Some(a.to_string()) })
        }
    }
}

///
/// Kept under the directory's search version, which every binding added or removed moves
/// on (migration 000027).
pub fn bindings_of(conn: &mut AnyConnection, contact: &str) -> QueryResult<Vec<Binding>> {
    BINDINGS_OF.copy_or_read(conn, contact, |conn| {
        bindings::table.filter(bindings::contact_id.eq(contact)).order(bindings::id).select(Binding::as_select()).load(conn)
    })
}

/// A contact's bindings, by the contact's id.
static BINDINGS_OF: crate::directory::KeptByVersion<std::sync::Arc<Vec<Binding>>> = crate::directory::KeptByVersion::with_contacts();

/// The bindings of several contacts (a member page's), kept under the search version as
/// [`bindings_of`] is.
pub fn bindings_of_contacts(conn: &mut AnyConnection, contacts: &[&str]) -> QueryResult<Vec<Binding>> {
    let mut key = contacts.to_vec();
    key.sort_unstable();
    key.dedup();
    BINDINGS_OF_CONTACTS.copy_or_read(conn, &key.join(","), |conn| {
        bindings::table.filter(bindings::contact_id.eq_any(&key)).order(bindings::id).select(Binding::as_select()).load(conn)
    })
}

/// The bindings of several contacts, by their sorted ids.
static BINDINGS_OF_CONTACTS: crate::directory::KeptByVersion<std::sync::Arc<Vec<Binding>>> = crate::directory::KeptByVersion::with_contacts();

/// What a bind or unbind call did: the bindings touched and the jobs still working.
#[derive(Debug, Clone)]
pub struct Change {
    pub contact: Contact,
    pub targets: Vec<(String, PrimitiveDateTime)>,
    pub jobs: Vec<i64>,
}

/// Job payloads for propagation too large for one request.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Propagation {
    pub contact_id: String,
    pub scope: Scope,
    pub cursor: String,
    pub done: i64,
    pub total: i64,
}

/// Adds a binding's contact to its members, batch by batch (rule B1, U3's twin).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct BindMembers(pub Propagation);

/// Takes an unbound contact away from its members, batch by batch (rules U1–U3).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct UnbindMembers(pub Propagation);

/// Which way a propagation goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Add,
    Remove,
}

fn binding_event(action: &'static str, contact: &str, target: &str) -> Event {
    Event::new(action, contact).related(target).changes(Changes::new().set("target", target))
}

/// Binds an Active contact to targets (rules B1, B2). Duplicates within the call or with
/// an existing binding, unknown targets and going over ten targets are refused whole.
/// Scopes of up to `inline_limit` members propagate within the call; larger ones are jobs.
pub fn bind(conn: &mut AnyConnection, id: &ContactId, targets: &[(TargetId, String)], inline_limit: i64, actor: &Actor) -> Result<Change, ContactError> {
    crate::db::transaction(conn, |conn| {
        lock_directory(conn)?;
        let contact = get_contact(conn, id)?;
        if contact.status() == ContactStatus::Deleting {
            return Err(ContactError::Deleting);
        }
        if contact.status() != ContactStatus::Active {
            return Err(ContactError::NotActive(contact.status().as_str()));
        }
        let existing = bindings_of(conn, &contact.id)?;
        let mut resolved: Vec<Resolved> = Vec::new();
        for (target, given) in targets {
            let r = resolve(conn, target, given)?;
            if resolved.iter().any(|x| x.key == r.key) {
                return Err(ContactError::DuplicateTarget(given.clone()));
            }
            if existing.iter().any(|b| b.target_key == r.key) {
                return Err(ContactError::AlreadyBound(given.clone()));
            }
            resolved.push(r);
        }
        if existing.len() as i64 + resolved.len() as i64 > MAX_TARGETS {
            return Err(ContactError::TooManyTargets { bound: existing.len() as i64 });
        }
        let now = now_utc();
        let mut change = Change { contact: contact.clone(), targets: Vec::new(), jobs: Vec::new() };
        for r in resolved {
            diesel::insert_into(bindings::table)
                .values((
                    bindings::contact_id.eq(&contact.id),
                    bindings::target_id.eq(&r.given),
                    bindings::target_kind.eq(r.kind.as_str()),
                    bindings::target_key.eq(&r.key),
                    bindings::folder_path.eq(&r.folder_path),
                    bindings::account_id.eq(&r.account_id),
                    bindings::created_at.eq(now),
                ))
                .execute(conn)?;
            let scope = r.scope();
            let total = propagation::covered_count(conn, &scope)?;
            if total <= inline_limit {
                propagation::add_all(conn, &contact.id, &scope)?;
            } else {
                let job = jobs::enqueue(conn, &BindMembers(Propagation { contact_id: contact.id.clone(), scope, cursor: String::new(), done: 0, total }))?;
                change.jobs.push(job);
            }
            change.targets.push((r.given, now));
        }
        audit::record_all(conn, actor, change.targets.iter().map(|(t, _)| binding_event("binding.add", &contact.id, t)))?;
        tracing::info!(contact.id = %contact.id, targets = change.targets.len(), "contact bound");
        Ok(change)
    })
}

/// Unbinds targets (rules U1–U3): the binding goes at once; each member it covered loses
/// the contact unless another binding still covers it or the contact is its only
/// recipient of some type (kept, retained). A member's association with no binding (a
/// removed member, rule B4, or a retained one) is unbound by naming the member.
pub fn unbind(conn: &mut AnyConnection, id: &ContactId, targets: &[(TargetId, String)], inline_limit: i64, actor: &Actor) -> Result<Change, ContactError> {
    crate::db::transaction(conn, |conn| {
        lock_directory(conn)?;
        let contact = get_contact(conn, id)?;
        if contact.status() == ContactStatus::Deleting {
            return Err(ContactError::Deleting);
        }
        let existing = bindings_of(conn, &contact.id)?;
        let mut plan = Vec::new();
        for (target, given) in targets {
            let r = resolve(conn, target, given)?;
            if plan.iter().any(|(k, _, _): &(String, Option<i64>, Scope)| *k == r.key) {
                return Err(ContactError::DuplicateTarget(given.clone()));
            }
            match existing.iter().find(|b| b.target_key == r.key) {
                Some(b) => plan.push((r.key.clone(), Some(b.id), b.scope())),
                None => {
                    let associated: i64 = match &r.account_id {
                        Some(a) => associations::table
                            .filter(associations::account_id.eq(a))
                            .filter(associations::contact_id.eq(&contact.id))
                            .count()
                            .get_result(conn)?,
                        None => 0,
                    };
                    if associated == 0 {
                        return Err(ContactError::NotBound(given.clone()));
                    }
                    plan.push((r.key.clone(), None, r.scope()));
                }
            }
        }
        let now = now_utc();
        let mut change = Change { contact: contact.clone(), targets: Vec::new(), jobs: Vec::new() };
        for ((key, binding, scope), (_, given)) in plan.into_iter().zip(targets) {
            if let Some(b) = binding {
                diesel::delete(bindings::table.find(b)).execute(conn)?;
            }
            // A member that left the directory (rule B4) is unbound as the administrator
            // says: it has no Message Center of its own to look after any more.
            if let Scope::Account { id } = &scope {
                let removed: Option<PrimitiveDateTime> = accounts::table.find(id).select(accounts::removed_at).first(conn)?;
                if removed.is_some() {
                    diesel::delete(associations::table.find((id, &contact.id))).execute(conn)?;
                    change.targets.push((given.clone(), now));
                    continue;
                }
            }
            let total = propagation::covered_count(conn, &scope)?;
            if total <= inline_limit {
                propagation::remove_all(conn, &contact.id, &scope)?;
            } else {
                let path = match &scope {
                    Scope::Subtree { path } => path.clone(),
                    Scope::Account { .. } | Scope::Contact { .. } => String::new(),
                };
                let job = jobs::enqueue(conn, &UnbindMembers(Propagation { contact_id: contact.id.clone(), scope, cursor: String::new(), done: 0, total }))?;
                diesel::insert_into(unbind_tasks::table)
                    .values((
                        unbind_tasks::job_id.eq(job),
                        unbind_tasks::contact_id.eq(&contact.id),
                        unbind_tasks::target_id.eq(given),
                        unbind_tasks::folder_path.eq(path),
                        unbind_tasks::created_at.eq(now),
                    ))
                    .execute(conn)?;
                change.jobs.push(job);
            }
            let _ = key;
            change.targets.push((given.clone(), now));
        }
        audit::record_all(conn, actor, change.targets.iter().map(|(t, _)| binding_event("binding.remove", &contact.id, t)))?;
        tracing::info!(contact.id = %contact.id, targets = change.targets.len(), "contact unbound");
        Ok(change)
    })
}

/// Rule B6: an unbinding task runs on a folder of this path's chain (root included).
pub fn unbind_running_over(conn: &mut AnyConnection, folder_path: &str) -> QueryResult<bool> {
    let tasks: Vec<String> = unbind_tasks::table.select(unbind_tasks::folder_path).load(conn)?;
    Ok(tasks.iter().any(|t| !t.is_empty() && folder_path.starts_with(t.as_str())))
}

/// One batch of a propagation job, in its own transaction with the job's checkpoint, so
/// that a crash resumes where it stopped. Returns the new state (None when finished).
pub fn propagation_step(
    conn: &mut AnyConnection,
    lease: &jobs::Lease,
    direction: Direction,
    state: &Propagation,
    batch: i64,
) -> Result<Option<Propagation>, ContactError> {
    crate::db::transaction(conn, |conn| {
        lock_directory(conn)?;
        let (n, next) = if direction == Direction::Add {
            propagation::add_batch(conn, &state.contact_id, &state.scope, &state.cursor, batch)?
        } else {
            propagation::remove_batch(conn, &state.contact_id, &state.scope, &state.cursor, batch)?
        };
        match next {
            Some(cursor) => {
                let next = Propagation { cursor, done: (state.done + n as i64).min(state.total), ..state.clone() };
                lease.checkpoint(conn, &next, next.done, next.total)?;
                Ok(Some(next))
            }
            None => {
                end_unbind_task(conn, lease.job_id)?;
                lease.checkpoint(conn, state, state.total, state.total)?;
                Ok(None)
            }
        }
    })
}

/// Drives a contact's binding, unbinding or removal batch by batch, the way its job and
/// `bench bind` both run it: each batch sized by time ([`jobs::Pace`]), and the planner's
/// statistics of the associations refreshed, outside the batch's transaction, once the
/// job has changed a good share of the table. A contact's share of the associations
/// decides its pages' plans: with statistics taken while another contact was bound at
/// the root of a million members, the page of a contact bound there next took 5.5 s (1 ms
/// once refreshed); and PostgreSQL's plans for a table it believes empty turn quadratic
/// as it grows.
#[derive(Debug)]
pub struct Batches {
    pace: jobs::Pace,
    /// The job's `done` when the statistics were last refreshed (or the job resumed).
    analyzed: i64,
    /// How long the last batch's transaction took.
    pub last: std::time::Duration,
}

/// A job that changes fewer associations than this never refreshes the statistics.
const ANALYZE_AFTER: i64 = 1_000;

impl Batches {
    /// `max_batch` is the configured batch size, the most a batch takes.
    pub fn new(max_batch: i64, state: &Propagation) -> Batches {
        Batches { pace: jobs::Pace::new(max_batch), analyzed: state.done, last: std::time::Duration::ZERO }
    }

    /// How many members the next batch takes.
    pub fn size(&self) -> i64 {
        self.pace.size()
    }

    /// One batch: of a binding or unbinding (`Some` direction), or of a removal (`None`).
    pub fn step(
        &mut self,
        conn: &mut AnyConnection,
        lease: &jobs::Lease,
        direction: Option<Direction>,
        state: &Propagation,
    ) -> Result<Option<Propagation>, ContactError> {
        let started = std::time::Instant::now();
        let next = match direction {
            Some(d) => propagation_step(conn, lease, d, state, self.pace.size())?,
            None => super::deletion::deletion_step(conn, lease, state, self.pace.size())?,
        };
        self.last = started.elapsed();
        self.pace.took(self.last);
        let done = next.as_ref().map_or(state.total.max(state.done), |n| n.done);
        self.refresh_statistics(conn, done, direction == Some(Direction::Add), next.is_none())?;
        Ok(next)
    }

    /// Due at the end of a job that changed a tenth as many rows as the statistics count,
    /// and while a binding runs, each time it has added as many (the table at most
    /// doubles between two refreshes: each one samples up to 30,000 rows, 50 ms at
    /// 100,000 associations, and refreshing at every half took a tenth of a bind). A
    /// contact believed to have fewer associations than it has gets plans that walk them
    /// one by one; one believed to have more, while its unbinding or removal runs, only a
    /// plan made for more rows.
    fn refresh_statistics(&mut self, conn: &mut AnyConnection, done: i64, adding: bool, finished: bool) -> QueryResult<()> {
        let changed = done - self.analyzed;
        if changed < ANALYZE_AFTER || !(adding || finished) {
            return Ok(());
        }
        let counted = crate::db::estimated_rows(conn, "associations")?;
        let share = if finished { 0.1 } else { 1.0 };
        if changed as f64 >= counted * share {
            crate::db::analyze(conn, &["associations"])?;
            self.analyzed = done;
        }
        Ok(())
    }
}

/// An unbinding task is over (finished or given up): rule B6 no longer holds for it.
pub fn end_unbind_task(conn: &mut AnyConnection, job_id: i64) -> QueryResult<()> {
    diesel::delete(unbind_tasks::table.find(job_id)).execute(conn).map(|_| ())
}
