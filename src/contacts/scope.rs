//! What the console shows about bindings: a contact's effective scope, the contacts of
//! a folder, and where each of a member's contacts comes from.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::bindings::{BindMembers, Binding, TargetKind, UnbindMembers, bindings_of};
use super::deletion::DeleteContact;
use super::models::Contact;
use super::propagation::covered_count;
use crate::db::AnyConnection;
use crate::db::paged::PagedDsl;
use crate::db::schema::{accounts, associations, contacts, folders};
use crate::domain::MessageTypes;
use crate::jobs::Job;

/// A binding with what it names and how many members it covers now.
#[derive(Debug, Clone)]
pub struct BoundTarget {
    pub binding: Binding,
    pub name: String,
    pub members: i64,
}

impl BoundTarget {
    pub fn kind_label(&self) -> &'static str {
        self.binding.target_kind.label()
    }
}

/// A member associated with the contact outside its bindings.
#[derive(Debug, Clone)]
pub struct SpecialMember {
    pub account_id: String,
    pub display_name: String,
    pub retained: MessageTypes,
}

impl SpecialMember {
    /// Rule U2's reason, as the console shows it.
    pub fn reason(&self) -> String {
        format!("the only {} recipient of this member", self.retained.labels())
    }
}

/// A propagation task of this contact that has not finished.
#[derive(Debug, Clone)]
pub struct RunningTask {
    pub id: i64,
    pub kind: &'static str,
    pub done: i64,
    pub total: i64,
    /// When it ended, and whether it failed (with why).
    pub finished: Option<(PrimitiveDateTime, Option<String>)>,
}

impl RunningTask {
    pub fn is_running(&self) -> bool {
        self.finished.is_none()
    }
    pub fn finished_at(&self) -> Option<PrimitiveDateTime> {
        self.finished.as_ref().map(|(t, _)| *t)
    }
    pub fn failure(&self) -> Option<&str> {
        self.finished.as_ref().and_then(|(_, e)| e.as_deref())
    }
    pub fn percent(&self) -> i64 {
        if self.total > 0 { (self.done * 100 / self.total).clamp(0, 100) } else { 0 }
    }
}

#[derive(Debug, Clone)]
pub struct EffectiveScope {
    pub targets: Vec<BoundTarget>,
    pub associated: i64,
    pub covered_sample: Vec<(String, String)>,
    pub retained: Vec<SpecialMember>,
    pub removed: Vec<SpecialMember>,
}

/// `retained_types <> 0`, written out rather than bound, so that the planner can use the
/// partial index that holds only the retained associations.
pub(crate) fn retained() -> Retained {
    Retained
}

/// [`retained`]'s expression: fixed SQL of a type of its own, so that the statements using
/// it are prepared once a connection (`diesel::dsl::sql` text is parsed and planned again
/// on every run: the folder and contact pages ran two such statements on each view).
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId, diesel::expression::ValidGrouping)]
pub(crate) struct Retained;

impl diesel::expression::Expression for Retained {
    type SqlType = diesel::sql_types::Bool;
}

impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for Retained {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("associations.retained_types <> 0");
        Ok(())
    }
}

impl<QS> diesel::expression::AppearsOnTable<QS> for Retained where associations::retained_types: diesel::expression::AppearsOnTable<QS> {}
impl<QS> diesel::expression::SelectableExpression<QS> for Retained where associations::retained_types: diesel::expression::SelectableExpression<QS> {}

/// A contact's Effective Scope: its targets, how many members each covers, the first
/// members by name, and those that keep it without a binding or left. Kept under the read
/// version (migration 000028); its tasks are read apart ([`running_tasks`]), since which
/// finished ones still show depends on the time.
pub fn effective_scope(conn: &mut AnyConnection, contact: &str) -> QueryResult<std::sync::Arc<EffectiveScope>> {
    SCOPES.kept_or_read(conn, contact, |conn| read_effective_scope(conn, contact).map(std::sync::Arc::new))
}

/// Contacts' Effective Scopes, by contact.
static SCOPES: crate::directory::KeptByVersion<std::sync::Arc<EffectiveScope>> = crate::directory::KeptByVersion::of_anything();

