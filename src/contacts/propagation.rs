//! SQLite numbers `$n` parameters in the order they first appear in the text: every
//! statement here names them in ascending order.
//!
//! Set-based propagation of bindings to associations (rules B1, B3, B5, U1, U2), in
//! batches of members ordered by id: each batch is a few statements, whatever its size,
//! and re-running a batch changes nothing.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use crate::db::schema::{associations, bindings};
use crate::db::{AnyConnection, now_utc};
use crate::domain::MessageType;

/// The members a binding covers: a folder's subtree (the directory is the root's), or one member.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Scope {
    Subtree {
        path: String,
    },
    Account {
        id: String,
    },
    /// Every member (in the directory) associated with the contact: a deletion.
    Contact {
        id: String,
    },
}

impl Scope {
    /// Whether this is the root's subtree, every member in a folder: the root's path is its
    /// one segment, and every folder's path starts with it.
    pub(crate) fn is_everyone(&self) -> bool {
        matches!(self, Scope::Subtree { path } if path.matches('/').count() == 1)
    }

    /// The scope's predicate on `m` (accounts) and `f` (its folder), with its one parameter.
    pub(crate) fn predicate(&self, n: usize) -> (String, String) {
        match self {
            // No folder is read for the root's subtree (its path parameter stays bound, as
            // each statement numbers its parameters).
            Scope::Subtree { path } if self.is_everyone() => (format!("m.folder_id IS NOT NULL AND m.removed_at IS NULL AND ${n} <> ''"), format!("{path}%")),
            Scope::Subtree { path } => (format!("f.path LIKE ${n} AND m.removed_at IS NULL"), format!("{path}%")),
            Scope::Account { id } => (format!("m.id = ${n}"), id.clone()),
            Scope::Contact { id } => {
                (format!("EXISTS (SELECT 1 FROM associations sa WHERE sa.account_id = m.id AND sa.contact_id = ${n}) AND m.removed_at IS NULL"), id.clone())
            }
        }
    }
}

#[derive(QueryableByName)]
struct Upper {
    #[diesel(sql_type = Nullable<Text>)]
    upper: Option<String>,
}

