//! The members a search matches, kept between requests for as long as the directory's
//! search version stands (migration 000018). The same search under load then costs one
//! row for the version and the page's rows by id, instead of reading and sorting every
//! match: `/directory?q=retail` matches 8,334 of 100,000 demo members.
//!
//! The version moves on with every committed change to what a search reads, from this
//! server, another one, or plain SQL. A search reads it before it searches, so what it
//! keeps is never older than the version it keeps it under. Inside a transaction nothing
//! is kept or used: the transaction may see its own changes before they count.
//!
//! Pages keep other reads under the same version ([`KeptByVersion`]): what they read of
//! members and folders (migrations 000018 and 000023), and of contacts and their bindings,
//! whose every change moves a second number of the version on (migration 000027; a search
//! and the reads of members and folders stay kept). A signed-in page reads the version in
//! its session's statement ([`with_offered_version`]); a folder page shown again then reads
//! only its history, its tags and whether any association is retained besides.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use diesel::RunQueryDsl;
use diesel::sql_types::{BigInt, Text};

use crate::db::{AnyConnection, prepared};

/// The first matches of a search that are kept, in order; a page beyond them asks the
/// database. 1,000 pages of 20.
pub(super) const KEPT_MATCHES: usize = 20_000;
/// A search's first read keeps its first 200 matches (ten pages of the console's 20, two
/// of the API's 100), and a page past them reads deeper, to twice as many each time
/// ([`depth`]). PostgreSQL then sorts only the first matches, not all of them: "retail"
/// at 100,000 members (8,334 matches) read in 15–18 ms instead of 31–48, and beside a busy
/// database the other requests for the same word wait on that read.
pub(super) const FIRST_KEPT: usize = 200;

/// How many matches a search keeps when a page asks for them up to `end`: [`FIRST_KEPT`],
/// doubled until it reaches `end`, and at most [`KEPT_MATCHES`].
pub(crate) fn depth(end: i64) -> usize {
    let end = usize::try_from(end).unwrap_or(0);
    let mut depth = FIRST_KEPT;
    while depth < end && depth < KEPT_MATCHES {
        depth *= 2;
    }
    depth.min(KEPT_MATCHES)
}
/// A search's first read counts up to this many matches as it reads them in order; a
/// search with more (a letter or two that most members have) counts them apart.
pub(super) const COUNTED_IN_ORDER: i64 = 200_000;
/// Matches kept across all searches, as 8-byte ids: 3.2 MB at most.
const KEPT_IDS: usize = 400_000;
/// Searches kept at once.
const KEPT_SEARCHES: usize = 256;

/// The directory's search version, as read before a search: members and folders move
/// `version` on, contacts and bindings `contacts` (migration 000027), and every other
/// table a page reads `activity` (migration 000028), so that a change to a contact keeps
/// every search and every kept read of members and folders, and a task's progress keeps
/// those and every kept read of contacts too. Deliveries move `deliveries` on (migration
/// 000029), which is read apart, only for what reads them ([`Reads::Everything`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, diesel::QueryableByName)]
pub(crate) struct Version {
    #[diesel(sql_type = Text)]
    nonce: String,
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = BigInt)]
    contacts: i64,
    #[diesel(sql_type = BigInt)]
    activity: i64,
    /// -1 as read with the rest, unless the request asked for it with its session
    /// ([`with_offered_version`]); [`deliveries_number`] fills it in when it is needed.
    #[diesel(sql_type = BigInt)]
    deliveries: i64,
}

/// What a kept value read, and so which numbers of the version it is kept under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reads {
    /// Members and folders only (what moves `version` on).
    Directory,
    /// Members, folders, contacts and bindings.
    Contacts,
    /// Any table but the deliveries: kept under all three numbers.
    Anything,
    /// Any table and the deliveries, their attempts and counts: under all four.
    Everything,
}

impl Version {
    /// The part of the version that what `reads` reads moves on.
    fn part(&self, reads: Reads) -> Version {
        match reads {
            Reads::Directory => Version { contacts: 0, activity: 0, deliveries: 0, ..self.clone() },
            Reads::Contacts => Version { activity: 0, deliveries: 0, ..self.clone() },
            Reads::Anything => Version { deliveries: 0, ..self.clone() },
            Reads::Everything => self.clone(),
        }
    }

    /// Whether a value kept under `self` is older than `newer` (of the same database).
    fn is_older_than(&self, newer: &Version) -> bool {
        self.nonce == newer.nonce
            && (self.version < newer.version || self.contacts < newer.contacts || self.activity < newer.activity || self.deliveries < newer.deliveries)
    }
}

thread_local! {
    /// Inside [`with_one_version`]: the version once read (`Some(None)` until then).
    static PINNED: std::cell::RefCell<Option<Option<Version>>> = const { std::cell::RefCell::new(None) };
    /// The version the request whose database work runs on this thread read with its
    /// session ([`offer_here`]).
    static OFFERED_HERE: std::cell::RefCell<Option<Version>> = const { std::cell::RefCell::new(None) };
}

tokio::task_local! {
    /// Inside [`with_offered_version`]: the version read with the request's session.
    static OFFERED: std::cell::RefCell<Option<Version>>;
    /// Inside [`with_offered_version`]: whether the session's statement reads the
    /// deliveries' number too.
    static WITH_DELIVERIES: bool;
}

/// Runs a request so that, when it writes nothing (GET or HEAD), the version its
/// session's statement reads beside the session ([`crate::auth::sessions::load_with_version`])
/// serves its views too: [`with_one_version`] then starts from it instead of reading it
/// again, a round trip less on every page that keeps values. The version is read as the
/// request starts, so every write committed before it is seen. A request that may write
/// reads its own after its writes.
///
/// A request for a view that reads the deliveries (the Notifications page) asks for their
/// number too (`with_deliveries`): it is then read in the same statement, and the view's
/// kept reads need no statement of their own.
pub async fn with_offered_version<F: std::future::Future>(writes_nothing: bool, with_deliveries: bool, request: F) -> F::Output {
    if writes_nothing { OFFERED.scope(std::cell::RefCell::new(None), WITH_DELIVERIES.scope(with_deliveries, request)).await } else { request.await }
}

