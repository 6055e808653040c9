//! The database: one `MultiConnection` over PostgreSQL and SQLite, an r2d2 pool whose
//! manager picks the backend from the URL scheme, and the embedded migrations.
//!
//! Every service writes through [`transaction`]: on SQLite it begins `IMMEDIATE`, taking
//! the write lock before the first read, because a transaction that reads and then writes
//! fails at once with "database is locked" when another connection wrote in between,
//! whatever the busy timeout (rule T5).

pub mod backup;
pub mod paged;
pub mod prepared;
pub mod schema;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use time::{OffsetDateTime, PrimitiveDateTime};

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// The backend of [`AnyConnection`], for boxed queries a function hands back.
pub type Backend = <AnyConnection as diesel::Connection>::Backend;
pub type DbPool = Pool<AnyManager>;
pub type DbConn = PooledConnection<AnyManager>;

/// Which engine a URL selects: `postgres://` or `postgresql://` is PostgreSQL, anything
/// else is a SQLite file path.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Refuses a `DATABASE_URL` that names another engine (`mysql://…`) or is not a URL or a
/// path at all, instead of taking it for the name of a SQLite file to create.
pub fn check_url(url: &str) -> Result<(), BoxError> {
    if url.trim().is_empty() {
        return Err("DATABASE_URL is empty: leave it unset for the embedded database, or give a postgres:// URL".into());
    }
    if is_postgres_url(url) || url.starts_with("sqlite://") || url == ":memory:" || url.starts_with("file:") {
        return Ok(());
    }
    if let Some((scheme, _)) = url.split_once("://") {
        return Err(format!("DATABASE_URL {scheme}://… is not a database rd-contacts can use: give a postgres:// URL, or a sqlite:// URL or file path").into());
    }
    if url.contains('=') && url.contains(' ') {
        return Err("DATABASE_URL looks like libpq keywords (host=… dbname=…): write it as a postgres:// URL".into());
    }
    Ok(())
}

/// Picks the backend from the URL scheme, so a PostgreSQL server that is down reports
/// its real error instead of the multi-connection's generic one.
#[derive(Debug)]
pub struct AnyManager {
    url: String,
}

/// A pooled connection and when it was last handed back to the pool.
pub struct Pooled {
    conn: AnyConnection,
    returned_at: std::time::Instant,
}

impl std::ops::Deref for Pooled {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

/// A connection handed back this recently is taken again without a round trip to check
/// it: under load every checkout would otherwise cost one more query. One that sat idle
/// longer is pinged first, so a database restart costs no request; a connection that dies
/// while in use is marked broken by diesel (libpq reports its state) and dropped.
const TRUSTED_FOR: std::time::Duration = std::time::Duration::from_secs(1);

impl ManageConnection for AnyManager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        let url = self.url.as_str();
        let conn = if is_postgres_url(url) {
            AnyConnection::Postgresql(diesel::PgConnection::establish(url).map_err(diesel::r2d2::Error::ConnectionError)?)
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            AnyConnection::Sqlite(diesel::SqliteConnection::establish(path).map_err(diesel::r2d2::Error::ConnectionError)?)
        };
        Ok(Pooled { conn, returned_at: std::time::Instant::now() })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), Self::Error> {
        if pooled.returned_at.elapsed() < TRUSTED_FOR {
            return Ok(());
        }
        pooled.conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.returned_at = std::time::Instant::now();
        pooled.conn.is_broken()
    }
}

#[derive(Debug)]
struct ConnectionSetup;