#[derive(QueryableByName)]
struct Verdict {
    #[diesel(sql_type = Text)]
    contact_id: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    lonely: i32,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many members a scope covers now.
pub fn covered_count(conn: &mut AnyConnection, scope: &Scope) -> QueryResult<i64> {
    if let Scope::Subtree { path } = scope {
        // A sum of the folders' kept counts, not a count of every member of the subtree.
        return crate::directory::members_under(conn, path);
    }
    let (pred, value) = scope.predicate(1);
    let sql = format!("SELECT COUNT(*) AS n FROM accounts m LEFT JOIN folders f ON f.id = m.folder_id WHERE {pred}");
    Ok(diesel::sql_query(sql).bind::<Text, _>(value).get_result::<Count>(conn)?.n)
}

/// The batch cursor: the id of the last of the next `limit` members of `scope` after
/// `cursor` (ids ascending), or `None` when none is left. A batch is then every member
/// with `cursor < id <= upper`, whatever changes meanwhile.
pub fn next_batch_upper(conn: &mut AnyConnection, scope: &Scope, cursor: &str, limit: i64) -> QueryResult<Option<String>> {
    let (pred, value) = scope.predicate(1);
    Ok(diesel::sql_query(format!(
        "SELECT MAX(id) AS upper FROM (SELECT m.id FROM accounts m LEFT JOIN folders f ON f.id = m.folder_id \
         WHERE {pred} AND m.id > $2 ORDER BY m.id LIMIT $3) s"
    ))
    .bind::<Text, _>(&value)
    .bind::<Text, _>(cursor)
    .bind::<BigInt, _>(limit)
    .get_result::<Upper>(conn)?
    .upper)
}

/// Adds the contact for the next batch of covered members after `cursor` (rule B1/M1).
/// An explicit binding re-adds entries members had removed and ends retention (rule M3).
/// Returns how many members the batch spanned and the cursor to go on from.
pub fn add_batch(conn: &mut AnyConnection, contact: &str, scope: &Scope, cursor: &str, limit: i64) -> QueryResult<(usize, Option<String>)> {
    if crate::db::is_postgres(conn) {
        return add_batch_at_once(conn, contact, scope, cursor, limit);
    }
    let value = scope.predicate(1).1;
    let Some(upper) = next_batch_upper(conn, scope, cursor, limit)? else { return Ok((0, None)) };
    let (pred, _) = scope.predicate(3);
    // The same upsert on both engines (SQLite has taken ON CONFLICT since 3.24).
    let insert = format!(
        "INSERT INTO associations (account_id, contact_id, associated_at, mc_opt_out, retained_types) \
         SELECT m.id, $1, $2, 0, 0 FROM accounts m LEFT JOIN folders f ON f.id = m.folder_id \
         WHERE {pred} AND m.id > $4 AND m.id <= $5 \
         ON CONFLICT (account_id, contact_id) DO NOTHING"
    );
    let spanned = diesel::sql_query(insert)
        .bind::<Text, _>(contact)
        .bind::<Timestamp, _>(now_utc())
        .bind::<Text, _>(&value)
        .bind::<Text, _>(cursor)
        .bind::<Text, _>(&upper)
        .execute(conn)?;
    let (pred, _) = scope.predicate(2);
    diesel::sql_query(format!(
        "UPDATE associations SET mc_opt_out = CASE WHEN mc_removed_at IS NULL THEN mc_opt_out ELSE 0 END, mc_removed_at = NULL, retained_types = 0 \
         WHERE contact_id = $1 AND (mc_removed_at IS NOT NULL OR retained_types <> 0) \
           AND account_id IN (SELECT m.id FROM accounts m LEFT JOIN folders f ON f.id = m.folder_id WHERE {pred} AND m.id > $3 AND m.id <= $4) \
           AND account_id > $3 AND account_id <= $4"
    ))
    .bind::<Text, _>(contact)
    .bind::<Text, _>(&value)
    .bind::<Text, _>(cursor)
    .bind::<Text, _>(&upper)
    .execute(conn)?;
    Ok((spanned, Some(upper)))
}

/// [`add_batch`] as one statement, on PostgreSQL: the batch's members are read once, for
/// the cursor, the inserts and the re-adds together (SQLite takes no INSERT or UPDATE
/// inside WITH). Reading them three times took a quarter of a bind at a million members.
fn add_batch_at_once(conn: &mut AnyConnection, contact: &str, scope: &Scope, cursor: &str, limit: i64) -> QueryResult<(usize, Option<String>)> {
    #[derive(QueryableByName)]
    struct Added {
        #[diesel(sql_type = Nullable<Text>)]
        upper: Option<String>,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let (pred, value) = scope.predicate(1);
    let added = diesel::sql_query(format!(
        "WITH batch AS MATERIALIZED (SELECT m.id FROM accounts m LEFT JOIN folders f ON f.id = m.folder_id \
                                     WHERE {pred} AND m.id > $2 ORDER BY m.id LIMIT $3), \
              added AS (INSERT INTO associations (account_id, contact_id, associated_at, mc_opt_out, retained_types) \
                        SELECT id, $4, $5, 0, 0 FROM batch ON CONFLICT (account_id, contact_id) DO NOTHING RETURNING 1), \
              readded AS (UPDATE associations SET mc_opt_out = CASE WHEN mc_removed_at IS NULL THEN mc_opt_out ELSE 0 END, mc_removed_at = NULL, retained_types = 0 \
                          WHERE contact_id = $4 AND (mc_removed_at IS NOT NULL OR retained_types <> 0) AND account_id IN (SELECT id FROM batch)) \
         SELECT (SELECT MAX(id) FROM batch) AS upper, (SELECT COUNT(*) FROM added) AS n"
    ))
    .bind::<Text, _>(&value)
    .bind::<Text, _>(cursor)
    .bind::<BigInt, _>(limit)
    .bind::<Text, _>(contact)
    .bind::<Timestamp, _>(now_utc())
    .get_result::<Added>(conn)?;
    Ok((added.n as usize, added.upper))
}

/// The bit set of message types for which the association row `a` is its member's only
/// recipient (rule U2), as one SQL expression. Only recipients that reach someone count:
/// confirmed, verified, and not bouncing (a removal never opens a coverage gap). `others` narrows which other
/// associations `o` of the member count as staying (when several go at once, they go
/// one after another by contact id, so the last one of a type is the one kept).
pub fn lonely_types_sql(conn: &AnyConnection, a: &str, others: &str) -> String {
    // The bitwise OR of a column over rows: PostgreSQL's `bit_or`; on SQLite, the sum of
    // each bit's maximum (one aggregate per message type, about a third slower there).
    let pg = crate::db::is_postgres(conn);
    let or_of = |col: &str| {
        if pg { format!("bit_or({col})") } else { MessageType::ALL.iter().map(|t| format!("MAX({col} & {})", t.bit())).collect::<Vec<_>>().join(" + ") }
    };
    format!(
        "(CASE WHEN {a}.mc_removed_at IS NOT NULL THEN 0 ELSE \
           (SELECT c.message_types FROM contacts c WHERE c.id = {a}.contact_id) & ~{a}.mc_opt_out \
           & ~COALESCE((SELECT {own} FROM mc_recipients r WHERE r.account_id = {a}.account_id AND r.verified_at IS NOT NULL \
                          AND NOT EXISTS (SELECT 1 FROM bounces bo WHERE bo.address_key = lower(r.email))), 0) \
           & ~COALESCE((SELECT {other} FROM associations o JOIN contacts oc ON oc.id = o.contact_id \
                        WHERE o.account_id = {a}.account_id AND o.contact_id <> {a}.contact_id AND o.mc_removed_at IS NULL \
                          AND oc.verified_at IS NOT NULL AND {others} \
                          AND NOT EXISTS (SELECT 1 FROM bounces bo WHERE bo.address_key = lower(oc.email))), 0) \
         END)",
        own = or_of("r.message_types"),
        other = or_of("(oc.message_types & ~o.mc_opt_out)"),
    )
}

/// The association of `contact` (an SQL expression, such as `a.contact_id`) with member
/// `m` (in folder `f`: both table aliases) is still covered by a binding of the contact.
fn covered(contact: &str, m: &str, f: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM bindings b WHERE b.contact_id = {contact} \
         AND (b.account_id = {m}.id OR ({m}.removed_at IS NULL AND {f}.path IS NOT NULL AND b.folder_path IS NOT NULL AND {f}.path LIKE b.folder_path || '%')))"
    )
}

