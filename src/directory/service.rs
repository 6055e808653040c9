use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::{Account, DirectoryError, Folder, FolderOption, FolderSummary, JoinMethod, ResourceDirectory, search};
use crate::audit::{self, Actor, Changes, Event};
use crate::db::paged::PagedDsl;
use crate::db::schema::{accounts, folders, resource_directories};
use crate::db::{AnyConnection, is_foreign_key_violation, is_unique_violation, now_utc, prepared};
use crate::domain::{AccountId, DisplayName, EmailAddress, FolderId, FolderName, MAX_FOLDER_DEPTH, Page, PageRequest, ResourceDirectoryId, Tag, TaggedKind};

type Result<T, E = DirectoryError> = std::result::Result<T, E>;

diesel::define_sql_function!(fn lower(x: Text) -> Text);

// The folders above a folder, each the parent of the one before: a folder is at most
// MAX_FOLDER_DEPTH below the root, so the fifth is the root when the folder is deepest.
diesel::alias! {
    const P1: Alias<Parent1> = folders as parent1;
    const P2: Alias<Parent2> = folders as parent2;
    const P3: Alias<Parent3> = folders as parent3;
    const P4: Alias<Parent4> = folders as parent4;
    const P5: Alias<Parent5> = folders as parent5;
}
const _: () = assert!(MAX_FOLDER_DEPTH == 5, "P1…P5 reach the root from the deepest folder");

/// `$query` (which has `folders`) left-joined to the folders above it, as P1…P5.
macro_rules! with_parents {
    ($query:expr) => {
        $query
            .left_join(P1.on(folders::parent_id.eq(P1.field(folders::id).nullable())))
            .left_join(P2.on(P1.field(folders::parent_id).eq(P2.field(folders::id).nullable())))
            .left_join(P3.on(P2.field(folders::parent_id).eq(P3.field(folders::id).nullable())))
            .left_join(P4.on(P3.field(folders::parent_id).eq(P4.field(folders::id).nullable())))
            .left_join(P5.on(P4.field(folders::parent_id).eq(P5.field(folders::id).nullable())))
    };
}

/// The columns of P1…P5, each as `Folder` reads them and null above the root.
macro_rules! parent_columns {
    () => {
        (parent_columns!(P1), parent_columns!(P2), parent_columns!(P3), parent_columns!(P4), parent_columns!(P5))
    };
    ($p:expr) => {
        (
            $p.field(folders::id),
            $p.field(folders::name),
            $p.field(folders::parent_id),
            $p.field(folders::depth),
            $p.field(folders::path),
            $p.field(folders::created_at),
        )
            .nullable()
    };
}

/// The folders P1…P5 read, nearest first.
type Parents = (Option<Folder>, Option<Folder>, Option<Folder>, Option<Folder>, Option<Folder>);

/// A folder (if any) and the folders above it as read with `parent_columns!`, the root first.
fn root_first(own: Option<Folder>, up: Parents) -> Vec<Folder> {
    let mut path: Vec<Folder> = own.into_iter().chain([up.0, up.1, up.2, up.3, up.4].into_iter().map_while(|f| f)).collect();
    path.reverse();
    path
}

/// A LIKE pattern that matches `q` anywhere, case-insensitively (compare with `lower`),
/// with `\` escaping the wildcards a user typed.
pub fn contains_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Creates the deployment's one resource directory and its root folder, if missing.
pub fn ensure_directory(conn: &mut AnyConnection, master_account_name: &str) -> Result<ResourceDirectory> {
    crate::db::transaction(conn, |conn| {
        if let Some(rd) = resource_directories::table.select(ResourceDirectory::as_select()).first(conn).optional()? {
            return Ok(rd);
        }
        let now = now_utc();
        let root = FolderId::generate_root();
        diesel::insert_into(folders::table)
            .values(&Folder { id: root.to_string(), name: "Root".into(), parent_id: None, depth: 0, path: format!("{root}/"), created_at: now })
            .execute(conn)?;
        let rd = ResourceDirectory {
            id: ResourceDirectoryId::generate().to_string(),
            root_folder_id: root.to_string(),
            master_account_id: AccountId::generate().to_string(),
            master_account_name: master_account_name.to_owned(),
            created_at: now,
        };
        diesel::insert_into(resource_directories::table).values(&rd).execute(conn)?;
        Ok(rd)
    })
}

pub fn get_directory(conn: &mut AnyConnection) -> Result<ResourceDirectory> {
    resource_directories::table.select(ResourceDirectory::as_select()).first(conn).optional()?.ok_or(DirectoryError::NoDirectory)
}

pub fn get_folder(conn: &mut AnyConnection, id: &FolderId) -> Result<Folder> {
    folders::table.find(id.as_str()).select(Folder::as_select()).first(conn).optional()?.ok_or_else(|| DirectoryError::FolderNotFound(id.to_string()))
}

/// The folder's ancestors, root first, without the folder itself.
pub fn ancestors(conn: &mut AnyConnection, folder: &Folder) -> Result<Vec<Folder>> {
    let ids = folder.ancestor_ids();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    by_depth(conn, &ids)
}

/// These folders, the root first.
fn by_depth(conn: &mut AnyConnection, ids: &[&str]) -> Result<Vec<Folder>> {
    let mut found: Vec<Folder> = folders::table.filter(folders::id.eq_any(ids)).select(Folder::as_select()).load(conn)?;
    found.sort_by_key(|f| f.depth);
    Ok(found)
}

/// The folder of this name (in any case) directly inside `parent`, if there is one.
pub fn child_named(conn: &mut AnyConnection, parent: &FolderId, name: &FolderName) -> Result<Option<Folder>> {
    Ok(folders::table
        .filter(folders::parent_id.eq(parent.as_str()))
        .filter(lower(folders::name).eq(name.as_str().to_lowercase()))
        .select(Folder::as_select())
        .first(conn)
        .optional()?)
}

fn name_taken(conn: &mut AnyConnection, parent: &str, name: &str, except: Option<&str>) -> QueryResult<bool> {
    let q =
        folders::table.filter(folders::parent_id.eq(parent)).filter(lower(folders::name).eq(name.to_lowercase())).filter(folders::id.ne(except.unwrap_or("")));
    diesel::select(diesel::dsl::exists(q)).get_result(conn)
}

