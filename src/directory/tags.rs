//! Tags on folders and members: set, removed, listed, and used as list filters. A
//! resource keeps at most [`MAX_TAGS`] tags, one value per key.

use std::collections::BTreeMap;

use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::DirectoryError;
use crate::audit::{self, Actor, Changes, Event};
use crate::db::schema::tags;
use crate::db::{AnyConnection, now_utc};
use crate::domain::{MAX_TAGS, Tag, TagKey, TaggedKind};

type Result<T, E = DirectoryError> = std::result::Result<T, E>;

diesel::define_sql_function!(fn lower(x: Text) -> Text);

/// One tag on one resource, as ListTagResources answers it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct TagRow {
    pub resource_type: String,
    pub resource_id: String,
    pub key: String,
    pub value: String,
}

/// Each resource's tags, by key.
pub type TagsById = BTreeMap<String, Vec<(String, String)>>;

/// Every id names a current member (or an existing folder). On PostgreSQL each one's row
/// is also locked until the transaction ends, in id order: two requests tagging the same
/// resource at once then count its tags one after the other, so that together they never
/// pass [`MAX_TAGS`] (SQLite's writers already take turns).
fn check_exist(conn: &mut AnyConnection, kind: TaggedKind, ids: &[String]) -> Result<()> {
    let lock = if crate::db::is_postgres(conn) { " FOR NO KEY UPDATE" } else { "" };
    let sql = match kind {
        TaggedKind::Account => format!("SELECT id FROM accounts WHERE id = $1 AND removed_at IS NULL{lock}"),
        TaggedKind::Folder => format!("SELECT id FROM folders WHERE id = $1{lock}"),
    };
    let mut sorted: Vec<&String> = ids.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut missing = Vec::new();
    for id in sorted {
        if diesel::sql_query(&sql).bind::<Text, _>(id).load::<Id>(conn)?.is_empty() {
            missing.push(id);
        }
    }
    match ids.iter().find(|id| missing.contains(id)) {
        None => Ok(()),
        Some(id) => Err(match kind {
            TaggedKind::Account => DirectoryError::AccountNotFound(id.clone()),
            TaggedKind::Folder => DirectoryError::FolderNotFound(id.clone()),
        }),
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Text)]
    #[expect(dead_code, reason = "only whether a row comes back counts")]
    id: String,
}

/// Sets `tags` on every resource named, in one transaction: a key it has already takes
/// the new value. Refused (and nothing set) when a resource would have more than 20.
pub fn tag(conn: &mut AnyConnection, kind: TaggedKind, ids: &[String], new: &[Tag], actor: &Actor) -> Result<()> {
    crate::db::transaction(conn, |conn| {
        check_exist(conn, kind, ids)?;
        write_tags(conn, kind, ids, new)?;
        let changes = new.iter().fold(Changes::new(), |c, t| c.set(t.key.as_str(), t.value.as_str()));
        audit::record_all(conn, actor, ids.iter().map(|id| Event::new("tag.set", id).changes(changes.clone())))?;
        Ok(())
    })
}

/// Sets tags inside the caller's transaction (a resource being created with its tags).
pub(crate) fn write_tags(conn: &mut AnyConnection, kind: TaggedKind, ids: &[String], new: &[Tag]) -> Result<()> {
    let now = now_utc();
    for id in ids {
        for t in new {
            diesel::delete(tags::table.find((kind.as_str(), id, t.key.as_str()))).execute(conn)?;
            diesel::insert_into(tags::table)
                .values((
                    tags::resource_type.eq(kind.as_str()),
                    tags::resource_id.eq(id),
                    tags::tag_key.eq(t.key.as_str()),
                    tags::tag_value.eq(t.value.as_str()),
                    tags::created_at.eq(now),
                ))
                .execute(conn)?;
        }
        let count: i64 = tags::table.filter(tags::resource_type.eq(kind.as_str())).filter(tags::resource_id.eq(id)).count().get_result(conn)?;
        if count > MAX_TAGS as i64 {
            return Err(DirectoryError::TooManyTags { resource: id.clone(), count });
        }
    }
    Ok(())
}

/// Removes the keys named (or, with `None`, every tag) from every resource named.
pub fn untag(conn: &mut AnyConnection, kind: TaggedKind, ids: &[String], keys: Option<&[TagKey]>, actor: &Actor) -> Result<()> {
    crate::db::transaction(conn, |conn| {
        check_exist(conn, kind, ids)?;
        let mut q = diesel::delete(tags::table).filter(tags::resource_type.eq(kind.as_str())).filter(tags::resource_id.eq_any(ids)).into_boxed();
        if let Some(keys) = keys {
            q = q.filter(tags::tag_key.eq_any(keys.iter().map(|k| k.as_str().to_owned()).collect::<Vec<_>>()));
        }
        q.execute(conn)?;
        let changes = match keys {
            Some(keys) => keys.iter().fold(Changes::new(), |c, k| c.field(k.as_str(), "(set)", serde_json::Value::Null)),
            None => Changes::new().field("every tag", "(set)", serde_json::Value::Null),
        };
        audit::record_all(conn, actor, ids.iter().map(|id| Event::new("tag.remove", id).changes(changes.clone())))?;
        Ok(())
    })
}