fn read_effective_scope(conn: &mut AnyConnection, contact: &str) -> QueryResult<EffectiveScope> {
    let mut targets = Vec::new();
    // The directory's members, asked once: a binding at the root covers them all, and
    // the choice of how to find the first members by name below needs them too.
    let mut everyone: Option<i64> = None;
    for binding in bindings_of(conn, contact)? {
        let name = match binding.target_kind {
            TargetKind::Account => accounts::table.find(&binding.target_key).select(accounts::display_name).first(conn).optional()?.unwrap_or_default(),
            TargetKind::Directory => "Whole directory".to_owned(),
            TargetKind::Folder => folders::table.find(&binding.target_key).select(folders::name).first(conn).optional()?.unwrap_or_default(),
        };
        let scope = binding.scope();
        let members = match (&scope, everyone) {
            (_, Some(n)) if scope.is_everyone() => n,
            (_, None) if scope.is_everyone() => *everyone.insert(covered_count(conn, &scope)?),
            _ => covered_count(conn, &scope)?,
        };
        targets.push(BoundTarget { binding, name, members });
    }
    let associated = super::propagation::association_count(conn, contact)?;
    // The first members by name. A contact that reaches a good share of the directory
    // is found by walking members in name order (a few probes); one with few members, by
    // sorting its own. Either way of the other would read every member of the directory.
    let everyone = match everyone {
        Some(n) => n,
        None => crate::directory::members_under(conn, "")?,
    };
    let dense = associated * 10 >= everyone;
    let covered_sample: Vec<(String, String)> = if dense {
        #[derive(QueryableByName)]
        struct Named {
            #[diesel(sql_type = diesel::sql_types::Text)]
            id: String,
            #[diesel(sql_type = diesel::sql_types::Text)]
            display_name: String,
        }
        // SQLite's planner, told by its statistics that a contact has a thousand
        // associations (an average over contacts), read all 100,000 of this one, to sort
        // them or to build a Bloom filter (15 ms). Its CROSS JOIN keeps the members, in
        // the order of their list's index, as the outer loop.
        let join = if crate::db::is_postgres(conn) { "JOIN" } else { "CROSS JOIN" };
        let sql = format!(
            "SELECT m.id, m.display_name FROM accounts m {join} associations a \
             ON a.account_id = m.id AND a.contact_id = $1 AND a.retained_types = 0 \
             WHERE m.removed_at IS NULL ORDER BY lower(m.display_name), m.id LIMIT 20"
        );
        crate::db::prepared::sql(sql).bind::<diesel::sql_types::Text, _>(contact).load::<Named>(conn)?.into_iter().map(|n| (n.id, n.display_name)).collect()
    } else {
        associations::table
            .inner_join(accounts::table)
            .filter(associations::contact_id.eq(contact))
            .filter(accounts::removed_at.is_null())
            .filter(associations::retained_types.eq(0))
            .order(accounts::display_name)
            .select((accounts::id, accounts::display_name))
            .limited(20)
            .load(conn)?
    };
    // Two small reads instead of one over every association, in one statement: the
    // retained ones (a partial index holds only those) and those of members that left the
    // directory (their own index, in its order, sorted by name below: ordering by name
    // there makes SQLite walk every member by name instead).
    #[derive(QueryableByName)]
    struct Special {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        display_name: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        retained_types: i32,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
        removed_at: Option<PrimitiveDateTime>,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        retained_row: i32,
    }
    let rows: Vec<Special> = crate::db::prepared::sql(
        "SELECT id, display_name, retained_types, removed_at, 1 AS retained_row FROM (\
            SELECT m.id AS id, m.display_name AS display_name, a.retained_types AS retained_types, m.removed_at AS removed_at \
            FROM associations a JOIN accounts m ON m.id = a.account_id \
            WHERE a.contact_id = $1 AND a.retained_types <> 0 ORDER BY m.display_name LIMIT 500) r \
         UNION ALL \
         SELECT id, display_name, retained_types, removed_at, 0 AS retained_row FROM (\
            SELECT m.id AS id, m.display_name AS display_name, a.retained_types AS retained_types, m.removed_at AS removed_at \
            FROM accounts m JOIN associations a ON a.account_id = m.id \
            WHERE m.removed_at IS NOT NULL AND a.contact_id = $1 ORDER BY m.removed_at DESC LIMIT 500) d",
    )
    .bind::<diesel::sql_types::Text, _>(contact)
    .load(conn)?;
    let (retained_rows, removed_rows): (Vec<Special>, Vec<Special>) = rows.into_iter().partition(|r| r.retained_row == 1);
    let as_tuple = |r: Special| (r.id, r.display_name, r.retained_types, r.removed_at);
    let retained_rows: Vec<_> = retained_rows.into_iter().map(as_tuple).collect();
    let removed_rows: Vec<_> = removed_rows.into_iter().map(as_tuple).collect();
    let mut special: Vec<_> = retained_rows.into_iter().filter(|r| r.3.is_none()).chain(removed_rows).collect();
    special.sort_by(|a, b| a.1.cmp(&b.1));
    special.truncate(500);
    let (mut retained, mut removed) = (Vec::new(), Vec::new());
    for (account_id, display_name, types, removed_at) in special {
        let m = SpecialMember { account_id, display_name, retained: MessageTypes::from_bits(types) };
        if removed_at.is_some() { removed.push(m) } else { retained.push(m) }
    }
    Ok(EffectiveScope { targets, associated, covered_sample, retained, removed })
}