pub fn create_folder(conn: &mut AnyConnection, parent: &FolderId, name: &FolderName, actor: &Actor) -> Result<Folder> {
    crate::db::transaction(conn, |conn| {
        let parent = get_folder(conn, parent)?;
        if parent.depth >= MAX_FOLDER_DEPTH {
            return Err(DirectoryError::TooDeep);
        }
        if name_taken(conn, &parent.id, name.as_str(), None)? {
            return Err(DirectoryError::FolderNameTaken(name.as_str().to_owned()));
        }
        let id = FolderId::generate();
        let folder = Folder {
            path: format!("{}{id}/", parent.path),
            id: id.to_string(),
            name: name.as_str().to_owned(),
            parent_id: Some(parent.id),
            depth: parent.depth + 1,
            created_at: now_utc(),
        };
        // The schema keeps names unique under a parent, so that of two simultaneous
        // creations one wins; a parent deleted meanwhile is gone.
        match diesel::insert_into(folders::table).values(&folder).execute(conn) {
            Err(e) if is_unique_violation(&e) => Err(DirectoryError::FolderNameTaken(name.as_str().to_owned())),
            Err(e) if is_foreign_key_violation(&e) => Err(DirectoryError::FolderNotFound(parent_id_of(&folder))),
            Err(e) => Err(e.into()),
            Ok(_) => {
                super::tags::forget(conn, TaggedKind::Folder, &folder.id)?;
                let changes = Changes::new().set("name", folder.name.clone()).set("parent", parent_id_of(&folder));
                audit::record(conn, actor, Event::new("folder.create", &folder.id).related(parent_id_of(&folder)).changes(changes))?;
                Ok(folder)
            }
        }
    })
}

fn parent_id_of(folder: &Folder) -> String {
    folder.parent_id.clone().unwrap_or_default()
}

pub fn rename_folder(conn: &mut AnyConnection, id: &FolderId, name: &FolderName, actor: &Actor) -> Result<Folder> {
    crate::db::transaction(conn, |conn| {
        let mut folder = get_folder(conn, id)?;
        let Some(parent) = folder.parent_id.clone() else {
            return Err(DirectoryError::RootFolder);
        };
        if name_taken(conn, &parent, name.as_str(), Some(&folder.id))? {
            return Err(DirectoryError::FolderNameTaken(name.as_str().to_owned()));
        }
        match diesel::update(folders::table.find(&folder.id)).set(folders::name.eq(name.as_str())).execute(conn) {
            Err(e) if is_unique_violation(&e) => return Err(DirectoryError::FolderNameTaken(name.as_str().to_owned())),
            other => other?,
        };
        let changes = Changes::new().field("name", folder.name.clone(), name.as_str());
        folder.name = name.as_str().to_owned();
        audit::record(conn, actor, Event::new("folder.rename", &folder.id).changes(changes))?;
        Ok(folder)
    })
}

/// Deletes an empty folder (no subfolders, no members).
pub fn delete_folder(conn: &mut AnyConnection, id: &FolderId, actor: &Actor) -> Result<Folder> {
    crate::db::transaction(conn, |conn| {
        let folder = get_folder(conn, id)?;
        if folder.is_root() {
            return Err(DirectoryError::RootFolder);
        }
        let subfolders: i64 = folders::table.filter(folders::parent_id.eq(&folder.id)).count().get_result(conn)?;
        if subfolders > 0 {
            return Err(DirectoryError::HasSubfolders(subfolders));
        }
        let members: i64 = accounts::table.filter(accounts::folder_id.eq(&folder.id)).count().get_result(conn)?;
        if members > 0 {
            return Err(DirectoryError::HasAccounts(members));
        }
        // A member or folder created inside it at the same moment keeps it.
        match diesel::delete(folders::table.find(&folder.id)).execute(conn) {
            Err(e) if is_foreign_key_violation(&e) => Err(DirectoryError::NotEmpty),
            Err(e) => Err(e.into()),
            Ok(_) => {
                super::tags::forget(conn, TaggedKind::Folder, &folder.id)?;
                let changes = Changes::new().field("name", folder.name.clone(), serde_json::Value::Null);
                audit::record(conn, actor, Event::new("folder.delete", &folder.id).related(parent_id_of(&folder)).changes(changes))?;
                Ok(folder)
            }
        }
    })
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Text)]
    id: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

const SUMMARY_SELECT: &str = "SELECT f.id, f.name, f.parent_id, f.depth, f.path, f.created_at, \
     (SELECT COUNT(*) FROM folders c WHERE c.parent_id = f.id) AS subfolders, \
     f.member_count AS members \
     FROM folders f";

/// The folders directly inside `parent`, by name, optionally filtered by name or id,
/// each with its own counts. Two queries whatever the page size.
pub fn list_subfolders(conn: &mut AnyConnection, parent: &FolderId, query: Option<&str>, page: PageRequest) -> Result<Page<FolderSummary>> {
    list_subfolders_tagged(conn, parent, query, &[], page)
}

/// As [`list_subfolders`], only folders that carry every tag of `tagged`.
pub fn list_subfolders_tagged(
    conn: &mut AnyConnection,
    parent: &FolderId,
    query: Option<&str>,
    tagged: &[Tag],
    page: PageRequest,
) -> Result<Page<FolderSummary>> {
    folder_summaries(conn, Some(parent), query.unwrap_or(""), tagged, page)
}

/// Folders, each with its counts, by name: directly inside `parent` (anywhere without
/// one), whose name or id contains `query`, that carry every tag of `tagged`. One query
/// (each row says how many match), two for a page past the last; a search of the whole
/// tree by text reads its matches once for each search version and then its page by id.
///
/// A page found without tags is kept under the search version: folders' names, places
/// and kept counts move it on (tags do not, so a page filtered by tag is read each time).
fn folder_summaries(conn: &mut AnyConnection, parent: Option<&FolderId>, query: &str, tagged: &[Tag], page: PageRequest) -> Result<Page<FolderSummary>> {
    if !tagged.is_empty() {
        return read_folder_summaries(conn, parent, query, tagged, page);
    }
    let key = format!("{}\0{query}\0{page:?}", parent.map_or("", FolderId::as_str));
    search::FOLDER_PAGES.copy_or_read(conn, &key, |conn| read_folder_summaries(conn, parent, query, tagged, page))
}