/// Drops every tag of a resource that is gone (a deleted folder, a removed member).
pub(crate) fn forget(conn: &mut AnyConnection, kind: TaggedKind, id: &str) -> Result<()> {
    diesel::delete(tags::table.filter(tags::resource_type.eq(kind.as_str())).filter(tags::resource_id.eq(id))).execute(conn)?;
    Ok(())
}

/// The tags of these resources, each list by key. One query, kept under the read version
/// (migration 000028).
pub fn tags_of(conn: &mut AnyConnection, kind: TaggedKind, ids: &[String]) -> Result<TagsById> {
    let key = format!("{}/{}", kind.as_str(), ids.join(","));
    let rows = TAGS.kept_or_read(conn, &key, |conn| {
        tags::table
            .filter(tags::resource_type.eq(kind.as_str()))
            .filter(tags::resource_id.eq_any(ids))
            .order((tags::resource_id, tags::tag_key))
            .select((tags::resource_id, tags::tag_key, tags::tag_value))
            .load::<(String, String, String)>(conn)
            .map(std::sync::Arc::new)
    })?;
    let mut by_id = TagsById::new();
    for (id, k, v) in rows.iter().cloned() {
        by_id.entry(id).or_default().push((k, v));
    }
    Ok(by_id)
}

/// The tag rows of resources, by kind and ids.
static TAGS: super::KeptByVersion<std::sync::Arc<Vec<(String, String, String)>>> = super::KeptByVersion::of_anything();

/// The ids of the resources of a kind that carry a tag (a tag with an empty value
/// matches its key with any value): a subquery for a list's filter. A macro, because the
/// multi-backend connection cannot take a boxed subquery.
#[macro_export]
macro_rules! tagged_ids {
    ($kind:expr, $tag:expr) => {{
        use diesel::IntoSql as _;
        $crate::db::schema::tags::table
            .filter($crate::db::schema::tags::resource_type.eq($kind.as_str()))
            .filter($crate::db::schema::tags::tag_key.eq($tag.key.as_str().to_owned()))
            .filter(
                $crate::db::schema::tags::tag_value.eq($tag.value.as_str().to_owned()).or($tag.value.as_str().is_empty().into_sql::<diesel::sql_types::Bool>()),
            )
            .select($crate::db::schema::tags::resource_id)
    }};
}

/// ListTagResources: the tags of the resources named (all of `kind` when none is),
/// limited to resources that carry every tag of `filter`; by resource, then key.
pub fn list_tag_resources(conn: &mut AnyConnection, kind: TaggedKind, ids: &[String], filter: &[Tag], offset: i64, limit: i64) -> Result<(Vec<TagRow>, i64)> {
    let build = || {
        let mut q = tags::table.filter(tags::resource_type.eq(kind.as_str())).into_boxed();
        if !ids.is_empty() {
            q = q.filter(tags::resource_id.eq_any(ids.to_vec()));
        }
        for t in filter {
            // The same table inside: an alias, as the tag lists' filter macro cannot be.
            let other = diesel::alias!(tags as carrier);
            q = q.filter(
                tags::resource_id.eq_any(
                    other
                        .filter(other.field(tags::resource_type).eq(kind.as_str()))
                        .filter(other.field(tags::tag_key).eq(t.key.as_str().to_owned()))
                        .filter(other.field(tags::tag_value).eq(t.value.as_str().to_owned()).or(t.value.as_str().is_empty().into_sql::<Bool>()))
                        .select(other.field(tags::resource_id)),
                ),
            );
        }
        q
    };
    let total: i64 = build().select(count_star()).first(conn)?;
    let rows = build()
        .order((tags::resource_id, tags::tag_key))
        .offset(offset)
        .limit(limit)
        .select((tags::resource_type, tags::resource_id, tags::tag_key, tags::tag_value))
        .load::<TagRow>(conn)?;
    Ok((rows, total))
}

/// ListTagKeys: the keys in use on resources of `kind`, optionally containing a text.
pub fn tag_keys(conn: &mut AnyConnection, kind: TaggedKind, contains: Option<&str>, offset: i64, limit: i64) -> Result<(Vec<String>, i64)> {
    let pattern = super::contains_pattern(contains.unwrap_or(""));
    let build = || {
        tags::table
            .filter(tags::resource_type.eq(kind.as_str()))
            .filter(lower(tags::tag_key).like(pattern.clone()).escape('\\'))
            .select(tags::tag_key)
            .distinct()
    };
    let all: Vec<String> = build().order(tags::tag_key).load(conn)?;
    let total = all.len() as i64;
    Ok((all.into_iter().skip(offset.max(0) as usize).take(limit.max(0) as usize).collect(), total))
}

/// ListTagValues: the values in use for one key, optionally containing a text.
pub fn tag_values(conn: &mut AnyConnection, kind: TaggedKind, key: &TagKey, contains: Option<&str>, offset: i64, limit: i64) -> Result<(Vec<String>, i64)> {
    let pattern = super::contains_pattern(contains.unwrap_or(""));
    let all: Vec<String> = tags::table
        .filter(tags::resource_type.eq(kind.as_str()))
        .filter(tags::tag_key.eq(key.as_str()))
        .filter(lower(tags::tag_value).like(pattern).escape('\\'))
        .select(tags::tag_value)
        .distinct()
        .order(tags::tag_value)
        .load(conn)?;
    let total = all.len() as i64;
    Ok((all.into_iter().skip(offset.max(0) as usize).take(limit.max(0) as usize).collect(), total))
}