/// Whether the running request's session statement reads the deliveries' number too.
pub(crate) fn offer_with_deliveries() -> bool {
    WITH_DELIVERIES.try_with(|with| *with).unwrap_or(false)
}

/// Offers the version read with the session to the request's views (dropped unless the
/// request runs in [`with_offered_version`] as one that writes nothing).
pub(crate) fn offer(version: Version) {
    let _ = OFFERED.try_with(|offered| *offered.borrow_mut() = Some(version));
}

/// Withdraws what was offered: the request turned out to be one that writes (an API
/// action other than `Get…` and `List…`).
pub(crate) fn withdraw_offer() {
    let _ = OFFERED.try_with(|offered| *offered.borrow_mut() = None);
}

/// The version the running request was offered, for [`crate::db::run`] to carry to the
/// thread that runs its database work.
pub(crate) fn offered() -> Option<Version> {
    OFFERED.try_with(|offered| offered.borrow().clone()).ok().flatten()
}

/// While the guard lives, [`with_one_version`] on this thread starts from `version`.
pub(crate) fn offer_here(version: Option<Version>) -> impl Drop {
    set_until_dropped(&OFFERED_HERE, version)
}

/// Sets a thread's slot, and empties it again when the guard is dropped (a panic too).
fn set_until_dropped<T: 'static>(slot: &'static std::thread::LocalKey<std::cell::RefCell<Option<T>>>, value: Option<T>) -> impl Drop {
    struct Empty<T: 'static>(&'static std::thread::LocalKey<std::cell::RefCell<Option<T>>>);
    impl<T: 'static> Drop for Empty<T> {
        fn drop(&mut self) {
            self.0.with(|s| *s.borrow_mut() = None);
        }
    }
    slot.with(|s| *s.borrow_mut() = value);
    Empty(slot)
}

/// Runs `f`, the reads of one read-only view, reading the search version at most once:
/// every kept value it asks for is then one of that version. A search page asks for three
/// (the members' matches, the folders' matches, the directory's totals), each of which
/// read the version again, a round trip each. Only for views that write nothing: after a
/// write in the same closure, the pinned version would be older than the write.
pub fn with_one_version<T>(f: impl FnOnce() -> T) -> T {
    if PINNED.with(|p| p.borrow().is_some()) {
        return f();
    }
    let offered = OFFERED_HERE.with(|o| o.borrow().clone());
    let _unpin = set_until_dropped(&PINNED, Some(offered));
    f()
}

/// The version a kept read is kept under: the one pinned by [`with_one_version`], or else
/// the one the request was offered ([`offer_here`]), or else read now.
pub(super) fn version(conn: &mut AnyConnection) -> diesel::QueryResult<Version> {
    match PINNED.with(|p| p.borrow().clone()) {
        Some(Some(pinned)) => return Ok(pinned),
        None => {
            if let Some(offered) = OFFERED_HERE.with(|o| o.borrow().clone()) {
                return Ok(offered);
            }
        }
        Some(None) => {}
    }
    let read = read_version(conn)?;
    PINNED.with(|p| {
        if let Some(slot) = p.borrow_mut().as_mut() {
            *slot = Some(read.clone());
        }
    });
    Ok(read)
}

/// The version's columns, read from `search_version v`. A PostgreSQL database made from
/// another as a template (as the tests make theirs) starts with the other's nonce: its name
/// tells them apart. A SQLite file draws its own nonce when it is created.
pub(crate) fn version_columns(conn: &mut AnyConnection) -> String {
    version_columns_with(conn, false)
}

/// [`version_columns`], and the deliveries' number when `with_deliveries` (otherwise -1).
pub(crate) fn version_columns_with(conn: &mut AnyConnection, with_deliveries: bool) -> String {
    let nonce = if crate::db::is_postgres(conn) { "v.nonce || '/' || current_database()" } else { "v.nonce" };
    let deliveries = if with_deliveries { format!("(SELECT {DELIVERIES_NUMBER} FROM delivery_marks)") } else { "CAST(-1 AS BIGINT)".to_owned() };
    format!(
        "{nonce} AS nonce, v.version AS version, v.contacts_version AS contacts, v.activity_version AS activity, \
         {deliveries} AS deliveries"
    )
}

/// The deliveries' number (migration 000029): the sum of their marks, which moves on
/// with each committed change to a delivery, an attempt or a count.
const DELIVERIES_NUMBER: &str = "CAST(COALESCE(SUM(marks), 0) AS BIGINT)";

#[derive(diesel::QueryableByName)]
struct Marks {
    #[diesel(sql_type = BigInt)]
    marks: i64,
}

/// The deliveries' number, read on its own ([`DELIVERIES_NUMBER`]).
fn deliveries_number(conn: &mut AnyConnection) -> diesel::QueryResult<i64> {
    let read: Marks = prepared::sql(format!("SELECT {DELIVERIES_NUMBER} AS marks FROM delivery_marks")).get_result(conn)?;
    Ok(read.marks)
}

fn read_version(conn: &mut AnyConnection) -> diesel::QueryResult<Version> {
    prepared::sql(format!("SELECT {} FROM search_version v WHERE v.id = 1", version_columns(conn))).get_result(conn)
}

/// A search's matches: the first [`KEPT_MATCHES`] member ids in the list's order, and how
/// many there are in all, or, before they are counted ([`Matches::first`]), one more than
/// the ids kept.
#[derive(Debug)]
pub(super) struct Matches {
    ids: Box<[u64]>,
    pub total: i64,
    /// Whether `total` is their count, not only a bound.
    pub counted: bool,
}

impl Matches {
    /// `None` when an id is not a member account id (16 digits): such a search is not kept.
    pub fn new(ids: &[String], total: i64) -> Option<Matches> {
        let ids = ids.iter().take(KEPT_MATCHES).map(|id| (id.len() == 16).then(|| id.parse().ok()).flatten()).collect::<Option<Box<[u64]>>>()?;
        Some(Matches { ids, total, counted: true })
    }