/// A contact's tasks, unfinished or finished lately when read, by contact.
static TASKS: crate::directory::KeptByVersion<std::sync::Arc<Vec<crate::jobs::JobRow>>> = crate::directory::KeptByVersion::of_anything();

/// How long a finished task stays on its contact's page, so that whoever watched it run
/// sees how it ended.
pub const FINISHED_TASKS_SHOWN: time::Duration = time::Duration::minutes(10);

/// A contact's propagation jobs: the unfinished ones, and those that ended in the last
/// [`FINISHED_TASKS_SHOWN`].
/// Kept under the read version (migration 000028) with the time they were read at: as long
/// as nothing is written, the tasks shown later are those read, less those that have
/// finished too long ago since.
pub fn running_tasks(conn: &mut AnyConnection, contact: &str) -> QueryResult<Vec<RunningTask>> {
    let now = crate::db::now_utc();
    Ok(tasks_at(&kept_tasks(conn, contact, now)?, now))
}

/// What [`running_tasks`] reads at `now`, before the time decides which still show
/// ([`tasks_at`]).
pub fn kept_tasks(conn: &mut AnyConnection, contact: &str, now: PrimitiveDateTime) -> QueryResult<std::sync::Arc<Vec<crate::jobs::JobRow>>> {
    let since = now - FINISHED_TASKS_SHOWN;
    TASKS.kept_or_read(conn, contact, |conn| crate::jobs::tasks_about(conn, &super::jobs::about_contact(contact), since).map(std::sync::Arc::new))
}

/// The tasks of [`kept_tasks`] that show at `now`.
pub fn tasks_at(rows: &[crate::jobs::JobRow], now: PrimitiveDateTime) -> Vec<RunningTask> {
    let since = now - FINISHED_TASKS_SHOWN;
    rows.iter()
        .filter(|job| job.finished_at.is_none_or(|at| at >= since))
        .filter(|job| [BindMembers::KIND, UnbindMembers::KIND, DeleteContact::KIND].contains(&job.kind.as_str()))
        .map(|job| {
            let total = if job.progress_total > 0 {
                job.progress_total
            } else {
                serde_json::from_str::<super::bindings::Propagation>(&job.payload).map(|p| p.total).unwrap_or(0)
            };
            let kind = match job.kind.as_str() {
                BindMembers::KIND => "Binding",
                UnbindMembers::KIND => "Unbinding",
                _ => "Deletion",
            };
            let finished = job.finished_at.map(|t| (t, (job.status == crate::jobs::JobStatus::Failed).then(|| job.last_error.clone().unwrap_or_default())));
            RunningTask { id: job.id, kind, done: job.progress_done, total, finished }
        })
        .collect()
}

/// The contacts of a folder: bound to it, and inherited from the folders above.
/// The contacts bound to a folder, and those it inherits with the folder they come from.
pub type FolderContacts = (Vec<(Contact, Binding)>, Vec<(Contact, Binding, String)>);

///
/// Kept under the directory's search version, by the folder's path: bindings and contacts
/// move it on as they change (migration 000027), and the folders' names as they are
/// renamed.
pub fn folder_contacts(conn: &mut AnyConnection, folder_path: &str) -> QueryResult<FolderContacts> {
    FOLDER_CONTACTS.copy_or_read(conn, folder_path, |conn| read_folder_contacts(conn, folder_path))
}

static FOLDER_CONTACTS: crate::directory::KeptByVersion<std::sync::Arc<FolderContacts>> = crate::directory::KeptByVersion::with_contacts();