impl CustomizeConnection<Pooled, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut Pooled) -> Result<(), diesel::r2d2::Error> {
        if let AnyConnection::Postgresql(c) = &mut conn.conn {
            // No JIT: it compiles a plan whose estimated cost is high (any batch over a
            // large table) for longer than the plan then runs; this is OLTP work.
            c.batch_execute("SET jit = off").map_err(diesel::r2d2::Error::QueryError)?;
        }
        if let AnyConnection::Sqlite(c) = &mut conn.conn {
            // Case-sensitive LIKE as on PostgreSQL: folder paths are matched by prefix, and ids
            // differ by case. Searches compare lower() on both sides.
            c.batch_execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; PRAGMA case_sensitive_like = ON;")
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

pub use crate::errors::BoxError;

/// Opens the pool and brings the schema up to date, under the start-up lock. WAL mode is
/// set once here: it is stored in the SQLite file, and setting it from several fresh
/// connections at once makes them fight over the lock.
pub fn connect(url: &str, max_size: u32) -> Result<DbPool, BoxError> {
    let pool = open(url, max_size)?;
    let mut conn = pool.get()?;
    with_startup_lock(url, &mut conn, |c| run_migrations(c).map(|_| ()))?;
    if let AnyConnection::Sqlite(lite) = &mut **conn {
        // Statistics for tables that have none yet (a file filled before they were kept).
        lite.batch_execute("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")?;
    }
    Ok(pool)
}

/// Opens the pool without touching the schema.
pub fn open(url: &str, max_size: u32) -> Result<DbPool, BoxError> {
    check_url(url)?;
    if !is_postgres_url(url) {
        // Switching a new file to WAL needs it to itself: one starting server at a time.
        let lock = sqlite_lock(url)?;
        // Made private before SQLite creates it: its journal files copy its permissions.
        let path = std::path::Path::new(sqlite_path(url));
        if !path.exists() && sqlite_path(url) != ":memory:" {
            let _ = crate::config::private_file(path);
        }
        let mut c = diesel::SqliteConnection::establish(sqlite_path(url))?;
        c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")?;
        lock.unlock()?;
    }
    Ok(Pool::builder()
        .max_size(max_size)
        .connection_timeout(std::time::Duration::from_secs(10))
        .connection_customizer(Box::new(ConnectionSetup))
        .build(AnyManager { url: url.to_owned() })?)
}

fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").unwrap_or(url)
}

/// An exclusive lock on a file beside the SQLite database, held until `unlock` or drop.
fn sqlite_lock(url: &str) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(format!("{}.lock", sqlite_path(url)))?;
    file.lock()?;
    Ok(file)
}

/// Runs start-up work (migrations, the directory, the first administrator) while holding
/// a lock that every instance starting on the same database takes: a PostgreSQL session
/// advisory lock, or an exclusive lock on a file beside the SQLite database. Any number of
/// servers may start together; they take turns here, and only the first finds work to do.
pub fn with_startup_lock<T>(url: &str, conn: &mut AnyConnection, f: impl FnOnce(&mut AnyConnection) -> Result<T, BoxError>) -> Result<T, BoxError> {
    const KEY: i64 = 0x7264_632d_7374_6172; // "rdc-star"
    match conn {
        AnyConnection::Postgresql(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({KEY})")).execute(pg)?;
            let result = f(conn);
            if let AnyConnection::Postgresql(pg) = conn {
                diesel::sql_query(format!("SELECT pg_advisory_unlock({KEY})")).execute(pg)?;
            }
            result
        }
        AnyConnection::Sqlite(_) => {
            let lock = sqlite_lock(url)?;
            let result = f(conn);
            lock.unlock()?;
            result
        }
    }
}

pub fn run_migrations(conn: &mut AnyConnection) -> Result<Vec<String>, BoxError> {
    let set = match conn {
        AnyConnection::Postgresql(_) => PG_MIGRATIONS,
        AnyConnection::Sqlite(_) => SQLITE_MIGRATIONS,
    };
    Ok(conn.run_pending_migrations(set)?.iter().map(|v| v.to_string()).collect())
}

/// What `/readyz` needs of the database: reachable within `wait`, and every migration of
/// this build applied. `Err` names what is wrong, in words safe to show anyone.
pub fn readiness(pool: &DbPool, url: &str, wait: std::time::Duration) -> Result<(), &'static str> {
    if !is_postgres_url(url) && sqlite_path(url) != ":memory:" && !std::path::Path::new(sqlite_path(url)).exists() {
        return Err("the database file is gone");
    }
    let mut pooled = pool.get_timeout(wait).map_err(|_| "the database cannot be reached")?;
    let conn: &mut AnyConnection = &mut pooled;
    conn.batch_execute("SELECT 1").map_err(|_| "the database cannot be reached")?;
    let set = match conn {
        AnyConnection::Postgresql(_) => PG_MIGRATIONS,
        AnyConnection::Sqlite(_) => SQLITE_MIGRATIONS,
    };
    match conn.has_pending_migration(set) {
        Ok(false) => Ok(()),
        Ok(true) => Err("migrations are pending: run `rd-contacts migrate`"),
        Err(_) => Err("the migrations cannot be read"),
    }
}