/// Takes the contact away from the next batch of members in `scope` that no other
/// binding of it covers (rule U1): each association goes, unless it is its member's only
/// recipient of some message type (rule U2), in which case it stays, retained, with
/// those types. Returns the members spanned and the next cursor.
pub fn remove_batch(conn: &mut AnyConnection, contact: &str, scope: &Scope, cursor: &str, limit: i64) -> QueryResult<(usize, Option<String>)> {
    // Another binding of the contact may still cover a member (rule U1); a contact with
    // none left spares each row that look-up, and its folder's too at the root.
    let still_bound = diesel::select(diesel::dsl::exists(bindings::table.filter(bindings::contact_id.eq(contact)))).get_result::<bool>(conn)?;
    let not_covered = |contact: &str| if still_bound { format!(" AND NOT {}", covered(contact, "m", "f")) } else { String::new() };
    let candidates = |n: usize| {
        let (pred, _) = scope.predicate(n);
        format!(
            "SELECT a.account_id FROM associations a JOIN accounts m ON m.id = a.account_id LEFT JOIN folders f ON f.id = m.folder_id \
             WHERE {pred} AND a.contact_id = ${}{}",
            n + 1,
            not_covered("a.contact_id")
        )
    };
    let value = scope.predicate(1).1;
    // Where the batch ends. When the scope holds most of the contact's associations (a
    // deletion, an unbinding at the root), the next `limit` of them in member order are
    // read from the index alone; otherwise the next `limit` candidates, so that a small
    // scope inside a wide binding takes one batch, not one per `limit` associations.
    let upper = if walks_every_association(conn, contact, scope)? {
        diesel::sql_query(
            "SELECT MAX(account_id) AS upper FROM (SELECT account_id FROM associations WHERE contact_id = $1 AND account_id > $2 ORDER BY account_id LIMIT $3) s",
        )
        .bind::<Text, _>(contact)
        .bind::<Text, _>(cursor)
        .bind::<BigInt, _>(limit)
        .get_result::<Upper>(conn)?
        .upper
    } else {
        diesel::sql_query(format!("SELECT MAX(account_id) AS upper FROM ({} AND a.account_id > $3 ORDER BY a.account_id LIMIT $4) s", candidates(1)))
            .bind::<Text, _>(&value)
            .bind::<Text, _>(contact)
            .bind::<Text, _>(cursor)
            .bind::<BigInt, _>(limit)
            .get_result::<Upper>(conn)?
            .upper
    };
    let Some(upper) = upper else { return Ok((0, None)) };
    // The batch's candidates, row by row: in the scope and no longer covered by another
    // binding of the contact. Written as a correlated EXISTS so that each statement
    // reads only its own range (an IN over the candidates had the planner compute them
    // for the whole scope on every batch).
    let pred = match scope {
        // A deletion: the association itself says it is in scope (the general predicate
        // would look it up again).
        Scope::Contact { .. } => "m.removed_at IS NULL AND associations.contact_id = $4".to_owned(),
        _ => scope.predicate(4).0,
    };
    // `LIMIT 1 OFFSET 0` keeps the EXISTS a per-row probe: PostgreSQL would otherwise turn
    // it into a semi-join and, misled by statistics a shrinking table leaves behind, hash
    // every member of the directory for each batch (0.6 s a batch at a million members).
    let in_batch = format!(
        "contact_id = $1 AND account_id > $2 AND account_id <= $3 AND EXISTS (SELECT 1 FROM accounts m LEFT JOIN folders f ON f.id = m.folder_id \
         WHERE m.id = associations.account_id AND {pred}{} LIMIT 1 OFFSET 0)",
        not_covered("associations.contact_id")
    );
    let lonely = lonely_types_sql(conn, "associations", "1 = 1");
    // Both statements take the batch's four parameters: contact, cursor, end, scope.
    let on_batch = |conn: &mut AnyConnection, sql: String| {
        diesel::sql_query(sql).bind::<Text, _>(contact).bind::<Text, _>(cursor).bind::<Text, _>(&upper).bind::<Text, _>(&value).execute(conn)
    };
    // Rule U2 in one pass: the associations that are nobody's only recipient go…
    let gone = on_batch(conn, format!("DELETE FROM associations WHERE {in_batch} AND {lonely} = 0"))?;
    // …and the few left of the batch stay, retained for the types only they receive.
    let kept = on_batch(conn, format!("UPDATE associations SET retained_types = {lonely} WHERE {in_batch}"))?;
    let spanned = gone + kept;
    Ok((spanned, Some(upper)))
}