fn read_folder_summaries(conn: &mut AnyConnection, parent: Option<&FolderId>, query: &str, tagged: &[Tag], page: PageRequest) -> Result<Page<FolderSummary>> {
    #[derive(QueryableByName)]
    struct Counted {
        #[diesel(embed)]
        summary: FolderSummary,
        #[diesel(sql_type = BigInt)]
        total: i64,
    }
    // The filter in SQL, with numbered parameters bound in order.
    let mut filter = String::from("true");
    let mut binds: Vec<String> = Vec::new();
    if !query.is_empty() {
        binds.push(contains_pattern(query));
        filter.push_str(" AND (lower(f.name) LIKE $1 ESCAPE '\\' OR lower(f.id) LIKE $1 ESCAPE '\\')");
    }
    if let Some(parent) = parent {
        binds.push(parent.as_str().to_owned());
        filter.push_str(&format!(" AND f.parent_id = ${}", binds.len()));
    }
    for t in tagged {
        binds.push(t.key.as_str().to_owned());
        filter.push_str(&format!(" AND f.id IN (SELECT resource_id FROM tags WHERE resource_type = 'Folder' AND tag_key = ${}", binds.len()));
        if !t.value.as_str().is_empty() {
            binds.push(t.value.as_str().to_owned());
            filter.push_str(&format!(" AND tag_value = ${}", binds.len()));
        }
        filter.push(')');
    }
    let read = |conn: &mut AnyConnection, page: PageRequest| -> Result<Vec<Counted>> {
        let sql = format!("SELECT s.*, COUNT(*) OVER () AS total FROM ({SUMMARY_SELECT} WHERE {filter}) s ORDER BY lower(s.name), s.id");
        Ok(prepared::sql(sql).bind_all::<Text, _>(binds.clone()).paged(&page).load(conn)?)
    };
    // A search of the whole tree by text: its matches kept between views while the search
    // version stands (at 10,000 folders PostgreSQL took 5.8 ms to find them on each view).
    if parent.is_none() && tagged.is_empty() && !query.is_empty() {
        let ids = search::FOLDER_SEARCHES.kept_or_read(conn, &query.trim().to_lowercase(), |conn| -> Result<_> {
            let limit = search::KEPT_FOLDER_MATCHES as i64 + 1;
            let sql = format!("SELECT f.id AS id FROM folders f WHERE {filter} ORDER BY lower(f.name), f.id LIMIT ${}", binds.len() + 1);
            let ids: Vec<String> =
                prepared::sql(sql).bind_all::<Text, _>(binds.clone()).bind::<BigInt, _>(limit).load::<Id>(conn)?.into_iter().map(|r| r.id).collect();
            Ok((ids.len() < limit as usize).then(|| ids.into()))
        })?;
        if let Some(ids) = ids {
            let total = ids.len() as i64;
            let page = page.within(total);
            let from = usize::try_from(page.offset()).unwrap_or(usize::MAX).min(ids.len());
            let wanted = &ids[from..(from + usize::try_from(page.size).unwrap_or(0)).min(ids.len())];
            let mut items = if wanted.is_empty() {
                Vec::new()
            } else {
                let list = (1..=wanted.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
                prepared::sql(format!("{SUMMARY_SELECT} WHERE f.id IN ({list})")).bind_all::<Text, _>(wanted.iter().cloned()).load::<FolderSummary>(conn)?
            };
            items.sort_by_key(|f| wanted.iter().position(|id| *id == f.folder.id));
            return Ok(Page { items, total, request: page });
        }
    }
    let rows = read(conn, page)?;
    if let Some(total) = rows.first().map(|r| r.total) {
        return Ok(Page { items: rows.into_iter().map(|r| r.summary).collect(), total, request: page });
    }
    if page.offset() == 0 {
        return Ok(Page { items: Vec::new(), total: 0, request: page.within(0) });
    }
    // Past the last page no row says how many there are: counted, then the last page.
    let total: i64 =
        prepared::sql(format!("SELECT COUNT(*) AS n FROM folders f WHERE {filter}")).bind_all::<Text, _>(binds.clone()).get_result::<Count>(conn)?.n;
    let page = page.within(total);
    let items = if page.offset() < total { read(conn, page)?.into_iter().map(|r| r.summary).collect() } else { Vec::new() };
    Ok(Page { items, total, request: page })
}

/// One folder with its counts; kept under the search version, which its name, place and
/// counts move on.
pub fn folder_summary(conn: &mut AnyConnection, id: &FolderId) -> Result<FolderSummary> {
    search::FOLDER_SUMMARIES.kept_or_read(conn, id.as_str(), |conn| {
        prepared::sql(format!("{SUMMARY_SELECT} WHERE f.id = $1"))
            .bind::<Text, _>(id.as_str())
            .get_result::<FolderSummary>(conn)
            .optional()?
            .ok_or_else(|| DirectoryError::FolderNotFound(id.to_string()))
    })
}

/// A folder, its kept count of members and the folders above it (root first, without the
/// folder), in one query.
///
/// Kept under the search version: a folder's row, its count of members and the folders
/// above it change only as folders are renamed, moved or counted again, which move it on.
pub fn folder_and_ancestors(conn: &mut AnyConnection, id: &FolderId) -> Result<(Folder, i64, Vec<Folder>)> {
    search::FOLDER_PLACES.copy_or_read(conn, id.as_str(), |conn| read_folder_and_ancestors(conn, id))
}

fn read_folder_and_ancestors(conn: &mut AnyConnection, id: &FolderId) -> Result<(Folder, i64, Vec<Folder>)> {
    let (folder, members, up): (Folder, i64, Parents) = with_parents!(folders::table)
        .filter(folders::id.eq(id.as_str()))
        .select((Folder::as_select(), folders::member_count, parent_columns!()))
        .first(conn)
        .optional()?
        .ok_or_else(|| DirectoryError::FolderNotFound(id.to_string()))?;
    Ok((folder, members, root_first(None, up)))
}

/// Folders whose name or id contains `query`, anywhere in the tree.
pub fn search_folders(conn: &mut AnyConnection, query: &str, page: PageRequest) -> Result<Page<FolderSummary>> {
    folder_summaries(conn, None, query, &[], page)
}

/// As [`search_folders`], only folders that carry every tag of `tagged`.
pub fn search_folders_tagged(conn: &mut AnyConnection, query: &str, tagged: &[Tag], page: PageRequest) -> Result<Page<FolderSummary>> {
    folder_summaries(conn, None, query, tagged, page)
}

/// Up to this many folders, moving a member offers every folder in one list.
pub const MOVE_CHOICES_ALL: i64 = 300;

/// Where a member in `current` (its folder's id and path of names) can be moved: every
/// folder in tree order when the directory has at most [`MOVE_CHOICES_ALL`]; otherwise
/// the folders whose name or id contains `query` (50, shown by path), or the root and its
/// top level while nothing was typed, with the member's own folder first when the list
/// would leave it out. The flag says whether the list is narrowed (the page then offers a
/// search). The list is kept under the search version (it reads only folders' names,
/// places and counts, which move the version on), so a member page shown again reads no
/// folder for it.
pub fn move_choices(conn: &mut AnyConnection, current: Option<(&str, &str)>, query: &str) -> Result<(Vec<FolderOption>, bool)> {
    let (mut options, narrowed) = search::MOVE_CHOICES.copy_or_read(conn, query, |conn| read_move_choices(conn, query))?;
    if let Some((current, path)) = current.filter(|(c, _)| narrowed && !options.iter().any(|o| o.id == *c)) {
        options.insert(0, FolderOption { id: current.to_owned(), label: format!("{path} (current)"), depth: 0 });
    }
    Ok((options, narrowed))
}

/// [`move_choices`] as the database has them, before the member's own folder is added.
/// One query for a narrowed list while nothing is typed.
fn read_move_choices(conn: &mut AnyConnection, query: &str) -> Result<(Vec<FolderOption>, bool)> {
    // The top level by name (the `folders_by_depth` index's order), each row saying
    // whether there are more than MOVE_CHOICES_ALL folders in all (not how many: counting
    // 10,000 folders took 1–1.3 ms of a member page's 4). One query where there are.
    #[derive(QueryableByName)]
    struct TopLevel {
        #[diesel(sql_type = Text)]
        id: String,
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        depth: i32,
        #[diesel(sql_type = BigInt)]
        seen: i64,
    }
    let top: Vec<TopLevel> = prepared::sql(
        "SELECT id, name, depth, (SELECT COUNT(*) FROM (SELECT 1 AS one FROM folders LIMIT $1) s) AS seen \
         FROM folders WHERE depth <= 1 ORDER BY depth, lower(name), id LIMIT $2",
    )
    .bind::<BigInt, _>(MOVE_CHOICES_ALL + 1)
    .bind::<BigInt, _>(MOVE_CHOICES_ALL)
    .load(conn)?;
    if top.first().is_none_or(|t| t.seen <= MOVE_CHOICES_ALL) {
        return Ok((folder_options(conn)?, false));
    }
    let options: Vec<FolderOption> = if query.is_empty() {
        top.into_iter().map(|t| FolderOption { id: t.id, label: t.name, depth: t.depth }).collect()
    } else {
        let found = search_folders_tagged(conn, query, &[], PageRequest::with_size(None, 50))?;
        let ids: Vec<&str> = found.items.iter().map(|s| s.folder.id.as_str()).collect();
        let paths = folder_path_names(conn, &ids)?;
        found.items.iter().map(|s| FolderOption { id: s.folder.id.clone(), label: paths.get(&s.folder.id).cloned().unwrap_or_default(), depth: 0 }).collect()
    };
    Ok((options, true))
}

/// Every folder as an indented choice, in tree order (parents before children, siblings
/// by name). One query; a directory has at most a few thousand folders.
pub fn folder_options(conn: &mut AnyConnection) -> Result<Vec<FolderOption>> {
    let all: Vec<Folder> = folders::table.select(Folder::as_select()).load(conn)?;
    let mut children: std::collections::HashMap<Option<&str>, Vec<&Folder>> = std::collections::HashMap::new();
    for f in &all {
        children.entry(f.parent_id.as_deref()).or_default().push(f);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id)));
    }
    let mut out = Vec::with_capacity(all.len());
    let mut stack: Vec<&Folder> = children.get(&None).cloned().unwrap_or_default();
    stack.reverse();
    while let Some(f) = stack.pop() {
        out.push(FolderOption { id: f.id.clone(), label: f.name.clone(), depth: f.depth });
        if let Some(kids) = children.get(&Some(f.id.as_str())) {
            stack.extend(kids.iter().rev());
        }
    }
    Ok(out)
}