    /// The first matches of a search that has more than these, not yet counted: its total
    /// is then one more than they are, so that every page among them is found here and
    /// the next page past them reads deeper.
    pub fn first(ids: &[String]) -> Option<Matches> {
        let mut first = Matches::new(ids, 0)?;
        first.total = first.ids.len() as i64 + 1;
        first.counted = false;
        Some(first)
    }

    /// The same matches, counted.
    pub fn with_count(&self, total: i64) -> Matches {
        Matches { ids: self.ids.clone(), total, counted: true }
    }

    /// Whether every match up to `depth` is kept (or every match there is).
    pub fn covers(&self, depth: usize) -> bool {
        self.ids.len() >= depth.min(usize::try_from(self.total).unwrap_or(0))
    }

    /// The ids from `offset`, at most `size` of them; `None` when they are not all kept.
    pub fn page(&self, offset: i64, size: i64) -> Option<Vec<String>> {
        let start = usize::try_from(offset).ok()?;
        let end = start.saturating_add(usize::try_from(size).ok()?).min(usize::try_from(self.total).ok()?);
        if start >= end {
            return Some(Vec::new());
        }
        self.ids.get(start..end).map(|ids| ids.iter().map(|id| format!("{id:016}")).collect())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    version: Version,
    folder: Option<String>,
    text: String,
}

impl Key {
    fn new(version: &Version, folder: Option<&str>, text: &str) -> Key {
        Key { version: version.part(Reads::Directory), folder: folder.map(str::to_owned), text: text.trim().to_lowercase() }
    }
}

#[derive(Default)]
struct Store {
    searches: HashMap<Key, (Arc<Matches>, u64)>,
    ids: usize,
    clock: u64,
}

static KEPT: LazyLock<Mutex<Store>> = LazyLock::new(Mutex::default);

fn store() -> std::sync::MutexGuard<'static, Store> {
    // A panic while holding the lock leaves a consistent map: the worst is a lost entry.
    KEPT.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The matches kept for this search at this version.
pub(super) fn kept(version: &Version, folder: Option<&str>, text: &str) -> Option<Arc<Matches>> {
    let mut store = store();
    store.clock += 1;
    let now = store.clock;
    let (matches, used) = store.searches.get_mut(&Key::new(version, folder, text))?;
    *used = now;
    Some(Arc::clone(matches))
}

/// A folder search keeps its matches only up to this many folders (an id each).
pub(super) const KEPT_FOLDER_MATCHES: usize = 2_000;

/// Values kept under a database's search version, by a text; those of an older version
/// are dropped as a newer one is kept, and past [`KEPT_SEARCHES`] entries all are.
///
/// A value read from members and folders only is kept under their part of the version
/// ([`KeptByVersion::new`]); one that also reads contacts or bindings, under both parts
/// ([`KeptByVersion::with_contacts`]); one that reads any other table, under all three
/// ([`KeptByVersion::of_anything`]); one that also reads deliveries, under those and
/// their own number, read as it is asked for ([`KeptByVersion::of_everything`]). Such a
/// value must not depend on the time it is read at: it is shown again for as long as
/// nothing is written.
pub(crate) struct KeptByVersion<V>(LazyLock<Mutex<HashMap<(Version, String), V>>>, Reads, usize);

impl<V: Clone> KeptByVersion<V> {
    pub(crate) const fn new() -> KeptByVersion<V> {
        KeptByVersion(LazyLock::new(Mutex::default), Reads::Directory, KEPT_SEARCHES)
    }

    pub(crate) const fn with_contacts() -> KeptByVersion<V> {
        KeptByVersion(LazyLock::new(Mutex::default), Reads::Contacts, KEPT_SEARCHES)
    }

    pub(crate) const fn of_anything() -> KeptByVersion<V> {
        KeptByVersion(LazyLock::new(Mutex::default), Reads::Anything, KEPT_SEARCHES)
    }

    pub(crate) const fn of_everything() -> KeptByVersion<V> {
        KeptByVersion(LazyLock::new(Mutex::default), Reads::Everything, KEPT_SEARCHES)
    }