/// How many members a contact is associated with: the count triggers keep on the
/// associations table (migration 000012), never a count of its rows.
pub fn association_count(conn: &mut AnyConnection, contact: &str) -> QueryResult<i64> {
    use crate::db::schema::association_counts;
    Ok(association_counts::table.find(contact).select(association_counts::n).first(conn).optional()?.unwrap_or(0))
}

/// Whether `scope` holds at least half of the contact's associations (its kept count).
fn walks_every_association(conn: &mut AnyConnection, contact: &str, scope: &Scope) -> QueryResult<bool> {
    let in_scope = match scope {
        Scope::Contact { .. } => return Ok(true),
        Scope::Account { .. } => return Ok(false),
        Scope::Subtree { path } => crate::directory::members_under(conn, path)?,
    };
    Ok(in_scope * 2 >= association_count(conn, contact)?)
}

type Step = fn(&mut AnyConnection, &str, &Scope, &str, i64) -> QueryResult<(usize, Option<String>)>;

/// Runs every batch of `step` now, in the caller's transaction (small scopes).
fn run_all(conn: &mut AnyConnection, contact: &str, scope: &Scope, step: Step) -> QueryResult<usize> {
    let (mut cursor, mut total) = (String::new(), 0);
    while let (n, Some(next)) = step(conn, contact, scope, &cursor, 5_000)? {
        total += n;
        cursor = next;
    }
    Ok(total)
}