/// A member and the folders on its path, the root first and its own folder last (none
/// once it is removed), in one query.
///
/// Kept under the search version: what a member row holds changes only with its name,
/// security email, folder or removal, and its folders' only as they are renamed or moved,
/// all of which move the version on.
pub fn get_account_and_path(conn: &mut AnyConnection, id: &AccountId) -> Result<(Account, Vec<Folder>)> {
    search::ACCOUNT_PLACES.copy_or_read(conn, id.as_str(), |conn| read_account_and_path(conn, id))
}

fn read_account_and_path(conn: &mut AnyConnection, id: &AccountId) -> Result<(Account, Vec<Folder>)> {
    let (account, own, up): (Account, Option<Folder>, Parents) =
        with_parents!(accounts::table.left_join(folders::table.on(folders::id.nullable().eq(accounts::folder_id))))
            .filter(accounts::id.eq(id.as_str()))
            .select((Account::as_select(), Option::<Folder>::as_select(), parent_columns!()))
            .first(conn)
            .optional()?
            .ok_or_else(|| DirectoryError::AccountNotFound(id.to_string()))?;
    Ok((account, root_first(own, up)))
}

/// A member with its folder (none once removed), in one query.
pub fn get_account_in_folder(conn: &mut AnyConnection, id: &AccountId) -> Result<(Account, Option<Folder>)> {
    accounts::table
        .left_join(folders::table.on(folders::id.nullable().eq(accounts::folder_id)))
        .filter(accounts::id.eq(id.as_str()))
        .select((Account::as_select(), Option::<Folder>::as_select()))
        .first(conn)
        .optional()?
        .ok_or_else(|| DirectoryError::AccountNotFound(id.to_string()))
}

pub fn get_account(conn: &mut AnyConnection, id: &AccountId) -> Result<Account> {
    search::ACCOUNTS.kept_or_read(conn, id.as_str(), |conn| {
        accounts::table.find(id.as_str()).select(Account::as_select()).first(conn).optional()?.ok_or_else(|| DirectoryError::AccountNotFound(id.to_string()))
    })
}

/// A member still in the directory.
pub fn get_current_account(conn: &mut AnyConnection, id: &AccountId) -> Result<Account> {
    let account = get_account(conn, id)?;
    if account.is_removed() {
        return Err(DirectoryError::AccountRemoved(id.to_string()));
    }
    Ok(account)
}

/// What a new member account is made of.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub display_name: DisplayName,
    pub folder: FolderId,
    pub security_email: Option<EmailAddress>,
    /// The part of the account name before `@`; the account id when absent.
    pub account_name_prefix: Option<String>,
    pub join_method: JoinMethod,
}

