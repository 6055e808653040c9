//! The database: one `MultiConnection` over PostgreSQL and SQLite, an r2d2 pool whose
//! manager picks the backend from the URL scheme, and the embedded migrations.

pub mod schema;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use time::{OffsetDateTime, PrimitiveDateTime};

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

pub type DbPool = Pool<AnyManager>;
pub type DbConn = PooledConnection<AnyManager>;

/// Which engine a URL selects: `postgres://` or `postgresql://` is PostgreSQL, anything
/// else is a SQLite file path.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Picks the backend from the URL scheme, so a PostgreSQL server that is down reports
/// its real error instead of the multi-connection's generic one.
#[derive(Debug)]
pub struct AnyManager {
    url: String,
}

impl ManageConnection for AnyManager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, Self::Error> {
        let url = self.url.as_str();
        let conn = if is_postgres_url(url) {
            AnyConnection::Postgresql(diesel::PgConnection::establish(url).map_err(diesel::r2d2::Error::ConnectionError)?)
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            AnyConnection::Sqlite(diesel::SqliteConnection::establish(path).map_err(diesel::r2d2::Error::ConnectionError)?)
        };
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        conn.is_broken()
    }
}

#[derive(Debug)]
struct ConnectionSetup;

impl CustomizeConnection<AnyConnection, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), diesel::r2d2::Error> {
        if let AnyConnection::Sqlite(c) = conn {
            // Case-sensitive LIKE as on PostgreSQL: folder paths are matched by prefix, and ids
            // differ by case. Searches compare lower() on both sides.
            c.batch_execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; PRAGMA case_sensitive_like = ON;")
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Opens the pool and brings the schema up to date. WAL mode is set once here: it is
/// stored in the SQLite file, and setting it from several fresh connections at once
/// makes them fight over the lock.
pub fn connect(url: &str, max_size: u32) -> Result<DbPool, BoxError> {
    if !is_postgres_url(url) {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        let mut c = diesel::SqliteConnection::establish(path)?;
        c.batch_execute("PRAGMA journal_mode = WAL;")?;
    }
    let pool = Pool::builder()
        .max_size(max_size)
        .connection_timeout(std::time::Duration::from_secs(10))
        .connection_customizer(Box::new(ConnectionSetup))
        .build(AnyManager { url: url.to_owned() })?;
    let mut conn = pool.get()?;
    run_migrations(&mut conn)?;
    Ok(pool)
}

pub fn run_migrations(conn: &mut AnyConnection) -> Result<Vec<String>, BoxError> {
    let set = match conn {
        AnyConnection::Postgresql(_) => PG_MIGRATIONS,
        AnyConnection::Sqlite(_) => SQLITE_MIGRATIONS,
    };
    Ok(conn.run_pending_migrations(set)?.iter().map(|v| v.to_string()).collect())
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

/// True when the error is a unique-constraint violation (the same on both backends).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
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
    let task = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    });
    match task.await {
        Ok(result) => result,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Refreshes the planner's statistics after a bulk change (PostgreSQL only: its plans
/// for a table it believes empty turn quadratic once the table has grown).
pub fn analyze(conn: &mut AnyConnection, tables: &[&str]) -> QueryResult<()> {
    if let AnyConnection::Postgresql(pg) = conn {
        pg.batch_execute(&format!("ANALYZE {}", tables.join(", ")))?;
    }
    Ok(())
}

/// The clause that makes an INSERT skip rows whose key exists already (an upsert that
/// does nothing): per backend, since the multi-connection has no form of its own.
pub fn insert_ignoring_conflicts(conn: &AnyConnection, insert_sql: &str, conflict_columns: &str) -> String {
    match conn {
        AnyConnection::Postgresql(_) => format!("{insert_sql} ON CONFLICT ({conflict_columns}) DO NOTHING"),
        AnyConnection::Sqlite(_) => insert_sql.replacen("INSERT INTO", "INSERT OR IGNORE INTO", 1),
    }
}