pub fn add_all(conn: &mut AnyConnection, contact: &str, scope: &Scope) -> QueryResult<usize> {
    run_all(conn, contact, scope, add_batch)
}

pub fn remove_all(conn: &mut AnyConnection, contact: &str, scope: &Scope) -> QueryResult<usize> {
    run_all(conn, contact, scope, remove_batch)
}

/// Rules B3 and B5 for one member that just joined or moved: associations that no
/// binding covers any more go (U2 applies, retained ones stay), and the bindings
/// covering its new place add theirs (entries it had removed stay removed).
pub fn reconcile_member(conn: &mut AnyConnection, account: &str) -> QueryResult<()> {
    let now = now_utc();
    // Rule U2 for each association no binding covers any more, computed on one snapshot
    // (an UPDATE whose subqueries read its own table sees its earlier rows changed on
    // SQLite), then applied row by row: a member has only a handful of contacts.
    let others = format!(
        "(o.contact_id > a.contact_id OR o.retained_types <> 0 OR EXISTS (SELECT 1 FROM accounts om LEFT JOIN folders ofo ON ofo.id = om.folder_id \
           WHERE om.id = o.account_id AND {}))",
        covered("o.contact_id", "om", "ofo")
    );
    let verdicts: Vec<Verdict> = diesel::sql_query(format!(
        "SELECT a.contact_id AS contact_id, {} AS lonely FROM associations a JOIN accounts m ON m.id = a.account_id LEFT JOIN folders f ON f.id = m.folder_id \
         WHERE a.account_id = $1 AND a.retained_types = 0 AND NOT {}",
        lonely_types_sql(conn, "a", &others),
        covered("a.contact_id", "m", "f")
    ))
    .bind::<Text, _>(account)
    .load(conn)?;
    for v in verdicts {
        if v.lonely == 0 {
            diesel::delete(associations::table.find((account, &v.contact_id))).execute(conn)?;
        } else {
            diesel::update(associations::table.find((account, &v.contact_id))).set(associations::retained_types.eq(v.lonely)).execute(conn)?;
        }
    }
    diesel::sql_query(
        "INSERT INTO associations (account_id, contact_id, associated_at, mc_opt_out, retained_types) \
         SELECT DISTINCT m.id, b.contact_id, $1, 0, 0 FROM accounts m JOIN folders f ON f.id = m.folder_id JOIN bindings b \
           ON (b.account_id = m.id OR (b.folder_path IS NOT NULL AND f.path LIKE b.folder_path || '%')) \
         WHERE m.id = $2 AND m.removed_at IS NULL \
           AND NOT EXISTS (SELECT 1 FROM associations x WHERE x.account_id = m.id AND x.contact_id = b.contact_id)",
    )
    .bind::<Timestamp, _>(now)
    .bind::<Text, _>(account)
    .execute(conn)?;
    // A retained association that a binding covers again is an ordinary one.
    diesel::sql_query(format!(
        "UPDATE associations SET retained_types = 0 WHERE account_id = $1 AND retained_types <> 0 AND EXISTS (SELECT 1 FROM accounts m LEFT JOIN folders f ON f.id = m.folder_id \
           WHERE m.id = associations.account_id AND {})",
        covered("associations.contact_id", "m", "f")
    ))
    .bind::<Text, _>(account)
    .execute(conn)?;
    Ok(())
}