fn read_folder_contacts(conn: &mut AnyConnection, folder_path: &str) -> QueryResult<FolderContacts> {
    use crate::db::schema::bindings;
    let prefixes: Vec<String> = {
        let parts: Vec<&str> = folder_path.split('/').filter(|p| !p.is_empty()).collect();
        (1..=parts.len()).map(|n| format!("{}/", parts[..n].join("/"))).collect()
    };
    let rows: Vec<(Contact, Binding)> = bindings::table
        .inner_join(contacts::table)
        .filter(bindings::folder_path.eq_any(&prefixes))
        .order(contacts::name_key)
        .select((Contact::as_select(), Binding::as_select()))
        .load(conn)?;
    let names = folder_names(conn, rows.iter().map(|(_, b)| b).filter(|b| b.folder_path.as_deref() != Some(folder_path)))?;
    let (mut here, mut above) = (Vec::new(), Vec::new());
    for (c, b) in rows {
        if b.folder_path.as_deref() == Some(folder_path) {
            here.push((c, b));
        } else {
            let name = if b.target_kind.is_directory() { "the whole directory".to_owned() } else { names.get(&b.target_key).cloned().unwrap_or_default() };
            above.push((c, b, name));
        }
    }
    Ok((here, above))
}

/// The names of the folders these bindings are on, by id: one query, none when no binding
/// is on a folder below the root (a page once asked for each binding's folder in turn).
fn folder_names<'a>(conn: &mut AnyConnection, bindings: impl Iterator<Item = &'a Binding>) -> QueryResult<std::collections::HashMap<String, String>> {
    let ids: Vec<&str> = bindings.filter(|b| b.target_kind == TargetKind::Folder).map(|b| b.target_key.as_str()).collect();
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    Ok(folders::table.filter(folders::id.eq_any(ids)).select((folders::id, folders::name)).load::<(String, String)>(conn)?.into_iter().collect())
}

/// Contacts that members of a folder's subtree keep without a binding that covers them
/// (an unbinding or a deletion left them as the only recipient of some message type), with
/// how many of those members keep each. Two queries, kept under the read version
/// (migration 000028).
pub fn kept_in_subtree(conn: &mut AnyConnection, folder_path: &str) -> QueryResult<Vec<(Contact, i64)>> {
    KEPT_IN_SUBTREE.copy_or_read(conn, folder_path, |conn| read_kept_in_subtree(conn, folder_path))
}

/// The contacts members of a subtree keep without a binding, by the subtree's path.
static KEPT_IN_SUBTREE: crate::directory::KeptByVersion<std::sync::Arc<Vec<(Contact, i64)>>> = crate::directory::KeptByVersion::of_anything();

fn read_kept_in_subtree(conn: &mut AnyConnection, folder_path: &str) -> QueryResult<Vec<(Contact, i64)>> {
    // Most directories keep none: then the partial index says so at once (SQLite's planner
    // would otherwise walk every association of the subtree to find none).
    if !diesel::select(diesel::dsl::exists(associations::table.filter(retained()))).get_result::<bool>(conn)? {
        return Ok(Vec::new());
    }
    // From the few retained associations (a partial index) to their members' folders.
    let counts: Vec<(String, i64)> = associations::table
        .inner_join(accounts::table.inner_join(folders::table))
        .filter(retained())
        .filter(associations::mc_removed_at.is_null())
        .filter(accounts::removed_at.is_null())
        .filter(folders::path.like(format!("{folder_path}%")))
        .group_by(associations::contact_id)
        .select((associations::contact_id, diesel::dsl::count_star()))
        .load(conn)?;
    let ids: Vec<&str> = counts.iter().map(|(id, _)| id.as_str()).collect();
    let found: Vec<Contact> = contacts::table.filter(contacts::id.eq_any(ids)).order(contacts::name_key).select(Contact::as_select()).load(conn)?;
    Ok(found.into_iter().map(|c| (counts.iter().find(|(id, _)| *id == c.id).map_or(0, |(_, n)| *n), c)).map(|(n, c)| (c, n)).collect())
}

/// Where each of a member's contacts comes from.
#[derive(Debug, Clone)]
pub struct MemberContact {
    pub contact: Contact,
    pub source: String,
}

/// A member's contacts, each with where it comes from.
pub fn member_contacts(conn: &mut AnyConnection, account: &str, folder_path: Option<&str>, removed: bool) -> QueryResult<Vec<MemberContact>> {
    let rows: Vec<(Contact, i32)> = associations::table
        .inner_join(contacts::table)
        .filter(associations::account_id.eq(account))
        .order((contacts::name_key, contacts::id))
        .select((Contact::as_select(), associations::retained_types))
        .load(conn)?;
    member_contacts_of(conn, rows, account, folder_path, removed)
}

