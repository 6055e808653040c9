//! `rd-contacts demo`: fills an empty directory with a realistic tree, set-based, for
//! demos and benchmarks.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use rand::RngExt;

use super::{DirectoryError, Folder, get_directory};
use crate::db::schema::{accounts, folders};
use crate::db::{AnyConnection, now_utc};
use crate::domain::{FolderId, MAX_FOLDER_DEPTH};

const AREAS: [&str; 12] = ["Finance", "Retail", "Logistics", "Marketing", "Research", "Platform", "Security", "Data", "Support", "Legal", "Sales", "Payments"];
const ENVIRONMENTS: [&str; 5] = ["prod", "staging", "dev", "test", "sandbox"];

#[derive(Debug)]
pub struct DemoReport {
    pub folders: usize,
    pub members: usize,
    pub max_depth: i32,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("The directory already has {folders} folder(s) and {members} member(s): the demo tree goes only into an empty directory.")]
    NotEmpty { folders: i64, members: i64 },
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Storage(#[from] crate::errors::StorageError),
}

crate::errors::storage_errors!(DemoError);

/// Adds `folder_count` folders nested up to the depth limit and `member_count` members
/// spread over them (and the root). Members get display names like `retail-prod-000042`
/// and, nine in ten, a security email.
pub fn fill(conn: &mut AnyConnection, folder_count: usize, member_count: usize, actor: &crate::audit::Actor) -> Result<DemoReport, DemoError> {
    crate::db::transaction(conn, |conn| {
        let rd = get_directory(conn)?;
        let existing_folders: i64 = folders::table.filter(folders::parent_id.is_not_null()).count().get_result(conn)?;
        let existing_members: i64 = accounts::table.count().get_result(conn)?;
        if existing_folders > 0 || existing_members > 0 {
            return Err(DemoError::NotEmpty { folders: existing_folders, members: existing_members });
        }
        let root: Folder = folders::table.find(&rd.root_folder_id).select(Folder::as_select()).first(conn)?;
        let tree = plan_tree(&root, folder_count);
        let max_depth = tree.iter().map(|f| f.depth).max().unwrap_or(0);
        for chunk in tree.chunks(200) {
            insert_folders(conn, chunk)?;
        }
        as_bulk_load(conn, &["accounts", "account_search", "mc_recipients"], |conn| insert_members(conn, member_count, &rd.id))?;
        super::recount_members(conn)?;
        // PostgreSQL's search rows too: unanalyzed, a search by tag planned 320 of its
        // 83,334 matches at a million members.
        let filled: &[&str] =
            if crate::db::is_postgres(conn) { &["folders", "accounts", "account_search", "mc_recipients"] } else { &["folders", "accounts", "mc_recipients"] };
        crate::db::analyze(conn, filled)?;
        // One entry for the whole tree: a million members are not a million changes anyone reviews.
        let changes = crate::audit::Changes::new().set("folders_added", tree.len() as i64).set("members_added", member_count as i64);
        crate::audit::record(conn, actor, crate::audit::Event::new("directory.demo", &rd.id).changes(changes))?;
        Ok(DemoReport { folders: tree.len(), members: member_count, max_depth })
    })
}

/// Each new folder goes under a random earlier folder that still has room below it,
/// preferring shallow parents, so the tree is wide at the top and reaches the limit.
fn plan_tree(root: &Folder, count: usize) -> Vec<Folder> {
    let mut rng = rand::rng();
    let now = now_utc();
    let mut planned: Vec<Folder> = Vec::with_capacity(count);
    for i in 0..count {
        let parent = if i < AREAS.len().min(count) || planned.is_empty() {
            root
        } else {
            loop {
                let candidate = &planned[rng.random_range(0..planned.len())];
                let shallow_enough = candidate.depth < MAX_FOLDER_DEPTH && rng.random_range(0..candidate.depth + 1) == 0;
                if shallow_enough || (candidate.depth < MAX_FOLDER_DEPTH && rng.random_range(0..4) == 0) {
                    break candidate;
                }
            }
        };
        let name =
            if parent.depth == 0 { format!("{}-{:03}", AREAS[i % AREAS.len()], i) } else { format!("{}-{:04}", ENVIRONMENTS[i % ENVIRONMENTS.len()], i) };
        let id = FolderId::generate();
        let folder = Folder {
            path: format!("{}{id}/", parent.path),
            id: id.to_string(),
            name,
            parent_id: Some(parent.id.clone()),
            depth: parent.depth + 1,
            created_at: now,
        };
        planned.push(folder);
    }
    planned
}