/// Adds the member's row only; `membership::create_account` also gives it its Message
/// Center and its contacts.
pub fn insert_account(conn: &mut AnyConnection, new: &NewAccount) -> Result<Account> {
    crate::db::transaction(conn, |conn| {
        let folder = get_folder(conn, &new.folder)?;
        let rd = get_directory(conn)?;
        // A clash of 16 random digits is unlikely but possible: try a fresh id.
        for _ in 0..5 {
            let id = AccountId::generate();
            let prefix = new.account_name_prefix.clone().unwrap_or_else(|| id.to_string());
            let now = now_utc();
            let account = Account {
                account_name: format!("{prefix}@{}.rd-contacts.local", rd.id.to_lowercase()),
                id: id.to_string(),
                display_name: new.display_name.as_str().to_owned(),
                folder_id: Some(folder.id.clone()),
                security_email: new.security_email.as_ref().map(|e| e.as_str().to_owned()),
                join_method: new.join_method.as_str().to_owned(),
                joined_at: now,
                modified_at: now,
                removed_at: None,
            };
            match crate::db::transaction(conn, |conn| diesel::insert_into(accounts::table).values(&account).execute(conn)) {
                Ok(_) => {
                    count_members(conn, &folder.id, 1)?;
                    return Ok(account);
                }
                Err(e) if is_unique_violation(&e) => continue,
                // The folder was deleted at the same moment.
                Err(e) if is_foreign_key_violation(&e) => return Err(DirectoryError::FolderNotFound(folder.id.clone())),
                Err(e) => return Err(e.into()),
            }
        }
        Err(diesel::result::Error::RollbackTransaction.into())
    })
}

/// Changes a member's display name and, when given, its security email.
pub fn update_account(
    conn: &mut AnyConnection,
    id: &AccountId,
    name: Option<&DisplayName>,
    security_email: Option<Option<&EmailAddress>>,
    actor: &Actor,
) -> Result<Account> {
    crate::db::transaction(conn, |conn| {
        let mut account = get_current_account(conn, id)?;
        let before = account.clone();
        if let Some(name) = name {
            account.display_name = name.as_str().to_owned();
        }
        if let Some(email) = security_email {
            account.security_email = email.map(|e| e.as_str().to_owned());
        }
        account.modified_at = now_utc();
        diesel::update(accounts::table.find(&account.id))
            .set((
                accounts::display_name.eq(&account.display_name),
                accounts::security_email.eq(&account.security_email),
                accounts::modified_at.eq(account.modified_at),
            ))
            .execute(conn)?;
        let changes = Changes::new().field("display_name", before.display_name, account.display_name.clone()).field(
            "security_email",
            before.security_email,
            account.security_email.clone(),
        );
        if !changes.is_empty() {
            audit::record(conn, actor, Event::new("account.update", &account.id).changes(changes))?;
        }
        Ok(account)
    })
}

/// Puts a member in another folder (the row only; `membership::move_account` applies the
/// rules of a move).
pub fn set_account_folder(conn: &mut AnyConnection, account: &Account, dest: &Folder) -> Result<Account> {
    crate::db::transaction(conn, |conn| {
        let mut account = account.clone();
        let destination = dest.id.clone();
        let source = account.folder_id.clone();
        account.folder_id = Some(dest.id.clone());
        account.modified_at = now_utc();
        match diesel::update(accounts::table.find(&account.id))
            .set((accounts::folder_id.eq(&account.folder_id), accounts::modified_at.eq(account.modified_at)))
            .execute(conn)
        {
            Err(e) if is_foreign_key_violation(&e) => return Err(DirectoryError::FolderNotFound(destination.to_string())),
            other => other?,
        };
        // Both counts change in the order of the folders' ids, so that two moves the
        // other way round cannot deadlock.
        let mut changes = Vec::new();
        if !account.is_removed() && source.as_deref() != Some(destination.as_str()) {
            changes.push((destination.clone(), 1));
            changes.extend(source.map(|from| (from, -1)));
        }
        changes.sort();
        for (folder, by) in changes {
            count_members(conn, &folder, by)?;
        }
        Ok(account)
    })
}

/// Takes a member out of the directory. Its row stays, without a folder, so that what
/// was bound to it is kept (rule B4).
pub fn remove_account(conn: &mut AnyConnection, id: &AccountId, actor: &Actor) -> Result<Account> {
    crate::db::transaction(conn, |conn| {
        let mut account = get_current_account(conn, id)?;
        let now = now_utc();
        account.removed_at = Some(now);
        account.modified_at = now;
        let folder = account.folder_id.take();
        diesel::update(accounts::table.find(&account.id))
            .set((accounts::folder_id.eq(None::<String>), accounts::removed_at.eq(Some(now)), accounts::modified_at.eq(now)))
            .execute(conn)?;
        if let Some(folder) = &folder {
            count_members(conn, folder, -1)?;
        }
        super::tags::forget(conn, TaggedKind::Account, &account.id)?;
        let mut event = Event::new("account.remove", &account.id).changes(Changes::new().field("folder", folder.clone(), serde_json::Value::Null));
        event.related = folder;
        audit::record(conn, actor, event)?;
        Ok(account)
    })
}

/// What a person calls each of these folders and members: a folder's name ("Root (the
/// whole directory)" for the root), a member's display name. Ids not found are left out.
pub fn names_of(conn: &mut AnyConnection, ids: &[String]) -> Result<std::collections::HashMap<String, String>> {
    let mut names: std::collections::HashMap<String, String> = folders::table
        .filter(folders::id.eq_any(ids))
        .select((folders::id, folders::name, folders::parent_id))
        .load::<(String, String, Option<String>)>(conn)?
        .into_iter()
        .map(|(id, name, parent)| (id, if parent.is_none() { "Root (the whole directory)".to_owned() } else { name }))
        .collect();
    names.extend(accounts::table.filter(accounts::id.eq_any(ids)).select((accounts::id, accounts::display_name)).load::<(String, String)>(conn)?);
    Ok(names)
}

/// Each of these folders' path by name, root first ("Root / ops / db"), by folder id.
/// Kept under the search version (every rename or move of a folder moves it on), so the
/// same folders again cost its one read; otherwise two queries, whatever their number.
pub fn folder_path_names(conn: &mut AnyConnection, ids: &[&str]) -> Result<std::collections::HashMap<String, String>> {
    let mut key = ids.to_vec();
    key.sort_unstable();
    key.dedup();
    search::FOLDER_PATHS.copy_or_read(conn, &key.join(","), |conn| read_folder_path_names(conn, &key))
}

fn read_folder_path_names(conn: &mut AnyConnection, ids: &[&str]) -> Result<std::collections::HashMap<String, String>> {
    let found: Vec<(String, String)> = folders::table.filter(folders::id.eq_any(ids)).select((folders::id, folders::path)).load(conn)?;
    let on_paths: std::collections::BTreeSet<&str> = found.iter().flat_map(|(_, path)| path.split('/').filter(|p| !p.is_empty())).collect();
    let names: std::collections::HashMap<String, String> = folders::table
        .filter(folders::id.eq_any(on_paths))
        .select((folders::id, folders::name, folders::parent_id))
        .load::<(String, String, Option<String>)>(conn)?
        .into_iter()
        .map(|(id, name, parent)| (id, if parent.is_none() { "Root".to_owned() } else { name }))
        .collect();
    Ok(found
        .iter()
        .map(|(id, path)| {
            let shown: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).map(|p| names.get(p).map_or(p, String::as_str)).collect();
            (id.clone(), shown.join(" / "))
        })
        .collect())
}

