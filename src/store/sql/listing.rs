//! Listings: one page of the resources a query selects, in its order, with the total and the
//! next cursor. The paging plan (`store::paging`) decides what to count and which window to
//! read; an Entra lookup is one query, users' groups included.

use super::filter::{is_indexed_lookup, push_filter, push_sort_key};
use super::rows::{self, RESOURCE_COLUMNS};
use super::{Sql, SqlStore};
use crate::domain::TenantId;
use crate::scim::list::ListQuery;
use crate::scim::schema::ResourceKind;
use crate::store::dialect::{Dialect, Record};
use crate::store::paging::{self, Counted, Window};
use crate::store::{GroupRef, Listing, StoreError};

/// A page row's groups as the listing's `groups` column holds them, `[[group id, displayName], …]`.
type GroupPairs = Vec<(String, Option<String>)>;

pub async fn list<D: Dialect>(
    store: &SqlStore<D>,
    tenant: TenantId,
    kind: ResourceKind,
    query: &ListQuery,
) -> Result<Listing, StoreError> {
    let counted = match paging::count_first(query) {
        true => Some(count(store, tenant, kind, query, None).await?),
        false => None,
    };
    let window = paging::window(query, counted);
    if window.count == 0 {
        return Ok(Listing {
            total: counted.map_or(0, |(total, _)| total.unsigned_abs()),
            ..Listing::default()
        });
    }
    let with_groups = query.with_groups && kind == ResourceKind::User;
    let found = store
        .fetch_all(page::<D>(tenant, kind, query, window, with_groups))
        .await?;
    let rows = found
        .iter()
        .map(|row| Ok((row.int("seq")?, row)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let page = paging::finish(query, window, counted, rows);
    let total = match page.total {
        Some(total) => total,
        // the pages of a sorted cursor listing count the resources of their snapshot
        None => count(store, tenant, kind, query, window.snapshot)
            .await?
            .0
            .unsigned_abs(),
    };
    let mut listing = Listing {
        total,
        next: page.next,
        ..Listing::default()
    };
    let mut groups = with_groups.then(std::collections::HashMap::new);
    for row in page.rows {
        let resource = rows::resource(row, kind)?;
        if let Some(groups) = groups.as_mut() {
            groups.insert(resource.id, group_refs(row)?);
        }
        listing.resources.push(resource);
    }
    listing.groups = groups;
    Ok(listing)
}

/// How many resources match (of those up to `snapshot` when given), and the highest sequence
/// number among them.
async fn count<D: Dialect>(
    store: &SqlStore<D>,
    tenant: TenantId,
    kind: ResourceKind,
    query: &ListQuery,
    snapshot: Option<i64>,
) -> Result<Counted, StoreError> {
    let mut sql =
        Sql::new("select count(*) as total, coalesce(max(seq), 0) as last from resources where ");
    scope::<D>(&mut sql, tenant, kind, query);
    if let Some(snapshot) = snapshot {
        sql.push(" and seq <= ").push_bind(snapshot);
    }
    let row = store.fetch_optional(sql).await?;
    match row {
        Some(row) => Ok((row.int("total")?, row.int("last")?)),
        None => Ok((0, 0)),
    }
}

/// The page `window` of the query, one row more than asked (to tell whether another follows).
fn page<D: Dialect>(
    tenant: TenantId,
    kind: ResourceKind,
    query: &ListQuery,
    window: Window,
    with_groups: bool,
) -> Sql {
    let mut sql = Sql::new(format!("select seq, {RESOURCE_COLUMNS}, "));
    sql.push(if with_groups {
        D::GROUPS_COLUMN
    } else {
        "null as groups"
    });
    sql.push(" from resources where ");
    scope::<D>(&mut sql, tenant, kind, query);
    if let Some(after) = window.after {
        sql.push(" and seq > ").push_bind(after);
    }
    if let Some(snapshot) = window.snapshot {
        sql.push(" and seq <= ").push_bind(snapshot);
    }
    sql.push(" order by ");
    match &query.sort {
        Some(sort) => {
            push_sort_key::<D>(&mut sql, &sort.key);
            sql.push(if sort.descending {
                " desc nulls first, seq desc"
            } else {
                " asc nulls last, seq"
            });
        }
        None => {
            sql.push("seq");
        }
    }
    sql.push(" limit ")
        .push_bind(i64::from(window.count) + 1)
        .push(" offset ")
        .push_bind(i64::try_from(window.offset).unwrap_or(i64::MAX));
    sql
}

/// The resources of the tenant and kind that the filter selects, in a shape whose plan does
/// not depend on statistics (`migrations/postgres/20261201000001_plans_without_statistics.sql`):
/// - no filter: `scope = …`, which only the listing index (`scope`, `seq`) serves;
/// - a filter with an indexed equality (`userName`, `externalId`, `id`): `tenant_id = … and
///   resource_type = … and (…)`, which only that equality's index serves;
/// - a filter that fixes the work email of a tenant matching on it (`ListQuery::email_key`):
///   `tenant_id = … and resource_type = 'User' and email_key = … and (…)`, which the partial
///   index `resources_email_key` serves (its `'User'` a literal, so that a generic plan may
///   use it);
/// - any other filter: `scope = … and (…)`: the listing order, or the GIN index for a
///   containment; which one, the planner decides once per connection without knowing how many
///   rows match (the book: `docs/src/contributor/plans.md`).
fn scope<D: Dialect>(sql: &mut Sql, tenant: TenantId, kind: ResourceKind, query: &ListQuery) {
    let Some(filter) = &query.filter else {
        sql.push("scope = ").push_bind(scope_key(tenant, kind));
        return;
    };
    if let (Some(key), ResourceKind::User) = (&query.email_key, kind) {
        sql.push("tenant_id = ")
            .push_bind(tenant)
            .push(" and resource_type = 'User' and email_key = ")
            .push_bind(key.clone());
    } else if is_indexed_lookup(filter, kind) {
        sql.push("tenant_id = ")
            .push_bind(tenant)
            .push(" and resource_type = ")
            .push_bind(kind.as_str());
    } else {
        sql.push("scope = ").push_bind(scope_key(tenant, kind));
    }
    sql.push(" and (");
    push_filter::<D>(sql, filter, kind);
    sql.push(")");
}

/// The `scope` column's value: the tenant and the resource type.
fn scope_key(tenant: TenantId, kind: ResourceKind) -> String {
    format!("{}:{}", tenant.0, kind.as_str())
}

/// A listed user's groups, ordered by name as `groups_of` orders them.
fn group_refs(row: &impl Record) -> Result<Vec<GroupRef>, StoreError> {
    let pairs: GroupPairs = row.json("groups")?.unwrap_or_default();
    let mut refs = pairs
        .into_iter()
        .map(|(id, display)| {
            Ok(GroupRef {
                id: rows::id_text(&id)?,
                display,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    rows::sort_groups(&mut refs);
    Ok(refs)
}