/// Where each of a member's contacts (with its association's retained types, as
/// `message_center::message_center_and_contacts` reads them) comes from.
pub fn member_contacts_of(
    conn: &mut AnyConnection,
    rows: Vec<(Contact, i32)>,
    account: &str,
    folder_path: Option<&str>,
    removed: bool,
) -> QueryResult<Vec<MemberContact>> {
    let ids: Vec<&str> = rows.iter().map(|(c, _)| c.id.as_str()).collect();
    let bound: Vec<Binding> = if ids.is_empty() { Vec::new() } else { super::bindings::bindings_of_contacts(conn, &ids)? };
    let names = folder_names(conn, bound.iter().filter(|b| folder_path.is_some_and(|p| covers_path(b, p))))?;
    let mut out = Vec::new();
    for (contact, retained) in rows {
        let own: Vec<Binding> = bound.iter().filter(|b| b.contact_id == contact.id).cloned().collect();
        let source = match source(&own, account, folder_path, retained, removed) {
            Source::Kept => "kept: the member left the directory".to_owned(),
            Source::Direct => "bound directly".to_owned(),
            Source::Directory => "inherited from the whole directory".to_owned(),
            Source::Folder(b) => format!("inherited from {}", names.get(&b.target_key).map_or("", String::as_str)),
            Source::Retained(types) => format!("retained: the only {} recipient of this member", types.labels()),
            Source::Associated => "associated".to_owned(),
        };
        out.push(MemberContact { contact, source });
    }
    Ok(out)
}

/// Where a member's association with a contact comes from.
enum Source<'a> {
    /// The member left the directory (rule B4).
    Kept,
    Direct,
    Directory,
    /// The deepest folder binding above the member.
    Folder(&'a Binding),
    /// Rule U2 kept it, for these types.
    Retained(MessageTypes),
    Associated,
}

/// `bound` are the contact's bindings; `folder_path` is the member's folder's path.
/// Whether the binding is on the folder at `path` or on one above it.
fn covers_path(b: &Binding, path: &str) -> bool {
    b.folder_path.as_deref().is_some_and(|fp| path.starts_with(fp))
}

fn source<'a>(bound: &'a [Binding], account: &str, folder_path: Option<&str>, retained: i32, removed: bool) -> Source<'a> {
    if removed {
        return Source::Kept;
    }
    if bound.iter().any(|b| b.account_id.as_deref() == Some(account)) {
        return Source::Direct;
    }
    let via_folder = folder_path.and_then(|p| bound.iter().filter(|b| covers_path(b, p)).max_by_key(|b| b.folder_path.as_ref().map(|s| s.len())));
    match via_folder {
        Some(b) if b.target_kind.is_directory() => Source::Directory,
        Some(b) => Source::Folder(b),
        None if retained != 0 => Source::Retained(MessageTypes::from_bits(retained)),
        None => Source::Associated,
    }
}

/// One member of a contact's scope, with the binding it comes through.
#[derive(Debug, Clone)]
pub struct CoveredMember {
    pub account_id: String,
    pub display_name: String,
    pub through: String,
}

/// Every member associated with the contact, by name, a page at a time, each with the
/// target it comes through (direct, a folder or the directory, retained, or kept).
pub fn covered_members(conn: &mut AnyConnection, contact: &str, page: crate::domain::PageRequest) -> QueryResult<crate::domain::Page<CoveredMember>> {
    let total: i64 = associations::table.filter(associations::contact_id.eq(contact)).count().get_result(conn)?;
    let page = page.within(total);
    // account id, display name, folder path, retained types, removed at
    type Row = (String, String, Option<String>, i32, Option<PrimitiveDateTime>);
    let rows: Vec<Row> = associations::table
        .inner_join(accounts::table)
        .left_join(folders::table.on(folders::id.nullable().eq(accounts::folder_id)))
        .filter(associations::contact_id.eq(contact))
        .order((accounts::display_name, accounts::id))
        .select((accounts::id, accounts::display_name, folders::path.nullable(), associations::retained_types, accounts::removed_at))
        .paged(&page)
        .load(conn)?;
    let bound = bindings_of(conn, contact)?;
    let items = rows
        .into_iter()
        .map(|(account_id, display_name, path, retained, removed)| {
            let through = match source(&bound, &account_id, path.as_deref(), retained, removed.is_some()) {
                Source::Kept => "kept: removed from the directory".to_owned(),
                Source::Direct => "bound directly".to_owned(),
                Source::Directory => "the whole directory".to_owned(),
                Source::Folder(b) => format!("folder {}", b.target_id),
                Source::Retained(types) => format!("retained: the only {} recipient", types.api_names().join(", ")),
                Source::Associated => "associated".to_owned(),
            };
            CoveredMember { account_id, display_name, through }
        })
        .collect();
    Ok(crate::domain::Page { items, total, request: page })
}