/// Members of the directory (not removed ones), by display name: in one folder when
/// `folder` is given, otherwise everywhere; filtered by name, id or security email.
pub fn list_accounts(conn: &mut AnyConnection, folder: Option<&FolderId>, query: Option<&str>, page: PageRequest) -> Result<Page<Account>> {
    list_accounts_tagged(conn, folder, query, &[], page)
}

/// As [`list_accounts`], only members that carry every tag of `tagged`.
pub fn list_accounts_tagged(
    conn: &mut AnyConnection,
    folder: Option<&FolderId>,
    query: Option<&str>,
    tagged: &[Tag],
    page: PageRequest,
) -> Result<Page<Account>> {
    Ok(accounts_page(conn, folder, query, tagged, page, None, search::Count::Wait)?.0)
}

/// As [`list_accounts_tagged`] over the whole directory, and whether the page's total is
/// the count of its matches. With [`search::Count::IfFree`], on PostgreSQL, the first
/// page of a common word can come before its count: the total is then one more than the
/// matches found so far (a page past them is still found), and `false`.
pub fn find_accounts(conn: &mut AnyConnection, query: &str, tagged: &[Tag], page: PageRequest, count: search::Count) -> Result<(Page<Account>, bool)> {
    accounts_page(conn, None, Some(query), tagged, page, None, count)
}

/// The members directly in a folder whose summary the page has read: its count of members
/// is the list's total, so the page is one query.
pub fn list_folder_members(conn: &mut AnyConnection, folder: &FolderSummary, page: PageRequest) -> Result<Page<Account>> {
    let id = FolderId::parse(&folder.folder.id).expect("stored ids are valid");
    Ok(accounts_page(conn, Some(&id), None, &[], page, Some(folder.members), search::Count::Wait)?.0)
}

/// [`list_accounts_tagged`], with the total of a plain list when the caller knows it, and
/// whether that total is counted ([`find_accounts`]).
fn accounts_page(
    conn: &mut AnyConnection,
    folder: Option<&FolderId>,
    query: Option<&str>,
    tagged: &[Tag],
    page: PageRequest,
    known_total: Option<i64>,
    count: search::Count,
) -> Result<(Page<Account>, bool)> {
    // SQLite answers a search of 3 characters or more from its trigram index (FTS5);
    // PostgreSQL any search from `account_search`'s (narrow_matches).
    let postgres = crate::db::is_postgres(conn);
    let indexed = !postgres && query.is_some_and(|t| t.trim().chars().count() >= 3);
    let build = || {
        let mut q = accounts::table.filter(accounts::removed_at.is_null()).into_boxed();
        for t in tagged {
            q = q.filter(accounts::id.eq_any(crate::tagged_ids!(TaggedKind::Account, t)));
        }
        if let Some(f) = folder {
            q = q.filter(accounts::folder_id.eq(f.as_str()));
        }
        if let Some(text) = query.filter(|t| !t.trim().is_empty()) {
            if indexed {
                let phrase = format!("\"{}\"", text.trim().to_lowercase().replace('"', "\"\""));
                return q.filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>(
                        "accounts.id IN (SELECT printf('%016d', rowid) FROM accounts_search WHERE accounts_search MATCH ",
                    )
                    .bind::<Text, _>(phrase)
                    .sql(")"),
                );
            }
            let pattern = contains_pattern(text);
            if postgres {
                return q.filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>("accounts.id IN (SELECT id FROM account_search WHERE hay LIKE ")
                        .bind::<Text, _>(pattern)
                        .sql(" ESCAPE '\\')"),
                );
            }
            q = q.filter(
                lower(accounts::display_name).like(pattern.clone()).escape('\\').or(lower(accounts::id).like(pattern.clone()).escape('\\')).or(lower(
                    accounts::security_email.assume_not_null(),
                )
                .like(pattern)
                .escape('\\')),
            );
        }
        q
    };
    // A plain list takes its total from the folders' kept counts, then reads its page (in
    // the `accounts_listed` index's order); a filtered one counts its matches.
    let counted = |conn: &mut AnyConnection| -> Result<Page<Account>> {
        let plain = tagged.is_empty() && query.is_none_or(|t| t.trim().is_empty());
        let total = match (known_total, folder) {
            (Some(n), _) if plain => n,
            (None, Some(f)) if plain => folders::table.find(f.as_str()).select(folders::member_count).first(conn).optional()?.unwrap_or(0),
            (None, None) if plain => directory_counts(conn)?.1,
            _ => build().count().get_result(conn)?,
        };
        let page = page.within(total);
        let items = build().order((lower(accounts::display_name), accounts::id)).select(Account::as_select()).paged(&page).load(conn)?;
        Ok(Page { items, total, request: page })
    };
    let Some(text) = query.filter(|t| !t.trim().is_empty()) else {
        if !tagged.is_empty() {
            return Ok((counted(conn)?, true));
        }
        // A plain list (a folder's members, or every member by name) is kept under the
        // search version: what it shows of a member moves the version on as it changes.
        let key = format!("{}\0{}\0{page:?}", folder.map_or("", FolderId::as_str), known_total.unwrap_or(-1));
        return Ok((search::ACCOUNT_PAGES.copy_or_read(conn, &key, |conn| counted(conn))?, true));
    };
    // The same search again, with nothing changed since: its kept matches (search.rs), and
    // the page's rows by id. Searches by tag are not kept (tags do not move the version).
    'kept: {
        if !tagged.is_empty() || crate::db::in_transaction(conn)? {
            break 'kept;
        }
        let folder = folder.map(FolderId::as_str);
        let version = search::version(conn)?;
        // PostgreSQL reads the first matches from its narrow table (first_matches), and
        // counts them apart when there are more (or only counts those kept). SQLite reads
        // every match in order, counted as it comes and the first of them kept: one read
        // where a sorted page and a count read each match twice. Past COUNTED_IN_ORDER
        // matches they are counted apart.
        let mut read = |depth: usize, uncounted: Option<&search::Matches>| -> Result<Option<search::Matches>> {
            if postgres {
                let count_all = |conn: &mut AnyConnection| on_indexes(conn, |c| count_matches(c, folder, text));
                let first = match uncounted {
                    Some(kept) => return Ok(Some(kept.with_count(count_all(conn)?))),
                    None => match on_indexes(conn, |c| first_matches(c, folder, text, depth))? {
                        (ids, Some(total)) => return Ok(search::Matches::new(&ids, total)),
                        (ids, None) => search::Matches::first(&ids),
                    },
                };
                // The page that read them goes without their count unless it waits for it.
                return Ok(match first {
                    Some(first) if count == search::Count::Wait => Some(first.with_count(count_all(conn)?)),
                    first => first,
                });
            }
            let (ids, seen) = on_indexes(conn, |c| {
                let rows = build()
                    .order((lower(accounts::display_name), accounts::id))
                    .select(accounts::id)
                    .limited(search::COUNTED_IN_ORDER + 1)
                    .load_iter::<String, diesel::connection::DefaultLoadingMode>(c)?;
                let (mut ids, mut seen) = (Vec::new(), 0i64);
                for id in rows {
                    let id = id?;
                    if ids.len() < search::KEPT_MATCHES {
                        ids.push(id);
                    }
                    seen += 1;
                }
                Ok((ids, seen))
            })?;
            let total = if seen > search::COUNTED_IN_ORDER { on_indexes(conn, |c| build().count().get_result(c))? } else { seen };
            Ok(search::Matches::new(&ids, total))
        };
        let Some(mut matches) = search::kept_or_read(&version, folder, text, search::depth(page.end()), count, &mut read)? else {
            break 'kept;
        };
        let page = page.within(matches.total);
        // A page past the end is the last one: kept that deep too.
        let depth = search::depth(page.end());
        if !matches.covers(depth) {
            let Some(deeper) = search::kept_or_read(&version, folder, text, depth, count, &mut read)? else { break 'kept };
            matches = deeper;
        }
        let Some(ids) = matches.page(page.offset(), page.size) else { break 'kept };
        let items = if ids.is_empty() { Vec::new() } else { search::MATCHED_ACCOUNTS.copy_or_read(conn, &ids.join(","), |c| accounts_in_order(c, &ids))? };
        return Ok((Page { items, total: matches.total, request: page }, matches.counted));
    }
    // PostgreSQL reads a search it does not keep (inside a transaction) from
    // `account_search` too: the page's matches, then their rows.
    if postgres && tagged.is_empty() {
        let folder = folder.map(FolderId::as_str);
        let (mut ids, mut total) = on_indexes(conn, |c| narrow_matches(c, folder, text, page.offset(), page.size))?;
        // Past the last match no row says how many there are: counted, and clamped.
        if ids.is_empty() && page.offset() > 0 {
            total = on_indexes(conn, |c| narrow_matches(c, folder, text, 0, 1))?.1;
            let last = page.within(total);
            if last.offset() != page.offset() {
                ids = on_indexes(conn, |c| narrow_matches(c, folder, text, last.offset(), last.size))?.0;
            }
        }
        let items = if ids.is_empty() { Vec::new() } else { accounts_in_order(conn, &ids)? };
        return Ok((Page { items, total, request: page.within(total) }, true));
    }
    // Otherwise the search reads its matches once: the page and, beside each row, how many
    // there are.
    let rows: Vec<(Account, i64)> = on_indexes(conn, |c| {
        build()
            .order((lower(accounts::display_name), accounts::id))
            .select((Account::as_select(), diesel::dsl::sql::<BigInt>("count(*) OVER ()")))
            .paged(&page)
            .load(c)
    })?;
    // Past the last page no row says how many there are: counted below, and clamped.
    if let Some(total) = rows.first().map(|r| r.1) {
        let items = rows.into_iter().map(|r| r.0).collect();
        return Ok((Page { items, total, request: page.within(total) }, true));
    }
    if page.offset() == 0 {
        return Ok((Page { items: Vec::new(), total: 0, request: page.within(0) }, true));
    }
    Ok((counted(conn)?, true))
}