    /// As [`KeptByVersion::of_anything`], keeping at most `entries` values at once (all
    /// are dropped past them): for values as large as a whole page's reads.
    pub(crate) const fn of_anything_up_to(entries: usize) -> KeptByVersion<V> {
        KeptByVersion(LazyLock::new(Mutex::default), Reads::Anything, entries)
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<(Version, String), V>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The value kept for `key` at the database's current version, or what `read` finds
    /// (then kept under it). Inside a transaction, always `read`, and nothing is kept:
    /// the transaction may see its own changes before they count.
    pub(crate) fn kept_or_read<E: From<diesel::result::Error>>(
        &self,
        conn: &mut AnyConnection,
        key: &str,
        read: impl FnOnce(&mut AnyConnection) -> Result<V, E>,
    ) -> Result<V, E> {
        self.kept_or_read_if(conn, key, |_| true, read)
    }

    /// [`KeptByVersion::kept_or_read`], keeping what `read` finds only when `keep` says so.
    pub(crate) fn kept_or_read_if<E: From<diesel::result::Error>>(
        &self,
        conn: &mut AnyConnection,
        key: &str,
        keep: impl FnOnce(&V) -> bool,
        read: impl FnOnce(&mut AnyConnection) -> Result<V, E>,
    ) -> Result<V, E> {
        if crate::db::in_transaction(conn)? {
            return read(conn);
        }
        let mut version = version(conn)?.part(self.1);
        if self.1 == Reads::Everything && version.deliveries < 0 {
            version.deliveries = deliveries_number(conn)?;
        }
        if let Some(value) = self.map().get(&(version.clone(), key.to_owned())).cloned() {
            return Ok(value);
        }
        let value = read(conn)?;
        if keep(&value) {
            self.put(&version, key, value.clone());
        }
        Ok(value)
    }

    /// Keeps a value read after `version` (never older than it).
    fn put(&self, version: &Version, key: &str, value: V) {
        let mut kept = self.map();
        kept.retain(|(v, _), _| !v.is_older_than(version));
        if kept.len() >= self.2 {
            kept.clear();
        }
        kept.insert((version.clone(), key.to_owned()), value);
    }

    /// The value kept for `key` under the version the running request read with its
    /// session ([`offer`]), if there is one: found without a connection. A value that
    /// reads the deliveries is found here only when the session's statement read their
    /// number too.
    fn kept_for_offer(&self, key: &str) -> Option<V> {
        let version = offered()?.part(self.1);
        if version.deliveries < 0 && self.1 == Reads::Everything {
            return None;
        }
        self.map().get(&(version, key.to_owned())).cloned()
    }
}

impl<V: Clone + Send + 'static> KeptByVersion<V> {
    /// A whole view's reads, kept under `key`: what is kept under the version the
    /// request's session read is answered at once, on the request's own thread; anything
    /// else reads on the pool ([`crate::db::run`]) through [`KeptByVersion::kept_or_read`],
    /// under one version. A page shown again while nothing changed then makes no second
    /// trip to a database thread, whose hand-overs cost the most beside a busy database.
    pub(crate) async fn run_kept<E, F>(&'static self, pool: &crate::db::DbPool, key: String, read: F) -> Result<V, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<V, E> + Send + 'static,
        E: From<diesel::result::Error> + From<crate::db::PoolError> + Send + 'static,
    {
        self.run_kept_if(pool, key, |_| true, read).await
    }

    /// [`KeptByVersion::run_kept`], keeping what `read` finds only when `keep` says so.
    pub(crate) async fn run_kept_if<E, F>(&'static self, pool: &crate::db::DbPool, key: String, keep: fn(&V) -> bool, read: F) -> Result<V, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<V, E> + Send + 'static,
        E: From<diesel::result::Error> + From<crate::db::PoolError> + Send + 'static,
    {
        if let Some(value) = self.kept_for_offer(&key) {
            return Ok(value);
        }
        crate::db::run(pool, move |c| with_one_version(|| self.kept_or_read_if(c, &key, keep, read))).await
    }
}

impl<T: Clone> KeptByVersion<Arc<T>> {
    /// [`KeptByVersion::kept_or_read`] for a value kept behind an `Arc`: the caller gets
    /// its own copy of what is kept, or of what `read` found.
    pub(crate) fn copy_or_read<E: From<diesel::result::Error>>(
        &self,
        conn: &mut AnyConnection,
        key: &str,
        read: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        self.kept_or_read(conn, key, |conn| read(conn).map(Arc::new)).map(Arc::unwrap_or_clone)
    }
}

/// The folders a search matched (their ids, in the list's order), by lowercased text;
/// `None` for a search that matched more than [`KEPT_FOLDER_MATCHES`].
pub(super) static FOLDER_SEARCHES: KeptByVersion<Option<Arc<[String]>>> = KeptByVersion::new();

/// The directory's totals (folders without the root, current members), under "".
pub(super) static DIRECTORY_TOTALS: KeptByVersion<(i64, i64)> = KeptByVersion::new();

/// The current members under a folder path (a subtree), by path.
pub(super) static SUBTREE_MEMBERS: KeptByVersion<i64> = KeptByVersion::new();

/// Folders' paths by name (as [`super::folder_path_names`] answers), by their sorted ids:
/// the same page of a search shows the same members' paths, two round trips each view.
pub(super) static FOLDER_PATHS: KeptByVersion<Arc<HashMap<String, String>>> = KeptByVersion::new();

/// Folder rows (as [`super::folders_by_id`] answers), by their sorted ids: the folders of
/// a page of members that an API list shows again.
pub(super) static FOLDERS: KeptByVersion<Arc<Vec<super::Folder>>> = KeptByVersion::new();

/// Where a member can be moved (as [`super::move_choices`] reads it), by what was typed.
pub(super) static MOVE_CHOICES: KeptByVersion<Arc<(Vec<super::FolderOption>, bool)>> = KeptByVersion::new();

/// A folder, its count of members and the folders above it (as
/// [`super::folder_and_ancestors`] reads them), by the folder's id.
pub(super) static FOLDER_PLACES: KeptByVersion<Arc<(super::Folder, i64, Vec<super::Folder>)>> = KeptByVersion::new();

/// A folder with its counts (as [`super::folder_summary`] reads it), by the folder's id:
/// the tree and every search show the root's.
pub(super) static FOLDER_SUMMARIES: KeptByVersion<super::FolderSummary> = KeptByVersion::new();

/// A page of folders with their counts, found without tags, by parent, text and page.
pub(super) static FOLDER_PAGES: KeptByVersion<Arc<crate::domain::Page<super::FolderSummary>>> = KeptByVersion::new();

/// A page of a plain list of members (a folder's, or the whole directory's), by folder,
/// the total the caller knew, and page.
pub(super) static ACCOUNT_PAGES: KeptByVersion<Arc<crate::domain::Page<super::Account>>> = KeptByVersion::new();

/// Members by id (as [`super::get_account`] reads them): under the whole read version,
/// since not every column of a member moves the search version on (migration 000028).
pub(super) static ACCOUNTS: KeptByVersion<super::Account> = KeptByVersion::of_anything();

/// The rows of a page of a search's matches, by their ids: under the whole read version,
/// since not every column of a member moves the search version on (migration 000028).
pub(super) static MATCHED_ACCOUNTS: KeptByVersion<Arc<Vec<super::Account>>> = KeptByVersion::of_anything();

/// A member and the folders on its path (as [`super::get_account_and_path`] reads them),
/// by the member's id.
pub(super) static ACCOUNT_PLACES: KeptByVersion<Arc<(super::Account, Vec<super::Folder>)>> = KeptByVersion::new();

/// What a search's page needs of its count of matches. PostgreSQL reads a common word's
/// first matches (a top-N sort) and counts them apart ([`Matches::first`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// The count: read now, or waited for while another request reads it.
    Wait,
    /// The count when it is kept, or when no other request is reading this search (then
    /// this one counts it), except by the request that has just read the first matches:
    /// that page is answered without it, and asks for it next ([`Count::Wait`]).
    IfFree,
}

/// The searches being read from the database right now, and a signal when one ends.
static READING: LazyLock<(Mutex<std::collections::HashSet<Key>>, std::sync::Condvar)> = LazyLock::new(Default::default);

/// The kept matches of this search, when they reach `depth` ([`Matches::covers`]) and are
/// counted as `count` asks, or those `read` finds up to `depth` (then kept in their
/// place). `read` is given the kept matches that only want their count, if any. While one
/// request reads a search, the same search from other requests waits for it (up to 30 s)
/// instead of reading it too: fifty administrators opening the same common word at a
/// million members had each sorted its 83,000 matches and emptied the connection pool. A
/// request that can go without the count does not wait while another counts.
pub(super) fn kept_or_read<E>(
    version: &Version,
    folder: Option<&str>,
    text: &str,
    depth: usize,
    count: Count,
    read: impl FnOnce(usize, Option<&Matches>) -> Result<Option<Matches>, E>,
) -> Result<Option<Arc<Matches>>, E> {
    let key = Key::new(version, folder, text);
    let (reading, ended) = &*READING;
    let waited_until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let uncounted = loop {
        let found = kept(version, folder, text).filter(|m| m.covers(depth));
        if let Some(matches) = found.as_ref().filter(|m| m.counted) {
            return Ok(Some(Arc::clone(matches)));
        }
        let mut now_reading = reading.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let left = waited_until.saturating_duration_since(std::time::Instant::now());
        if now_reading.insert(key.clone()) || left.is_zero() {
            break found;
        }
        if let (Some(matches), Count::IfFree) = (found, count) {
            return Ok(Some(matches));
        }
        drop(ended.wait_timeout(now_reading, left).unwrap_or_else(std::sync::PoisonError::into_inner));
    };
    // Whatever happens to the read, the key is given back and the waiters woken.
    struct Done<'a>(&'a Key);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            let (reading, ended) = &*READING;
            reading.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(self.0);
            ended.notify_all();
        }
    }
    let _done = Done(&key);
    // Requests that arrive meanwhile wait in `first_turn`, before taking a connection (the
    // request's own turn, when it has one, already says so).
    let search = (key.folder.clone(), key.text.clone());
    let reads = if uncounted.is_some() { TurnFor::Count } else { TurnFor::Matches };
    let _turn = Turn::take(search, reads);
    Ok(read(depth, uncounted.as_deref())?.map(|matches| keep(version, folder, text, matches)))
}

