//! Hand-written SQL that each pooled connection prepares once and keeps.
//!
//! diesel's `sql_query` marks itself unsafe to cache, so PostgreSQL parses and plans it
//! again on every run (about half a millisecond of the server's CPU for the folder
//! summary, more than running it). [`sql`] is the same thing without that mark: the
//! statement is cached by its text and bind types, like a query-builder query, and
//! PostgreSQL settles on a plan after a few runs. Use it for fixed SQL on hot paths: the
//! pages' small reads. Not for set-based work over thousands of rows (propagation,
//! deletion, fan-out): a generic plan chosen there made a bind at the root 3.5 times
//! slower, and one planning per 5,000-row batch costs nothing. SQL that embeds values
//! (never do that) or varies without bound must stay `sql_query`.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// A statement and its bind values, in order. Load rows with `QueryableByName`.
#[must_use = "a statement runs only when loaded or executed"]
pub struct Prepared<B> {
    sql: String,
    binds: B,
}

/// SQL with `$1`, `$2`… placeholders (SQLite takes them too).
pub fn sql(sql: impl Into<String>) -> Prepared<()> {
    Prepared { sql: sql.into(), binds: () }
}

/// One bind value of SQL type `ST`.
pub struct Bind<ST, V> {
    value: V,
    _type: PhantomData<ST>,
}

/// A list of bind values; `push(i)` pushes the `i`th (from 1) as a parameter.
pub trait Binds<DB: Backend> {
    fn count(&self) -> usize;
    fn push<'b>(&'b self, i: usize, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()>;
}

impl<DB: Backend> Binds<DB> for () {
    fn count(&self) -> usize {
        0
    }
    fn push<'b>(&'b self, i: usize, _: &mut AstPass<'_, 'b, DB>) -> QueryResult<()> {
        Err(diesel::result::Error::QueryBuilderError(format!("the statement names ${i}, which is not bound").into()))
    }
}

impl<DB, P, ST, V> Binds<DB> for (P, Bind<ST, V>)
where
    DB: Backend + HasSqlType<ST>,
    P: Binds<DB>,
    V: ToSql<ST, DB>,
{
    fn count(&self) -> usize {
        self.0.count() + 1
    }
    fn push<'b>(&'b self, i: usize, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if i == self.count() { out.push_bind_param::<ST, V>(&self.1.value) } else { self.0.push(i, out) }
    }
}

/// Any number of values of one type, after the fixed ones (a filter's terms).
impl<DB, P, ST, V> Binds<DB> for (P, Vec<Bind<ST, V>>)
where
    DB: Backend + HasSqlType<ST>,
    P: Binds<DB>,
    V: ToSql<ST, DB>,
{
    fn count(&self) -> usize {
        self.0.count() + self.1.len()
    }
    fn push<'b>(&'b self, i: usize, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()> {
        match i.checked_sub(self.0.count() + 1).and_then(|at| self.1.get(at)) {
            Some(b) => out.push_bind_param::<ST, V>(&b.value),
            None => self.0.push(i, out),
        }
    }
}

impl<B> Prepared<B> {
    pub fn bind<ST, V>(self, value: V) -> Prepared<(B, Bind<ST, V>)> {
        Prepared { sql: self.sql, binds: (self.binds, Bind { value, _type: PhantomData }) }
    }

    pub fn bind_all<ST, V>(self, values: impl IntoIterator<Item = V>) -> Prepared<(B, Vec<Bind<ST, V>>)> {
        Prepared { sql: self.sql, binds: (self.binds, values.into_iter().map(|value| Bind { value, _type: PhantomData }).collect()) }
    }
}

impl<DB: Backend, B: Binds<DB>> QueryFragment<DB> for Prepared<B> {
    /// The SQL up to each `$n`, then the `n`th value as a parameter: the backend writes
    /// its own placeholder (`$k` on PostgreSQL, numbered in order; `?` on SQLite), so a
    /// value named twice is bound twice.
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let mut rest = self.sql.as_str();
        while let Some(at) = rest.find('$') {
            let digits = rest[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                out.push_sql(&rest[..=at]);
                rest = &rest[at + 1..];
                continue;
            }
            out.push_sql(&rest[..at]);
            let n: usize = rest[at + 1..at + 1 + digits].parse().map_err(|_| diesel::result::Error::QueryBuilderError("a bad parameter number".into()))?;
            self.binds.push(n, &mut out)?;
            rest = &rest[at + 1 + digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

/// No static id: the cache keys it by its SQL text and bind types.
impl<B> QueryId for Prepared<B> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<B> Query for Prepared<B> {
    type SqlType = Untyped;
}

impl<Conn, B> RunQueryDsl<Conn> for Prepared<B> {}