/// The current time in UTC without offset, truncated to microseconds: PostgreSQL keeps
/// microseconds, so a value read back compares equal to the one written on both backends.
pub fn now_utc() -> PrimitiveDateTime {
    let n = OffsetDateTime::now_utc();
    let n = n.replace_nanosecond(n.microsecond() * 1000).expect("microseconds fit in nanoseconds");
    PrimitiveDateTime::new(n.date(), n.time())
}

pub fn is_postgres(conn: &AnyConnection) -> bool {
    matches!(conn, AnyConnection::Postgresql(_))
}

/// A stored value that is none of ours (a status, a kind): reading it is an error, never
/// a quiet default. Enums stored as text convert from `String` with this error.
#[derive(Debug, thiserror::Error)]
#[error("unknown {what} {value:?} in the database")]
pub struct UnknownStored {
    pub what: &'static str,
    pub value: String,
}

/// An enum stored as one of its names (`ALL` and `as_str` on the type): `Display` and
/// `Into<String>` write the name, `TryFrom<String>` reads it back and refuses any other
/// with [`UnknownStored`]. Used with diesel's `deserialize_as = String`.
#[macro_export]
macro_rules! stored_as_text {
    ($ty:ident, $what:literal) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl TryFrom<String> for $ty {
            type Error = $crate::db::UnknownStored;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                $ty::ALL.into_iter().find(|v| v.as_str() == s).ok_or($crate::db::UnknownStored { what: $what, value: s })
            }
        }
        impl From<$ty> for String {
            fn from(v: $ty) -> String {
                v.as_str().to_owned()
            }
        }
    };
}

/// True when the error is a unique-constraint violation (the same on both backends).
pub fn is_unique_violation(e: &DieselError) -> bool {
    matches!(e, DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
}

/// True when the error is a foreign-key violation: the row referred to went away (or a
/// row still refers to the one being deleted) in a concurrent transaction.
pub fn is_foreign_key_violation(e: &DieselError) -> bool {
    matches!(e, DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _))
}

/// True when the database could not be reached in the middle of a request: the
/// connection was cut (PostgreSQL restarted, a network failure), or SQLite stayed busy
/// past its timeout. Like an exhausted pool, this is worth a retry, not a 500.
pub fn is_unavailable(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let m = info.message();
            m.contains("database is locked") || m.contains("terminating connection") || m.contains("server closed the connection")
        }
        DieselError::BrokenTransactionManager => true,
        _ => false,
    }
}

/// Whether the connection is inside a transaction (its changes not yet committed).
pub fn in_transaction(conn: &mut AnyConnection) -> Result<bool, DieselError> {
    let depth = match conn {
        AnyConnection::Postgresql(pg) => AnsiTransactionManager::transaction_manager_status_mut(pg).transaction_depth(),
        AnyConnection::Sqlite(sqlite) => AnsiTransactionManager::transaction_manager_status_mut(sqlite).transaction_depth(),
    }?;
    Ok(depth.is_some())
}