/// A search whatever the version: its folder and lowercased text.
type Search = (Option<String>, String);

/// What a request reads of a search in its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TurnFor {
    /// Its matches (and maybe their count): the same search waits.
    Matches,
    /// Only the count of matches already kept: a page that can go without it goes on.
    Count,
}

/// The searches that one request reads now, or is about to read because nothing keeps
/// them yet, and what it reads of them.
static FIRST_READS: LazyLock<Mutex<HashMap<Search, TurnFor>>> = LazyLock::new(Default::default);

/// A request's turn at a search (see [`first_turn`]); dropping it lets the next one in.
#[must_use = "the turn lasts as long as it is held"]
pub struct Turn(Option<Search>);

impl Turn {
    /// The turn at `search` for a request about to read it, unless a request holds it
    /// already (this one, from [`first_turn`], or one that waits for this read): then no
    /// turn, but the turn says what is read. A request that took its turn to count matches
    /// of an older version reads the matches too, and the pages that can go without the
    /// count then wait for it in `first_turn`, not on a connection.
    fn take(search: Search, reads: TurnFor) -> Turn {
        let mut first = FIRST_READS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(held) = first.get_mut(&search) {
            *held = reads;
            return Turn(None);
        }
        first.insert(search.clone(), reads);
        Turn(Some(search))
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(key) = self.0.take() {
            FIRST_READS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&key);
        }
    }
}