#[derive(diesel::QueryableByName)]
struct Matched {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// Members by id, in the order of `ids` (a search's page of matches), removed ones left out.
fn accounts_in_order(conn: &mut AnyConnection, ids: &[String]) -> QueryResult<Vec<Account>> {
    let mut items: Vec<Account> =
        accounts::table.filter(accounts::id.eq_any(ids)).filter(accounts::removed_at.is_null()).select(Account::as_select()).load(conn)?;
    items.sort_by_key(|a| ids.iter().position(|id| *id == a.id));
    Ok(items)
}

/// PostgreSQL: `limit` of a search's matches in the list's order from `offset` (a kept
/// search's first [`search::depth`] of them), and how many there are, from
/// `account_search` (migration 000031), the members' names, ids and emails apart from the
/// rest of their rows: a common word's matches are read and sorted there without visiting
/// the members' own pages (8,334 matches of "retail" at 100,000 members: 8–10 ms against
/// 24 ms warm).
///
/// The matches are counted as they are read, then only the first `depth` sorted (a top-N
/// sort). Written as one `SELECT … COUNT(*) OVER ()` with the `ORDER BY`, PostgreSQL
/// sorted every match first at a million members (in parallel workers, then merged) and
/// counted after: 309–463 ms for the 83,334 of "retail", against 182–227 ms this way.
fn narrow_matches(conn: &mut AnyConnection, folder: Option<&str>, text: &str, offset: i64, limit: i64) -> QueryResult<(Vec<String>, i64)> {
    let rows: Vec<Matched> = crate::db::prepared::sql(
        "SELECT id, total FROM (SELECT id, name_key, COUNT(*) OVER () AS total FROM account_search \
         WHERE hay LIKE $1 ESCAPE '\\' AND ($2 = '' OR folder_id = $2)) counted ORDER BY name_key, id LIMIT $3 OFFSET $4",
    )
    .bind::<Text, _>(contains_pattern(text))
    .bind::<Text, _>(folder.unwrap_or(""))
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(offset)
    .load(conn)?;
    let total = rows.first().map_or(0, |r| r.total);
    Ok((rows.into_iter().map(|r| r.id).collect(), total))
}

#[derive(diesel::QueryableByName)]
struct MatchedId {
    #[diesel(sql_type = Text)]
    id: String,
}

/// PostgreSQL: a search's first `depth` matches in the list's order, and how many there
/// are when these are all of them (`None` when there are more: [`count_matches`] counts
/// them). Both read every match through the trigram index, and the first only keeps the
/// first `depth` of them as it goes (a top-N sort): at a million members "retail"
/// (83,334 matches) takes 19–21 ms so and 15–16 ms to count, against 41 ms for the
/// two at once. A walk of the names in order instead, stopping at the first `depth`
/// matches, took 143 ms for it: a word that begins names has its matches all together,
/// here two thirds of the way along.
fn first_matches(conn: &mut AnyConnection, folder: Option<&str>, text: &str, depth: usize) -> QueryResult<(Vec<String>, Option<i64>)> {
    let rows: Vec<MatchedId> =
        crate::db::prepared::sql("SELECT id FROM account_search WHERE hay LIKE $1 ESCAPE '\\' AND ($2 = '' OR folder_id = $2) ORDER BY name_key, id LIMIT $3")
            .bind::<Text, _>(contains_pattern(text))
            .bind::<Text, _>(folder.unwrap_or(""))
            .bind::<BigInt, _>(i64::try_from(depth).unwrap_or(i64::MAX).saturating_add(1))
            .load(conn)?;
    let mut ids: Vec<String> = rows.into_iter().map(|r| r.id).collect();
    if ids.len() > depth {
        ids.truncate(depth);
        return Ok((ids, None));
    }
    let total = ids.len() as i64;
    Ok((ids, Some(total)))
}

#[derive(diesel::QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// PostgreSQL: how many members a search matches, through the trigram index.
fn count_matches(conn: &mut AnyConnection, folder: Option<&str>, text: &str) -> QueryResult<i64> {
    let counted: Counted =
        crate::db::prepared::sql("SELECT COUNT(*) AS total FROM account_search WHERE hay LIKE $1 ESCAPE '\\' AND ($2 = '' OR folder_id = $2)")
            .bind::<Text, _>(contains_pattern(text))
            .bind::<Text, _>(folder.unwrap_or(""))
            .get_result(conn)?;
    Ok(counted.total)
}

/// Runs a search's read. PostgreSQL's planner prices `lower(…) LIKE` on a sequential scan
/// or a walk of the name index too low and reads every member for a word that matches a
/// few percent of them (70 to 78 ms at 100,000, against 17 ms through the trigram
/// indexes), so it is told not to.
fn on_indexes<T>(conn: &mut AnyConnection, read: impl FnOnce(&mut AnyConnection) -> QueryResult<T>) -> Result<T> {
    if !crate::db::is_postgres(conn) {
        return Ok(read(conn)?);
    }
    crate::db::transaction(conn, |c| {
        // Nor walk every member by name (`accounts_listed`) to find the few that match:
        // the trigram indexes answer through bitmap scans. And sort a first read's matches
        // in memory: the 83,000 of a common word at a million members (9.6 MB) went to
        // disk at the default 4 MB, 320 ms against 190. One statement for the three: beside
        // a busy database each round trip waits for a core.
        diesel::sql_query(
            "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true), \
             set_config('work_mem', '16MB', true)",
        )
        .execute(c)?;
        Ok(read(c)?)
    })
}

/// Members that were removed from the directory, most recent first.
pub fn list_removed_accounts(conn: &mut AnyConnection, page: PageRequest) -> Result<Page<Account>> {
    let total = accounts::table.filter(accounts::removed_at.is_not_null()).count().get_result(conn)?;
    let page = page.within(total);
    let items =
        accounts::table.filter(accounts::removed_at.is_not_null()).order(accounts::removed_at.desc()).select(Account::as_select()).paged(&page).load(conn)?;
    Ok(Page { items, total, request: page })
}

/// Counts for the overview: folders (without the root) and current members (the sum of
/// the folders' kept counts, not a count of every member). The sums are kept between
/// requests while the search version stands: at 10,000 folders summing them took 1.5–4 ms
/// of the database's time on each view of the Organization View and of ListAccounts.
pub fn directory_counts(conn: &mut AnyConnection) -> Result<(i64, i64)> {
    search::DIRECTORY_TOTALS.kept_or_read(conn, "", summed_counts)
}

fn summed_counts(conn: &mut AnyConnection) -> Result<(i64, i64)> {
    #[derive(QueryableByName)]
    struct Counts {
        #[diesel(sql_type = BigInt)]
        folders: i64,
        #[diesel(sql_type = BigInt)]
        members: i64,
    }
    let c: Counts = prepared::sql(
        "SELECT CAST(COALESCE(SUM(CASE WHEN parent_id IS NULL THEN 0 ELSE 1 END), 0) AS BIGINT) AS folders, \
                CAST(COALESCE(SUM(member_count), 0) AS BIGINT) AS members FROM folders",
    )
    .get_result(conn)?;
    Ok((c.folders, c.members))
}

/// Current members in the folders whose path starts with `path` (a subtree; "" for the
/// whole directory): a sum over folders, kept between requests while the search version
/// stands (a contact bound at the root summed 10,000 folders on each view of its page,
/// 2.8 ms of PostgreSQL's time).
pub fn members_under(conn: &mut AnyConnection, path: &str) -> Result<i64, diesel::result::Error> {
    #[derive(QueryableByName)]
    struct Sum {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    search::SUBTREE_MEMBERS.kept_or_read(conn, path, |conn| -> Result<i64, diesel::result::Error> {
        let sql = "SELECT CAST(COALESCE(SUM(member_count), 0) AS BIGINT) AS n FROM folders WHERE path LIKE $1";
        Ok(prepared::sql(sql).bind::<Text, _>(format!("{path}%")).get_result::<Sum>(conn)?.n)
    })
}

/// Keeps a folder's count of the members directly inside it, in the caller's transaction.
fn count_members(conn: &mut AnyConnection, folder: &str, by: i64) -> Result<()> {
    diesel::update(folders::table.find(folder)).set(folders::member_count.eq(folders::member_count + by)).execute(conn)?;
    Ok(())
}

/// Counts every folder's members again (after a bulk insert that went around the service).
/// One pass over the members, grouped: a count per folder in a subquery let PostgreSQL,
/// without statistics for a table just filled, scan a whole index once per folder (more
/// than ten minutes at a million members).
pub fn recount_members(conn: &mut AnyConnection) -> Result<()> {
    diesel::sql_query(
        "UPDATE folders SET member_count = 0 WHERE member_count <> 0 \
         AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.folder_id = folders.id AND a.removed_at IS NULL)",
    )
    .execute(conn)?;
    diesel::sql_query(
        "UPDATE folders SET member_count = c.n \
         FROM (SELECT folder_id, COUNT(*) AS n FROM accounts WHERE removed_at IS NULL AND folder_id IS NOT NULL GROUP BY folder_id) AS c \
         WHERE folders.id = c.folder_id AND folders.member_count <> c.n",
    )
    .execute(conn)?;
    Ok(())
}

/// The folders with these ids (for labelling a page of members), kept under the search
/// version as their paths are ([`folder_path_names`]): what a folder row holds (its name,
/// parent, depth and path) changes only as a folder is renamed or moved, which moves the
/// version on. ListAccounts then reads no folder for a page it showed before.
pub fn folders_by_id(conn: &mut AnyConnection, mut ids: Vec<String>) -> Result<Vec<Folder>> {
    ids.sort_unstable();
    ids.dedup();
    search::FOLDERS.copy_or_read(conn, &ids.join(","), |conn| Ok(folders::table.filter(folders::id.eq_any(&ids)).select(Folder::as_select()).load(conn)?))
}
