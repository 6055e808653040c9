//! Backing up and restoring the embedded SQLite database. A backup is a consistent copy
//! taken while the server runs (`VACUUM INTO`); a restore checks the file, refuses while a
//! server has the database open, and swaps the file in whole, then brings its schema up
//! to date. PostgreSQL has `pg_dump` for this (see the README).

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::{is_postgres_url, sqlite_path};
use crate::errors::BoxError;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("this server's database is PostgreSQL: back it up with pg_dump (see the README), not with rd-contacts backup")]
    Postgres,
    #[error("{0} already exists: choose a new file name (a backup never overwrites a file)")]
    Exists(PathBuf),
    #[error("a server is running on {0}: stop it, then restore")]
    InUse(PathBuf),
    #[error("{path} is not an rd-contacts backup: {why}")]
    NotABackup { path: PathBuf, why: String },
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Connect(#[from] diesel::ConnectionError),
}

fn in_use_path(db: &str) -> PathBuf {
    PathBuf::from(format!("{db}.in-use"))
}

fn open_in_use(db: &str) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(in_use_path(db))
}

/// Held by `serve` for as long as it runs on a SQLite file (a shared lock: any number of
/// servers), so that `restore` can tell that the file is in use. `None` on PostgreSQL.
pub fn hold_in_use(url: &str) -> std::io::Result<Option<std::fs::File>> {
    if is_postgres_url(url) || sqlite_path(url) == ":memory:" {
        return Ok(None);
    }
    let file = open_in_use(sqlite_path(url))?;
    file.lock_shared()?;
    Ok(Some(file))
}

/// Writes a consistent copy of the database at `url` to `to`, a new file readable only by
/// this user; the server may go on serving meanwhile.
pub fn backup(url: &str, to: &Path) -> Result<u64, BackupError> {
    if is_postgres_url(url) {
        return Err(BackupError::Postgres);
    }
    if to.exists() {
        return Err(BackupError::Exists(to.to_owned()));
    }
    // Made private first: VACUUM INTO fills an empty file and keeps its permissions.
    drop(crate::config::private_file(to)?);
    let mut conn = diesel::SqliteConnection::establish(sqlite_path(url))?;
    conn.batch_execute("PRAGMA busy_timeout = 10000;")?;
    let target = to.to_string_lossy().replace('\'', "''");
    if let Err(e) = conn.batch_execute(&format!("VACUUM INTO '{target}'")) {
        let _ = std::fs::remove_file(to);
        return Err(e.into());
    }
    Ok(std::fs::metadata(to)?.len())
}

#[derive(diesel::QueryableByName)]
struct Line {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

/// Checks that `file` is a sound SQLite database holding an rd-contacts directory.
fn check_backup(file: &Path) -> Result<(), BackupError> {
    let bad = |why: &str| BackupError::NotABackup { path: file.to_owned(), why: why.to_owned() };
    if !file.is_file() {
        return Err(bad("there is no such file"));
    }
    let mut conn = diesel::SqliteConnection::establish(&format!("file:{}?mode=ro", file.to_string_lossy())).map_err(|_| bad("it cannot be opened"))?;
    let integrity: Vec<Line> =
        diesel::sql_query("SELECT integrity_check AS line FROM pragma_integrity_check").load(&mut conn).map_err(|_| bad("it is not a SQLite database"))?;
    if integrity.first().map(|l| l.line.as_str()) != Some("ok") {
        return Err(bad("its integrity check failed"));
    }
    let tables: Vec<Line> = diesel::sql_query(
        "SELECT name AS line FROM sqlite_master WHERE type = 'table' AND name IN ('__diesel_schema_migrations', 'resource_directories', 'contacts')",
    )
    .load(&mut conn)
    .map_err(|_| bad("its tables cannot be read"))?;
    if tables.len() < 3 {
        return Err(bad("it holds no rd-contacts directory"));
    }
    Ok(())
}

/// Replaces the database at `url` with the backup `from` (no server may be running on it),
/// then applies this build's migrations to it. Returns the migrations applied.
pub fn restore(url: &str, from: &Path) -> Result<Vec<String>, BoxError> {
    if is_postgres_url(url) {
        return Err(BackupError::Postgres.into());
    }
    let db = sqlite_path(url);
    check_backup(from)?;
    let in_use = open_in_use(db)?;
    if in_use.try_lock().is_err() {
        return Err(BackupError::InUse(PathBuf::from(db)).into());
    }
    let staging = PathBuf::from(format!("{db}.restoring"));
    let _ = std::fs::remove_file(&staging);
    {
        let mut out = crate::config::private_file(&staging)?;
        std::io::copy(&mut std::fs::File::open(from)?, &mut out)?;
        out.sync_all()?;
    }
    for journal in ["-wal", "-shm", "-journal"] {
        match std::fs::remove_file(format!("{db}{journal}")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    std::fs::rename(&staging, db)?;
    let pool = super::open(url, 1)?;
    let mut pooled = pool.get()?;
    let conn: &mut super::AnyConnection = &mut pooled;
    let applied = super::run_migrations(conn)?;
    in_use.unlock()?;
    Ok(applied)
}