/// Waits, holding neither a thread nor a database connection, while another request
/// reads the same search (at most 30 s), then goes on; call it before taking a
/// connection for a search whose page ends at match `end`. A search that nothing keeps
/// that deep yet is the caller's to read until the turn is dropped; one kept under any
/// version lets every request in (after a change the first to find its version gone
/// reads it, and the others wait here). Fifty requests for a new common word otherwise
/// each took a pooled connection, then waited on it for the one that read the word: at a
/// million members under load that read takes seconds, and every other page waited for
/// a connection too. A page that can go without the count ([`Count::IfFree`]) does not
/// wait while another request only counts.
pub async fn first_turn(folder: Option<&str>, text: &str, end: i64, count: Count) -> Turn {
    let key = (folder.map(str::to_owned), text.trim().to_lowercase());
    let depth = depth(end);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let kept_deep =
        |counted: bool| store().searches.iter().any(|(k, (kept, _))| k.folder == key.0 && k.text == key.1 && kept.covers(depth) && (kept.counted || !counted));
    loop {
        {
            let mut reads = FIRST_READS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match reads.get(&key) {
                None if kept_deep(count == Count::Wait) => return Turn(None),
                None => {
                    reads.insert(key.clone(), if kept_deep(false) { TurnFor::Count } else { TurnFor::Matches });
                    return Turn(Some(key));
                }
                Some(TurnFor::Count) if count == Count::IfFree && kept_deep(false) => return Turn(None),
                Some(_) => {}
            }
        }
        if std::time::Instant::now() >= until {
            return Turn(None);
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Keeps a search's matches, first forgetting those of older versions of the same
/// database, then the least recently used. A deeper read not yet counted takes the count
/// of the one it replaces.
pub(super) fn keep(version: &Version, folder: Option<&str>, text: &str, mut matches: Matches) -> Arc<Matches> {
    let mut store = store();
    if !matches.counted
        && let Some((earlier, _)) = store.searches.get(&Key::new(version, folder, text)).filter(|(m, _)| m.counted)
    {
        matches.total = earlier.total;
        matches.counted = true;
    }
    let matches = Arc::new(matches);
    store.clock += 1;
    let now = store.clock;
    let stale: Vec<Key> = store.searches.keys().filter(|k| k.version.is_older_than(&version.part(Reads::Directory))).cloned().collect();
    for key in stale {
        forget(&mut store, &key);
    }
    while !store.searches.is_empty() && (store.ids + matches.ids.len() > KEPT_IDS || store.searches.len() >= KEPT_SEARCHES) {
        let oldest = store.searches.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone());
        if let Some(key) = oldest {
            forget(&mut store, &key);
        }
    }
    store.ids += matches.ids.len();
    if let Some((old, _)) = store.searches.insert(Key::new(version, folder, text), (Arc::clone(&matches), now)) {
        store.ids -= old.ids.len();
    }
    matches
}

fn forget(store: &mut Store, key: &Key) {
    if let Some((old, _)) = store.searches.remove(key) {
        store.ids -= old.ids.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_view_reads_the_search_version_once_and_the_next_reads_it_again() {
        use diesel::Connection;
        let mut conn = AnyConnection::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap());
        crate::db::run_migrations(&mut conn).unwrap();
        let bump = |c: &mut AnyConnection| diesel::sql_query("UPDATE search_version SET version = version + 1").execute(c).unwrap();
        let (first, again) = with_one_version(|| {
            let first = version(&mut conn).unwrap();
            bump(&mut conn);
            (first, version(&mut conn).unwrap())
        });
        assert_eq!(first, again, "inside one view, the version read first");
        let after = version(&mut conn).unwrap();
        assert_ne!(after, first, "the next view reads the version that stands now");
        let unpinned = version(&mut conn).unwrap();
        bump(&mut conn);
        assert_ne!(version(&mut conn).unwrap(), unpinned, "outside a view, every read asks");
    }

    #[test]
    fn a_view_starts_from_the_version_offered_with_the_session_only_while_its_request_runs() {
        use diesel::Connection;
        let mut conn = AnyConnection::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap());
        crate::db::run_migrations(&mut conn).unwrap();
        let offered = read_version(&mut conn).unwrap();
        diesel::sql_query("UPDATE search_version SET version = version + 1").execute(&mut conn).unwrap();
        let seen = {
            let _offer = offer_here(Some(offered.clone()));
            with_one_version(|| version(&mut conn).unwrap())
        };
        assert_eq!(seen, offered, "the view uses the version read with the session, no read of its own");
        let next = with_one_version(|| version(&mut conn).unwrap());
        assert_ne!(next, offered, "the next request's work on this thread reads the version that stands now");
        assert!(offered.is_older_than(&next));
    }

    #[actix_web::test]
    async fn a_version_is_offered_to_requests_that_write_nothing_only() {
        let v = Version { nonce: "unit-offer".to_owned(), version: 7, contacts: 1, activity: 0, deliveries: 0 };
        let in_request = |writes_nothing| {
            let v = v.clone();
            with_offered_version(writes_nothing, false, async move {
                offer(v);
                offered()
            })
        };
        assert_eq!(in_request(true).await, Some(v.clone()), "a GET's views start from it");
        assert_eq!(in_request(false).await, None, "a request that may write reads its own version after its writes");
        let withdrawn = with_offered_version(true, false, async {
            offer(v.clone());
            withdraw_offer();
            offered()
        });
        assert_eq!(withdrawn.await, None, "an API action that writes withdraws it");
        offer(v);
        assert_eq!(offered(), None, "outside a request nothing is kept");
    }

    #[test]
    fn a_change_drops_the_kept_reads_of_what_it_changed_and_keeps_the_others() {
        use diesel::Connection;
        static DIRECTORY: KeptByVersion<i32> = KeptByVersion::new();
        static CONTACTS: KeptByVersion<i32> = KeptByVersion::with_contacts();
        static ANYTHING: KeptByVersion<i32> = KeptByVersion::of_anything();
        static EVERYTHING: KeptByVersion<i32> = KeptByVersion::of_everything();
        let mut conn = AnyConnection::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap());
        crate::db::run_migrations(&mut conn).unwrap();
        // What each keeps, when the database would now answer `value`.
        fn all(conn: &mut AnyConnection, value: i32) -> (i32, i32, i32, i32) {
            let mut read = |kept: &KeptByVersion<i32>| kept.kept_or_read(conn, "k", |_| Ok::<_, diesel::result::Error>(value)).unwrap();
            (read(&DIRECTORY), read(&CONTACTS), read(&ANYTHING), read(&EVERYTHING))
        }
        let bump = |conn: &mut AnyConnection, column: &str| {
            diesel::sql_query(format!("UPDATE search_version SET {column} = {column} + 1")).execute(conn).unwrap();
        };
        assert_eq!(all(&mut conn, 1), (1, 1, 1, 1));
        assert_eq!(all(&mut conn, 2), (1, 1, 1, 1), "kept while nothing changed");
        diesel::sql_query("UPDATE delivery_marks SET marks = marks + 1").execute(&mut conn).unwrap();
        assert_eq!(all(&mut conn, 3), (1, 1, 1, 3), "a delivery changed: only what read deliveries is read again");
        bump(&mut conn, "activity_version");
        assert_eq!(all(&mut conn, 4), (1, 1, 4, 4), "a task, a tag or the history changed: what read anything is read again");
        bump(&mut conn, "contacts_version");
        assert_eq!(all(&mut conn, 5), (1, 5, 5, 5), "a contact or binding changed: what read contacts is read again too");
        bump(&mut conn, "version");
        assert_eq!(all(&mut conn, 6), (6, 6, 6, 6), "a member or folder changed: all are read again");
    }

    fn ids(n: u64) -> Vec<String> {
        (0..n).map(|i| format!("{:016}", 1_000_000_000_000_000 + i)).collect()
    }

    type Read = std::thread::JoinHandle<Result<Option<Arc<Matches>>, ()>>;

    /// A request reading `text` under `version` on a thread of its own, held inside its
    /// read (given the kept matches that only want their count) until the sender is sent
    /// to; returns once that read has started.
    fn held_read(
        version: Version,
        text: &'static str,
        read: impl FnOnce(Option<&Matches>) -> Option<Matches> + Send + 'static,
    ) -> (std::sync::mpsc::Sender<()>, Read) {
        let (started, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
        let reader = std::thread::spawn(move || {
            kept_or_read::<()>(&version, None, text, 20, Count::Wait, |_, uncounted| {
                started.0.send(()).unwrap();
                release.1.recv().unwrap();
                Ok(read(uncounted))
            })
        });
        started.1.recv().unwrap();
        (release.0, reader)
    }

    #[test]
    fn a_page_of_kept_matches_is_their_slice_and_a_page_beyond_them_is_not_kept() {
        let m = Matches::new(&ids(25), 25).unwrap();
        assert_eq!(m.page(20, 10).unwrap(), ids(25)[20..].to_vec());
        assert_eq!(m.page(30, 10).unwrap(), Vec::<String>::new(), "past the end: no rows");
        let many = Matches::new(&ids(KEPT_MATCHES as u64 + 1), 30_000).unwrap();
        assert!(many.page(KEPT_MATCHES as i64 - 10, 20).is_none(), "the page runs past the kept matches");
        assert!(Matches::new(&["not-an-id".to_owned()], 1).is_none());
    }

    #[test]
    fn a_search_keeps_its_first_matches_and_a_later_page_reads_deeper_doubling() {
        assert_eq!((depth(20), depth(200), depth(201), depth(4_000), depth(4_020)), (200, 200, 400, 6_400, 6_400));
        assert_eq!(depth(1_000_000), KEPT_MATCHES, "never more than the kept matches");
        let v = Version { nonce: "unit-depth".to_owned(), version: 1, contacts: 0, activity: 0, deliveries: 0 };
        let read = |depth: usize, _: Option<&Matches>| Ok::<_, ()>(Matches::new(&ids(depth.min(1_000) as u64), 1_000));
        let first = kept_or_read(&v, None, "unit-depth", depth(20), Count::Wait, read).unwrap().unwrap();
        assert_eq!((first.ids.len(), first.total), (FIRST_KEPT, 1_000), "the first read keeps the first matches only");
        let again = kept_or_read(&v, None, "unit-depth", depth(200), Count::Wait, |_, _| -> Result<Option<Matches>, ()> { panic!("kept") }).unwrap().unwrap();
        assert_eq!(again.ids.len(), FIRST_KEPT, "a page among them reads nothing");
        let deeper = kept_or_read(&v, None, "unit-depth", depth(220), Count::Wait, read).unwrap().unwrap();
        assert_eq!(deeper.ids.len(), 400, "a page past them reads twice as deep, and keeps that");
        assert_eq!(deeper.page(200, 20).unwrap(), ids(220)[200..].to_vec());
        let all = kept_or_read(&v, None, "unit-depth", depth(990), Count::Wait, read).unwrap().unwrap();
        assert!(all.covers(depth(1_000_000)), "every match kept covers any page");
        assert_eq!(kept(&v, None, "unit-depth").unwrap().ids.len(), 1_000);
    }

    #[tokio::test]
    async fn a_search_kept_only_shallow_makes_a_deeper_page_wait_its_turn() {
        let v = Version { nonce: "unit-shallow".to_owned(), version: 1, contacts: 0, activity: 0, deliveries: 0 };
        keep(&v, None, "unit-shallow", Matches::new(&ids(FIRST_KEPT as u64), 5_000).unwrap());
        assert!(first_turn(None, "unit-shallow", 40, Count::Wait).await.0.is_none(), "a page among the kept matches goes on at once");
        let deep = first_turn(None, "unit-shallow", 1_000, Count::Wait).await;
        assert!(deep.0.is_some(), "a deeper page reads");
        let mut next = Box::pin(first_turn(None, "unit-shallow", 1_000, Count::Wait));
        assert!(tokio::time::timeout(std::time::Duration::from_millis(50), &mut next).await.is_err(), "and the next deep page waits for it");
    }

    #[test]
    fn keeping_a_newer_version_forgets_the_older_ones_of_the_same_database_only() {
        let v = |nonce: &str, version| Version { nonce: nonce.to_owned(), version, contacts: 0, activity: 0, deliveries: 0 };
        keep(&v("unit-a", 1), None, "Retail", Matches::new(&ids(3), 3).unwrap());
        keep(&v("unit-b", 1), None, "retail", Matches::new(&ids(2), 2).unwrap());
        assert_eq!(kept(&v("unit-a", 1), None, " RETAIL ").unwrap().total, 3, "the text is compared trimmed and in lower case");
        assert!(kept(&v("unit-a", 1), Some("f"), "retail").is_none(), "another folder is another search");
        keep(&v("unit-a", 2), None, "other", Matches::new(&ids(1), 1).unwrap());
        assert!(kept(&v("unit-a", 1), None, "retail").is_none());
        assert_eq!(kept(&v("unit-b", 1), None, "retail").unwrap().total, 2);
    }

    #[tokio::test]
    async fn a_request_for_a_search_nothing_keeps_waits_while_another_reads_it_and_not_once_it_is_kept() {
        let first = first_turn(None, "unit-turn", 20, Count::Wait).await;
        assert!(first.0.is_some(), "the first request reads");
        let mut second = Box::pin(first_turn(None, " UNIT-TURN ", 20, Count::Wait));
        let waited = tokio::time::timeout(std::time::Duration::from_millis(50), &mut second).await;
        assert!(waited.is_err(), "the same search waits while the first request holds its turn");
        drop(first);
        let second = tokio::time::timeout(std::time::Duration::from_secs(1), second).await.expect("goes on once the first is done");
        assert!(second.0.is_some());
        assert!(first_turn(Some("f"), "unit-turn", 20, Count::Wait).await.0.is_some(), "another folder is another search");
        drop(second);
        keep(
            &Version { nonce: "unit-turn".to_owned(), version: 1, contacts: 0, activity: 0, deliveries: 0 },
            None,
            "unit-turn",
            Matches::new(&ids(1), 1).unwrap(),
        );
        let (a, b) = (first_turn(None, "unit-turn", 20, Count::Wait).await, first_turn(None, "unit-turn", 20, Count::Wait).await);
        assert!(a.0.is_none() && b.0.is_none(), "a kept search, even of an older version, lets every request in at once");

        // A request that finds its version gone reads the search again: the others wait.
        let newer = Version { nonce: "unit-turn".to_owned(), version: 2, contacts: 0, activity: 0, deliveries: 0 };
        let (release, reader) = held_read(newer, "unit-turn", |_| Matches::new(&ids(2), 2));
        let mut waiting = Box::pin(first_turn(None, "unit-turn", 20, Count::Wait));
        assert!(tokio::time::timeout(std::time::Duration::from_millis(50), &mut waiting).await.is_err(), "waits while the read goes on");
        release.send(()).unwrap();
        assert_eq!(reader.join().unwrap().unwrap().unwrap().total, 2);
        let turn = tokio::time::timeout(std::time::Duration::from_secs(1), waiting).await.expect("goes on once it is read");
        assert!(turn.0.is_none(), "and finds it kept");
    }

    #[test]
    fn a_first_page_comes_before_its_count_and_the_next_view_counts_it() {
        let v = Version { nonce: "unit-count".to_owned(), version: 1, contacts: 0, activity: 0, deliveries: 0 };
        let first = |depth: usize, uncounted: Option<&Matches>| -> Result<Option<Matches>, ()> {
            assert!(uncounted.is_none(), "nothing is kept yet");
            Ok(Matches::first(&ids(depth as u64)))
        };
        let shown = kept_or_read(&v, None, "unit-count", depth(20), Count::IfFree, first).unwrap().unwrap();
        assert_eq!((shown.counted, shown.total), (false, FIRST_KEPT as i64 + 1), "one more than the matches found: there are more");
        assert_eq!(shown.page(180, 20).unwrap(), ids(200)[180..].to_vec(), "every page among them is found");
        assert!(shown.page(200, 20).is_none(), "the next page past them reads deeper");

        let counted = kept_or_read(&v, None, "unit-count", depth(20), Count::IfFree, |_, uncounted: Option<&Matches>| {
            Ok::<_, ()>(Some(uncounted.expect("the kept first matches, to count").with_count(5_000)))
        })
        .unwrap()
        .unwrap();
        assert_eq!((counted.counted, counted.total, counted.ids.len()), (true, 5_000, FIRST_KEPT), "the next view counts them");
        let again = kept_or_read(&v, None, "unit-count", depth(20), Count::Wait, |_, _| -> Result<Option<Matches>, ()> { panic!("kept") });
        assert_eq!(again.unwrap().unwrap().total, 5_000);

        // A deeper read of the first matches only keeps the count it replaces.
        let deeper = kept_or_read(&v, None, "unit-count", depth(220), Count::IfFree, |depth, _| Ok::<_, ()>(Matches::first(&ids(depth as u64))));
        let deeper = deeper.unwrap().unwrap();
        assert_eq!((deeper.ids.len(), deeper.counted, deeper.total), (400, true, 5_000));
    }

    #[tokio::test]
    async fn while_one_request_counts_a_page_that_can_go_without_the_count_does_not_wait_and_one_that_needs_it_does() {
        let v = Version { nonce: "unit-counting".to_owned(), version: 1, contacts: 0, activity: 0, deliveries: 0 };
        keep(&v, None, "unit-counting", Matches::first(&ids(FIRST_KEPT as u64)).unwrap());
        let (release, counter) = held_read(v.clone(), "unit-counting", |uncounted| Some(uncounted.expect("only counts").with_count(9_000)));
        let (turn, meanwhile) = (
            first_turn(None, "unit-counting", 20, Count::IfFree).await,
            kept_or_read::<()>(&v, None, "unit-counting", 20, Count::IfFree, |_, _| panic!("counted twice")),
        );
        assert!(turn.0.is_none(), "a page without the count goes on at once");
        assert!(!meanwhile.unwrap().unwrap().counted, "and is answered without it");
        let mut waiting = Box::pin(first_turn(None, "unit-counting", 20, Count::Wait));
        assert!(tokio::time::timeout(std::time::Duration::from_millis(50), &mut waiting).await.is_err(), "a page that needs the count waits for it");
        release.send(()).unwrap();
        assert_eq!(counter.join().unwrap().unwrap().unwrap().total, 9_000);
        let turn = tokio::time::timeout(std::time::Duration::from_secs(1), waiting).await.expect("goes on once it is counted");
        assert!(turn.0.is_none(), "and finds it kept, counted");
    }

    #[tokio::test]
    async fn a_turn_taken_to_count_an_older_versions_matches_makes_pages_without_the_count_wait_while_the_new_ones_are_read() {
        let old = Version { nonce: "unit-recount".to_owned(), version: 1, contacts: 0, activity: 0, deliveries: 0 };
        keep(&old, None, "unit-recount", Matches::first(&ids(FIRST_KEPT as u64)).unwrap());
        let turn = first_turn(None, "unit-recount", 20, Count::Wait).await;
        assert!(turn.0.is_some(), "the count is this request's to read");
        let newer = Version { nonce: "unit-recount".to_owned(), version: 2, contacts: 0, activity: 0, deliveries: 0 };
        let (release, reader) = held_read(newer, "unit-recount", |uncounted| {
            assert!(uncounted.is_none(), "the kept matches are of an older version: read again");
            Matches::new(&ids(3), 3)
        });
        let mut waiting = Box::pin(first_turn(None, "unit-recount", 20, Count::IfFree));
        assert!(tokio::time::timeout(std::time::Duration::from_millis(50), &mut waiting).await.is_err(), "the matches are being read: wait");
        release.send(()).unwrap();
        assert_eq!(reader.join().unwrap().unwrap().unwrap().total, 3);
        drop(turn);
        let after = tokio::time::timeout(std::time::Duration::from_secs(1), waiting).await.expect("goes on once they are read");
        assert!(after.0.is_none());
    }
}