fn insert_folders(conn: &mut AnyConnection, chunk: &[Folder]) -> QueryResult<()> {
    // One multi-row INSERT per chunk: the multi backend has no batch insert of its own.
    let mut sql = String::from("INSERT INTO folders (id, name, parent_id, depth, path, created_at) VALUES ");
    for i in 0..chunk.len() {
        let b = i * 6;
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&format!("(${}, ${}, ${}, CAST(${} AS INTEGER), ${}, ${})", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6));
    }
    let mut q = diesel::sql_query(sql).into_boxed();
    for f in chunk {
        q = q
            .bind::<Text, _>(f.id.clone())
            .bind::<Text, _>(f.name.clone())
            .bind::<Text, _>(f.parent_id.clone().unwrap_or_default())
            .bind::<BigInt, _>(i64::from(f.depth))
            .bind::<Text, _>(f.path.clone())
            .bind::<Timestamp, _>(f.created_at);
    }
    q.execute(conn).map(|_| ())
}

fn case_of(expr: &str, words: &[&str]) -> String {
    let arms: String = words.iter().enumerate().map(|(i, w)| format!(" WHEN {i} THEN '{}'", w.to_lowercase())).collect();
    format!("CASE ({expr}) % {}{arms} END", words.len())
}

/// On PostgreSQL, runs a bulk insert into `tables` (empty, in the caller's transaction)
/// as a bulk load (`account_search` fills from the members' trigger): without their
/// non-unique indexes, their foreign keys, the primary keys no foreign key refers to and
/// the members' search-version trigger, then puts each back from its own definition.
/// Building the trigram indexes over a million members takes seconds each, keeping them
/// up to date row by row took most of the insert's 72 s; a foreign key checks each row
/// with a query of its own (14 µs a row), where adding it back checks them all in one
/// join; the search rows' key, written in name order and not in id order, took 11 s of a
/// million members' 20 s insert, and takes 1.4 s to build after (two rows with one id
/// fail the fill then, as they would have before); and the search version is moved on
/// once instead of a million times. The transaction holds the tables to itself meanwhile
/// (the directory is empty) and puts everything back if it fails.
fn as_bulk_load<T>(conn: &mut AnyConnection, tables: &[&str], insert: impl FnOnce(&mut AnyConnection) -> QueryResult<T>) -> QueryResult<T> {
    if !crate::db::is_postgres(conn) {
        return insert(conn);
    }
    #[derive(QueryableByName)]
    struct Part {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        definition: String,
    }
    let (mut indexes, mut keys): (Vec<Part>, Vec<Part>) = (Vec::new(), Vec::new());
    for table in tables {
        indexes.extend(
            diesel::sql_query(
                "SELECT $1 AS table_name, i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition FROM pg_index x \
                 JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = to_regclass($1) AND NOT x.indisunique",
            )
            .bind::<Text, _>(*table)
            .load::<Part>(conn)?,
        );
        keys.extend(
            diesel::sql_query(
                "SELECT $1 AS table_name, conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint \
                 WHERE conrelid = to_regclass($1) AND (contype = 'f' \
                       OR (contype = 'p' AND NOT EXISTS (SELECT 1 FROM pg_constraint r WHERE r.confrelid = to_regclass($1))))",
            )
            .bind::<Text, _>(*table)
            .load::<Part>(conn)?,
        );
    }
    let quoted = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    // Deferred trigger events still pending (the search version's) forbid CREATE INDEX
    // and ALTER TABLE: they fire as the rows go in instead.
    diesel::sql_query("SET CONSTRAINTS ALL IMMEDIATE").execute(conn)?;
    for index in &indexes {
        diesel::sql_query(format!("DROP INDEX {}", quoted(&index.name))).execute(conn)?;
    }
    for key in &keys {
        diesel::sql_query(format!("ALTER TABLE {} DROP CONSTRAINT {}", quoted(&key.table_name), quoted(&key.name))).execute(conn)?;
    }
    let searched = tables.contains(&"accounts");
    if searched {
        diesel::sql_query("ALTER TABLE accounts DISABLE TRIGGER accounts_search_version").execute(conn)?;
    }
    let value = insert(conn)?;
    if searched {
        diesel::sql_query("ALTER TABLE accounts ENABLE TRIGGER accounts_search_version").execute(conn)?;
        diesel::sql_query("UPDATE search_version SET version = version + 1 WHERE id = 1").execute(conn)?;
    }
    diesel::sql_query("SET LOCAL maintenance_work_mem = '256MB'").execute(conn)?;
    for index in &indexes {
        diesel::sql_query(&index.definition).execute(conn)?;
    }
    for key in &keys {
        diesel::sql_query(format!("ALTER TABLE {} ADD CONSTRAINT {} {}", quoted(&key.table_name), quoted(&key.name), key.definition)).execute(conn)?;
    }
    Ok(value)
}