/// A write transaction: `BEGIN IMMEDIATE` on SQLite (retried while another writer holds
/// the lock past the busy timeout), a plain transaction on PostgreSQL; inside another
/// transaction, a savepoint. Every service function that writes goes through here. Just
/// before the outermost one commits, the audit entries it recorded are sealed
/// ([`crate::audit::seal`]).
pub fn transaction<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<DieselError>,
{
    if in_transaction(conn).map_err(E::from)? {
        #[expect(clippy::disallowed_methods, reason = "a savepoint inside the caller's transaction")]
        return conn.transaction(f);
    }
    let sealed = |conn: &mut AnyConnection| -> Result<T, E> {
        let value = f(conn)?;
        crate::audit::seal(conn)?;
        Ok(value)
    };
    let AnyConnection::Sqlite(sqlite) = conn else {
        #[expect(clippy::disallowed_methods, reason = "this is the one place that opens transactions")]
        return conn.transaction(sealed);
    };
    let mut tries = 0;
    loop {
        match AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE") {
            Ok(()) => break,
            Err(e) if is_unavailable(&e) && tries < 5 => {
                tries += 1;
                tracing::debug!(tries, "SQLite is busy: waiting to begin a write transaction");
                std::thread::sleep(std::time::Duration::from_millis(50 * tries));
            }
            Err(e) => return Err(e.into()),
        }
    }
    // As diesel's own `transaction`: commit, or roll back and keep the caller's error.
    let result = sealed(conn);
    let AnyConnection::Sqlite(sqlite) = conn else { unreachable!("the backend does not change") };
    match result {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(sqlite)?;
            Ok(value)
        }
        Err(e) => match AnsiTransactionManager::rollback_transaction(sqlite) {
            Ok(()) | Err(DieselError::BrokenTransactionManager) => Err(e),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// Runs `f` in a transaction that is always rolled back: the same checks and writes as
/// the real call, with nothing kept (the API's `DryRun`). Answers what `f` answered.
pub fn dry_run<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<DieselError>,
{
    let mut outcome = None;
    let rolled_back: Result<(), E> = transaction(conn, |c| {
        outcome = Some(f(c));
        Err(E::from(DieselError::RollbackTransaction))
    });
    match outcome {
        Some(answer) => answer,
        None => rolled_back.map(|()| unreachable!("the closure always asks for a rollback")),
    }
}

pub use diesel::r2d2::PoolError;

/// Runs blocking database work on tokio's blocking pool with a pooled connection, so
/// that no async worker waits on diesel. The service's own error type carries pool
/// failures (`From<PoolError>`).
pub async fn run<T, E, F>(pool: &DbPool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<PoolError> + Send + 'static,
{
    let pool = pool.clone();
    // A read-only request's views start from the version read with its session.
    let offered = crate::directory::offered();
    let task = tokio::task::spawn_blocking(move || {
        let _offered = crate::directory::offer_here(offered);
        let mut conn = pool.get()?;
        f(&mut conn)
    });
    match task.await {
        Ok(result) => result,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// How many rows the planner's statistics say `table` has: PostgreSQL's `reltuples`,
/// SQLite's `sqlite_stat1` (0 where it was never analyzed).
pub fn estimated_rows(conn: &mut AnyConnection, table: &str) -> QueryResult<f64> {
    #[derive(QueryableByName)]
    struct Estimate {
        #[diesel(sql_type = diesel::sql_types::Double)]
        rows: f64,
    }
    let sql = if is_postgres(conn) {
        "SELECT GREATEST(reltuples, 0)::float8 AS rows FROM pg_class WHERE oid = to_regclass($1)"
    } else {
        let analyzed: i64 = prepared::sql("SELECT COUNT(*) AS n FROM sqlite_schema WHERE name = 'sqlite_stat1'").get_result::<Count>(conn)?.n;
        if analyzed == 0 {
            return Ok(0.0);
        }
        // Each of the table's rows there starts with its number of rows.
        "SELECT CAST(COALESCE(MAX(CAST(stat AS INTEGER)), 0) AS REAL) AS rows FROM sqlite_stat1 WHERE tbl = $1"
    };
    let e: Option<Estimate> = prepared::sql(sql).bind::<diesel::sql_types::Text, _>(table).get_result(conn).optional()?;
    Ok(e.map_or(0.0, |e| e.rows))
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Refreshes the planner's statistics after a bulk change: PostgreSQL's plans for a
/// table it believes empty turn quadratic once the table has grown, and SQLite without
/// statistics picks indexes by rule of thumb (the Contacts tab at 100,000 members: 170
/// req/s without them, 4,500 with). SQLite samples (`analysis_limit`), so this stays quick.
pub fn analyze(conn: &mut AnyConnection, tables: &[&str]) -> QueryResult<()> {
    match conn {
        AnyConnection::Postgresql(pg) => pg.batch_execute(&format!("ANALYZE {}", tables.join(", "))),
        AnyConnection::Sqlite(lite) => {
            let each: Vec<String> = tables.iter().map(|t| format!("ANALYZE {t};")).collect();
            lite.batch_execute(&format!("PRAGMA analysis_limit = 1000; {}", each.join(" ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_url;

    #[test]
    fn a_database_url_of_another_engine_is_refused_not_taken_for_a_file_name() {
        for ok in ["postgres://u@h/db", "postgresql://h/db", "sqlite://data/x.db", "data/rd-contacts.db", "/var/lib/rdc/x.db", ":memory:"] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in ["mysql://u@h/db", "redis://h", "host=127.0.0.1 port=1 dbname=x", "  "] {
            let e = check_url(bad).unwrap_err().to_string();
            assert!(e.contains("DATABASE_URL"), "{bad}: {e}");
        }
    }
}
