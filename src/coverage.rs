//! Who would miss what: a member has a gap for a message type when no email would reach
//! anyone for it: no verified directory contact in its Message Center for that type
//! (opt-outs and removals applied) and no confirmed own recipient, or only addresses that
//! bounce. The rule of `message_center::recipients_for` with bouncing addresses left out
//! (their notifications are skipped), computed set-based over a folder's whole subtree.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::AnyConnection;
use crate::domain::{MessageType, MessageTypes};

/// Each account's covered types in the subtree `$1` (a path pattern): the OR of what its
/// confirmed own recipients and its verified directory entries receive. `MAX(m & bit)` per
/// bit, summed, is an OR that both databases compute.
fn covered_sql() -> String {
    let or: Vec<String> = MessageType::ALL.iter().map(|t| format!("MAX(x.m & {})", t.bit())).collect();
    format!(
        "SELECT x.account_id, {} AS covered FROM ( \
           SELECT r.account_id AS account_id, r.message_types AS m FROM mc_recipients r \
             JOIN accounts acc ON acc.id = r.account_id JOIN folders f ON f.id = acc.folder_id \
            WHERE f.path LIKE $1 AND r.verified_at IS NOT NULL \
              AND NOT EXISTS (SELECT 1 FROM bounces b WHERE b.address_key = lower(r.email)) \
           UNION ALL \
           SELECT a.account_id AS account_id, c.message_types & ~a.mc_opt_out AS m FROM associations a \
             JOIN contacts c ON c.id = a.contact_id JOIN accounts acc ON acc.id = a.account_id JOIN folders f ON f.id = acc.folder_id \
            WHERE f.path LIKE $1 AND a.mc_removed_at IS NULL AND c.verified_at IS NOT NULL \
              AND NOT EXISTS (SELECT 1 FROM bounces b WHERE b.address_key = lower(c.email)) \
         ) x GROUP BY x.account_id",
        or.join(" + ")
    )
}

/// One row of the Coverage table: members directly in the folder (`child` is `None`), or
/// in one of its subfolders' subtrees; how many; and per message type how many have a gap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapRow {
    pub child: Option<String>,
    pub members: i64,
    /// In the order of `MessageType::ALL`.
    pub gaps: Vec<i64>,
}

impl GapRow {
    pub fn any(&self) -> bool {
        self.gaps.iter().any(|g| *g > 0)
    }
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = Text)]
    child: String,
    #[diesel(sql_type = BigInt)]
    members: i64,
    #[diesel(sql_type = Text)]
    gaps: String,
}

/// The gap counts of a folder's subtree, per subfolder (and the members directly in it),
/// per message type. One query over the subtree.
pub fn folder_gaps(conn: &mut AnyConnection, folder_path: &str) -> QueryResult<Vec<GapRow>> {
    // One text column of counts: the number of columns does not depend on the SQL dialect.
    let counts: Vec<String> =
        MessageType::ALL.iter().map(|t| format!("CAST(SUM(CASE WHEN (COALESCE(cv.covered, 0) & {}) = 0 THEN 1 ELSE 0 END) AS TEXT)", t.bit())).collect();
    let sql = format!(
        "SELECT substr(f.path, {start}, 13) AS child, COUNT(*) AS members, {gaps} AS gaps \
         FROM accounts acc JOIN folders f ON f.id = acc.folder_id \
         LEFT JOIN ({covered}) cv ON cv.account_id = acc.id \
         WHERE acc.removed_at IS NULL AND f.path LIKE $1 \
         GROUP BY substr(f.path, {start}, 13) ORDER BY child",
        start = folder_path.len() + 1,
        gaps = counts.join(" || ',' || "),
        covered = covered_sql(),
    );
    let rows: Vec<CountRow> = diesel::sql_query(sql).bind::<Text, _>(format!("{folder_path}%")).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| GapRow {
            child: Some(r.child).filter(|c| !c.is_empty()),
            members: r.members,
            gaps: r.gaps.split(',').map(|n| n.trim().parse().unwrap_or(0)).collect(),
        })
        .collect())
}