fn insert_members(conn: &mut AnyConnection, count: usize, rd_id: &str) -> QueryResult<()> {
    if count == 0 {
        return Ok(());
    }
    let mut rng = rand::rng();
    // Ids are base + i: 16 digits that cannot run past 9999…
    let base: i64 = rng.random_range(1_000_000_000_000_000..8_000_000_000_000_000);
    let now = now_utc();
    let area = case_of("i", &AREAS);
    let env = case_of("i / 12", &ENVIRONMENTS);
    let domain = format!("{}.rd-contacts.local", rd_id.to_lowercase());
    let (series, pad) = match conn {
        AnyConnection::Postgresql(_) => ("generate_series(1, $4) AS s(i)".to_owned(), "lpad(CAST(i AS TEXT), 6, '0')"),
        AnyConnection::Sqlite(_) => {
            ("(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $4) SELECT i FROM n) AS s".to_owned(), "substr('000000' || i, -6)")
        }
    };
    let sql = format!(
        "INSERT INTO accounts (id, display_name, account_name, folder_id, security_email, join_method, joined_at, modified_at, removed_at) \
         SELECT CAST($1 + i AS TEXT), {area} || '-' || {env} || '-' || {pad}, \
                'member' || CAST(i AS TEXT) || '@' || $2, f.id, \
                CASE WHEN i % 10 = 0 THEN NULL ELSE 'ops+' || CAST(i AS TEXT) || '@example.com' END, \
                'created', $3, $3, NULL \
         FROM {series} \
         JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn FROM folders) f ON f.rn = i % $5"
    );
    // SQLite numbers `$n` parameters by first appearance: they appear here in order.
    let folder_count: i64 = folders::table.count().get_result(conn)?;
    diesel::sql_query(sql)
        .bind::<BigInt, _>(base)
        .bind::<Text, _>(domain)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(count as i64)
        .bind::<BigInt, _>(folder_count)
        .execute(conn)?;
    // Rule M4: each member's security email is the first recipient of its Message Center,
    // confirmed as it is (rule M6).
    diesel::sql_query(
        "INSERT INTO mc_recipients (account_id, name, email, message_types, created_at, modified_at, verified_at) \
         SELECT id, display_name, security_email, $1, joined_at, joined_at, joined_at FROM accounts WHERE security_email IS NOT NULL",
    )
    .bind::<diesel::sql_types::Integer, _>(crate::domain::MessageTypes::EVERY.bits())
    .execute(conn)
    .map(|_| ())
}
