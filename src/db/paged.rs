//! One page of a query-builder query, with the page's size written into the SQL.
//!
//! diesel binds `LIMIT` and `OFFSET` as parameters. PostgreSQL costs a plan for an
//! unknown limit as if a tenth of the rows were read, so a cached statement ending in
//! `LIMIT $1 OFFSET $2` never keeps its generic plan: it is planned again on every run
//! (on the Notifications page, 0.4 ms of planning for 0.2 ms of work, and the statement
//! log does not show it, since planning happens at bind). Here the size is written as a
//! number, and so is the first page's offset of 0, so PostgreSQL settles on one plan
//! after a few runs, as it does for the pages' other reads. Later pages bind their
//! offset and are planned each time, as before.
//!
//! The statement cache keys each text apart, so the texts must stay few: a size is
//! written only when it is a page size a request can ask for (at most
//! [`PageRequest::MAX_SIZE`], so at most that many texts per list), and any other
//! offset is bound.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType};
use diesel::{QueryResult, RunQueryDsl};

use crate::domain::PageRequest;

/// `query LIMIT size OFFSET offset`, written as described in the module's comment.
#[must_use = "a query runs only when loaded"]
pub struct Paged<Q> {
    query: Q,
    size: i64,
    /// `None` for a fixed limit (`.limited(n)`), whose size is always written.
    offset: Option<i64>,
}

/// `.paged(&page)` in place of `.limit(page.size).offset(page.offset())`, and
/// `.limited(n)` in place of `.limit(n)`.
pub trait PagedDsl: Sized {
    fn paged(self, page: &PageRequest) -> Paged<Self> {
        Paged { query: self, size: page.size, offset: Some(page.offset()) }
    }
    /// At most `n` rows, `n` written into the text: a constant, or a page size and one
    /// more (to tell whether there is a next page), never a number without bound.
    fn limited(self, n: i64) -> Paged<Self> {
        Paged { query: self, size: n, offset: None }
    }
}

impl<Q: Query> PagedDsl for Q {}

impl<Q> Paged<Q> {
    /// The size as a number in the text: only the sizes a request can ask for.
    fn size_is_written(&self) -> bool {
        self.offset.is_none() || (1..=PageRequest::MAX_SIZE).contains(&self.size)
    }
}

impl<DB, Q> QueryFragment<DB> for Paged<Q>
where
    DB: Backend + HasSqlType<BigInt>,
    Q: QueryFragment<DB>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        if self.size_is_written() {
            out.push_sql(&format!(" LIMIT {}", self.size));
        } else {
            out.push_sql(" LIMIT ");
            out.push_bind_param::<BigInt, i64>(&self.size)?;
        }
        match &self.offset {
            None => {}
            Some(0) => out.push_sql(" OFFSET 0"),
            Some(offset) => {
                out.push_sql(" OFFSET ");
                out.push_bind_param::<BigInt, i64>(offset)?;
            }
        }
        Ok(())
    }
}

/// No static id: the cache keys it by its SQL text, which holds the size.
impl<Q> QueryId for Paged<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Paged<Q> {
    type SqlType = Q::SqlType;
}

impl<Conn, Q> RunQueryDsl<Conn> for Paged<Q> {}

#[cfg(test)]
mod tests {
    use diesel::debug_query;
    use diesel::pg::Pg;
    use diesel::prelude::*;
    use diesel::sqlite::Sqlite;

    use super::PagedDsl;
    use crate::db::schema::jobs;
    use crate::domain::PageRequest;

    fn text<Q: diesel::query_builder::QueryFragment<Pg>>(q: &Q) -> String {
        debug_query::<Pg, _>(q).to_string()
    }

    #[test]
    fn the_first_page_writes_its_size_and_offset_so_postgresql_can_keep_one_plan() {
        let first = jobs::table.select(jobs::id).paged(&PageRequest::new(Some(1), Some(20)));
        let sql = text(&first);
        assert!(sql.contains("LIMIT 20 OFFSET 0"), "{sql}");
        assert!(sql.ends_with("-- binds: []"), "nothing is bound: {sql}");
    }

    #[test]
    fn a_later_page_binds_its_offset_so_the_statements_stay_few() {
        let third = jobs::table.select(jobs::id).paged(&PageRequest::new(Some(3), Some(20)));
        let sql = text(&third);
        assert!(sql.contains("LIMIT 20 OFFSET $1"), "{sql}");
        assert!(sql.ends_with("-- binds: [40]"), "{sql}");
        // SQLite takes the same shape with its own placeholder.
        let sql = debug_query::<Sqlite, _>(&third).to_string();
        assert!(sql.contains("LIMIT 20 OFFSET ?"), "{sql}");
    }

    #[test]
    fn a_size_no_request_can_ask_for_is_bound_and_a_fixed_limit_is_written() {
        let odd = jobs::table.select(jobs::id).paged(&PageRequest::from_offset(0, 5_000));
        let sql = text(&odd);
        assert!(sql.contains("LIMIT $1 OFFSET 0"), "{sql}");
        assert!(sql.ends_with("-- binds: [5000]"), "{sql}");
        let fixed = jobs::table.select(jobs::id).limited(101);
        let sql = text(&fixed);
        assert!(sql.contains("LIMIT 101") && !sql.contains("OFFSET"), "{sql}");
    }
}