/// A member with at least one gap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberGap {
    pub account_id: String,
    pub display_name: String,
    pub folder_id: String,
    pub gaps: MessageTypes,
}

#[derive(QueryableByName)]
struct MemberRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    display_name: String,
    #[diesel(sql_type = Text)]
    folder_id: String,
    #[diesel(sql_type = BigInt)]
    covered: i64,
}

/// Which members: a folder's whole subtree, or only those directly in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Within<'a> {
    Subtree(&'a str),
    Directly(&'a str),
}

impl Within<'_> {
    /// The `LIKE` pattern of the members' folder paths (ids hold no `%` or `_`).
    fn pattern(self) -> String {
        match self {
            Within::Subtree(path) => format!("{path}%"),
            Within::Directly(path) => path.to_owned(),
        }
    }
}

/// The members with a gap (for `only`, when given), by account id, `limit` after skipping
/// `offset`; and how many there are.
pub fn members_with_gaps(
    conn: &mut AnyConnection,
    within: Within<'_>,
    only: Option<MessageType>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<MemberGap>, i64)> {
    // With one type, a gap is that type missing; with none, any type missing.
    let gap = match only {
        Some(t) => format!("(COALESCE(cv.covered, 0) & {}) = 0", t.bit()),
        None => format!("(COALESCE(cv.covered, 0) & {every}) <> {every}", every = MessageTypes::EVERY.bits()),
    };
    let base = format!(
        "FROM accounts acc JOIN folders f ON f.id = acc.folder_id LEFT JOIN ({covered}) cv ON cv.account_id = acc.id \
         WHERE acc.removed_at IS NULL AND f.path LIKE $1 AND {gap}",
        covered = covered_sql()
    );
    let pattern = within.pattern();
    #[derive(QueryableByName)]
    struct Total {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let total = diesel::sql_query(format!("SELECT COUNT(*) AS n {base}")).bind::<Text, _>(&pattern).get_result::<Total>(conn)?.n;
    let rows: Vec<MemberRow> = diesel::sql_query(format!(
        "SELECT acc.id AS id, acc.display_name AS display_name, acc.folder_id AS folder_id, CAST(COALESCE(cv.covered, 0) AS BIGINT) AS covered {base} \
         ORDER BY acc.id LIMIT {limit} OFFSET {offset}"
    ))
    .bind::<Text, _>(&pattern)
    .load(conn)?;
    let every = MessageTypes::EVERY.bits();
    let members = rows
        .into_iter()
        .map(|r| MemberGap {
            account_id: r.id,
            display_name: r.display_name,
            folder_id: r.folder_id,
            gaps: MessageTypes::from_bits(every & !(r.covered as i32)),
        })
        .collect();
    Ok((members, total))
}

/// Why nobody receives a type for a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Every address that would receive the type bounces.
    OnlyBouncing,
    /// Its own recipient for the type has not confirmed the address yet.
    OnlyUnverified,
    /// The member turned the type off for the directory's contact that offers it.
    OptedOut,
    /// The member removed the directory's contact that offers it from its Message Center.
    Removed,
    /// Nobody is set up for the type at all.
    NoRecipient,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::OnlyBouncing => "OnlyBouncingAddresses",
            Reason::OnlyUnverified => "OnlyUnverified",
            Reason::OptedOut => "OptedOut",
            Reason::Removed => "RemovedFromMessageCenter",
            Reason::NoRecipient => "NoRecipient",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Reason::OnlyBouncing => "only addresses that bounce",
            Reason::OnlyUnverified => "only an address not confirmed yet",
            Reason::OptedOut => "opted out of the directory's contact",
            Reason::Removed => "removed the directory's contact",
            Reason::NoRecipient => "no recipient",
        }
    }
}

/// Why each gap of these members is there: two queries, whatever the number of members;
/// kept under the read version (migration 000028).
pub fn reasons(conn: &mut AnyConnection, gaps: &[MemberGap]) -> QueryResult<HashMap<(String, MessageType), Reason>> {
    if gaps.iter().all(|g| g.gaps.is_empty()) {
        return Ok(HashMap::new());
    }
    let key: Vec<String> = gaps.iter().map(|g| format!("{}:{}", g.account_id, g.gaps.bits())).collect();
    REASONS.copy_or_read(conn, &key.join(","), |conn| read_reasons(conn, gaps))
}

/// Why members' gaps are there, by their ids and gaps.
static REASONS: crate::directory::KeptByVersion<std::sync::Arc<HashMap<(String, MessageType), Reason>>> = crate::directory::KeptByVersion::of_anything();

fn read_reasons(conn: &mut AnyConnection, gaps: &[MemberGap]) -> QueryResult<HashMap<(String, MessageType), Reason>> {
    use crate::db::schema::{associations, contacts, mc_recipients};
    let ids: Vec<&str> = gaps.iter().map(|g| g.account_id.as_str()).collect();
    let own: Vec<(String, i32, bool, String)> = mc_recipients::table
        .filter(mc_recipients::account_id.eq_any(&ids))
        .select((mc_recipients::account_id, mc_recipients::message_types, mc_recipients::verified_at.is_not_null(), mc_recipients::email))
        .load(conn)?;
    let unverified: Vec<(String, i32)> = own.iter().filter(|r| !r.2).map(|r| (r.0.clone(), r.1)).collect();
    let entries: Vec<(String, i32, i32, bool)> = associations::table
        .inner_join(contacts::table)
        .filter(associations::account_id.eq_any(&ids))
        .select((associations::account_id, contacts::message_types, associations::mc_opt_out, associations::mc_removed_at.is_not_null()))
        .load(conn)?;
    // Addresses that would receive a type but bounce: own confirmed recipients and the
    // verified contacts of the members' entries.
    let entry_addresses: Vec<(String, i32, i32, bool, String)> = associations::table
        .inner_join(contacts::table)
        .filter(associations::account_id.eq_any(&ids))
        .filter(contacts::verified_at.is_not_null())
        .select((associations::account_id, contacts::message_types, associations::mc_opt_out, associations::mc_removed_at.is_not_null(), contacts::email))
        .load(conn)?;
    let marks = crate::bounces::of(conn, own.iter().map(|r| r.3.as_str()).chain(entry_addresses.iter().map(|e| e.4.as_str())))?;
    let bouncing = |a: &str| crate::bounces::lookup(&marks, a).is_some();
    let receives_only_bouncing = |account: &str, b: i32| {
        own.iter().any(|r| r.0 == account && r.2 && r.1 & b != 0 && bouncing(&r.3))
            || entry_addresses.iter().any(|e| e.0 == account && !e.3 && e.1 & b != 0 && e.2 & b == 0 && bouncing(&e.4))
    };
    let mut out = HashMap::new();
    for g in gaps {
        for t in g.gaps.iter() {
            let b = t.bit();
            let reason = if receives_only_bouncing(&g.account_id, b) {
                Reason::OnlyBouncing
            } else if unverified.iter().any(|(a, m)| *a == g.account_id && m & b != 0) {
                Reason::OnlyUnverified
            } else if entries.iter().any(|(a, m, o, removed)| *a == g.account_id && m & b != 0 && !removed && o & b != 0) {
                Reason::OptedOut
            } else if entries.iter().any(|(a, m, _, removed)| *a == g.account_id && m & b != 0 && *removed) {
                Reason::Removed
            } else {
                Reason::NoRecipient
            };
            out.insert((g.account_id.clone(), t), reason);
        }
    }
    Ok(out)
}
