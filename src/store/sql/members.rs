//! Group membership: its own table, changed with inserts and deletes of the members named,
//! never by rewriting a member list, so a change of k members costs O(k) whatever the group's
//! size, and parallel changes lose nothing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Transaction;

use super::documents::{not_found, update};
use super::rows::{self, RESOURCE_COLUMNS};
use super::{Arg, Sql, SqlStore, commit, execute};
use crate::domain::TenantId;
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::ResourceKind;
use crate::store::dialect::{Dialect, Record};
use crate::store::{GroupChange, GroupRef, Groups, Member, MemberChange, MemberInput, StoreError};

impl<D: Dialect> Groups for SqlStore<D> {
    /// Changes a group's members, and its document when `doc` is given, in one transaction.
    /// The group row is written first, which locks it, so concurrent changes queue instead of
    /// failing; with `expected` they happen only at that version. Nothing changed (members
    /// added again, a replacement by the same list): nothing is written and the version stays.
    async fn update_group(
        &self,
        tenant: TenantId,
        change: GroupChange<'_>,
    ) -> Result<StoredResource, StoreError> {
        let GroupChange {
            group,
            content: doc,
            expected,
            changes,
            now,
            activity: recorded,
        } = change;
        let mut tx = self.writer.begin_write().await?;
        let stored = match &doc {
            Some(w) => update::<D>(&mut tx, tenant, w, expected, None).await?,
            None => touch::<D>(&mut tx, tenant, group, expected, now).await?,
        };
        let Some(stored) = stored else {
            drop(tx);
            return Err(match expected {
                Some(v) => {
                    self.missing_or_moved(tenant, ResourceKind::Group, group, v)
                        .await
                }
                None => not_found(ResourceKind::Group, group),
            });
        };
        let mut changed = 0;
        for change in changes {
            changed += apply::<D>(&mut tx, tenant, group, change).await?;
        }
        if doc.is_none() && changed == 0 {
            tx.rollback().await?;
            return self.get_group(tenant, group).await;
        }
        if let Some(a) = recorded {
            super::activity::write::<D>(&mut tx, a).await?;
        }
        commit::<D>(tx).await?;
        Ok(stored)
    }

    async fn members(
        &self,
        tenant: TenantId,
        groups: &[ResourceId],
    ) -> Result<HashMap<ResourceId, Vec<Member>>, StoreError> {
        self.per_id(tenant, groups, &member_select::<D>(""), member)
            .await
    }

    async fn member_page(
        &self,
        tenant: TenantId,
        group: ResourceId,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<Member>, StoreError> {
        let sql = Sql::new(member_select::<D>(" limit $3 offset $4"))
            .arg(tenant)
            .arg(group)
            .arg(i64::from(limit))
            .arg(i64::try_from(offset).unwrap_or(i64::MAX));
        self.fetch_all(sql).await?.iter().map(member).collect()
    }

    async fn member_counts(
        &self,
        tenant: TenantId,
        groups: &[ResourceId],
    ) -> Result<HashMap<ResourceId, u64>, StoreError> {
        let text =
            "select count(*) as members from memberships where tenant_id = $1 and group_id = $2";
        let counts = self
            .per_id(tenant, groups, text, |r| {
                Ok(r.int("members")?.unsigned_abs())
            })
            .await?;
        Ok(counts
            .into_iter()
            .map(|(group, count)| (group, count.into_iter().sum()))
            .filter(|(_, count)| *count > 0)
            .collect())
    }

    async fn groups_of(
        &self,
        tenant: TenantId,
        members: &[ResourceId],
    ) -> Result<HashMap<ResourceId, Vec<GroupRef>>, StoreError> {
        let text = format!(
            "select m.group_id as id, {} as display from {} where m.tenant_id = $1 and m.member_id = $2",
            D::GROUP_NAME,
            D::MEMBERSHIPS_BY_MEMBER,
        );
        let mut groups = self
            .per_id(tenant, members, &text, |r| {
                Ok(GroupRef {
                    id: ResourceId(r.uuid("id")?),
                    display: r.text("display")?,
                })
            })
            .await?;
        groups.values_mut().for_each(|list| rows::sort_groups(list));
        Ok(groups)
    }
}

impl<D: Dialect> SqlStore<D> {
    /// The rows of `text` (`$1` the tenant, `$2` one id) for each of `ids`, read by `row`, on
    /// one connection; ids without rows are left out. One statement per id, because an
    /// equality keeps its plan an index probe at any table size, while a list (`= any($2)`)
    /// is planned for ten values and, without statistics, may lose to a walk of the tenant's
    /// rows (seen: a create reading its user's groups through every resource of the tenant).
    async fn per_id<T>(
        &self,
        tenant: TenantId,
        ids: &[ResourceId],
        text: &str,
        row: impl Fn(&D::Row) -> Result<T, StoreError>,
    ) -> Result<HashMap<ResourceId, Vec<T>>, StoreError> {
        let mut out = HashMap::new();
        let mut conn = self.pool.acquire().await?;
        for id in ids {
            let sql = Sql::new(text).arg(tenant).arg(*id);
            let found = D::fetch_all(&mut conn, sql).await?;
            if !found.is_empty() {
                let items = found.iter().map(&row).collect::<Result<Vec<_>, _>>()?;
                out.insert(*id, items);
            }
        }
        Ok(out)
    }

    async fn get_group(
        &self,
        tenant: TenantId,
        group: ResourceId,
    ) -> Result<StoredResource, StoreError> {
        crate::store::Resources::get(self, tenant, ResourceKind::Group, group).await
    }
}

/// The members of group `$2` of tenant `$1` in the order they were added, with `tail` (a
/// limit, say) after the order. The member's row is read by its primary key in subqueries: as
/// a join, a plan made on an empty table scanned every resource of the tenant for each member.
fn member_select<D: Dialect>(tail: &str) -> String {
    let member = "from resources r where r.tenant_id = m.tenant_id and r.id = m.member_id";
    format!(
        "select m.member_id as id, (select r.resource_type {member}) as resource_type,
                coalesce(m.display, (select coalesce({}, {}) {member})) as display
         from memberships m
         where m.tenant_id = $1 and m.group_id = $2
         order by m.seq{tail}",
        D::json_text("r.doc", "displayName"),
        D::json_text("r.doc", "userName"),
    )
}

fn member(r: &impl Record) -> Result<Member, StoreError> {
    Ok(Member {
        id: ResourceId(r.uuid("id")?),
        kind: rows::kind(r, "resource_type")?,
        display: r.text("display")?,
    })
}

/// One member change; how many memberships it added or removed.
async fn apply<D: Dialect>(
    tx: &mut Transaction<'static, D::Db>,
    tenant: TenantId,
    group: ResourceId,
    change: &MemberChange,
) -> Result<u64, StoreError> {
    Ok(match change {
        MemberChange::Add(list) => add::<D>(tx, tenant, group, list).await?,
        MemberChange::Remove(ids) => remove::<D>(tx, tenant, group, Some(ids)).await?,
        MemberChange::RemoveAll => remove::<D>(tx, tenant, group, None).await?,
        MemberChange::Replace(list) => {
            if current::<D>(tx, tenant, group).await? == *list {
                return Ok(0);
            }
            remove::<D>(tx, tenant, group, None).await? + add::<D>(tx, tenant, group, list).await?
        }
    })
}

/// The group's members as they were added: ids and displays as sent, in order.
async fn current<D: Dialect>(
    tx: &mut Transaction<'static, D::Db>,
    tenant: TenantId,
    group: ResourceId,
) -> Result<Vec<MemberInput>, StoreError> {
    let sql = Sql::new(
        "select member_id, display from memberships
         where tenant_id = $1 and group_id = $2 order by seq",
    )
    .arg(tenant)
    .arg(group);
    D::fetch_all(tx, sql)
        .await?
        .iter()
        .map(|row| {
            Ok(MemberInput {
                id: ResourceId(row.uuid("member_id")?),
                display: row.text("display")?,
            })
        })
        .collect()
}

/// Adds members (already there: no change). An id that names no resource of the tenant is
/// `InvalidReference`, and the transaction is to be rolled back. Returns how many were added.
pub(super) async fn add<D: Dialect>(
    tx: &mut Transaction<'static, D::Db>,
    tenant: TenantId,
    group: ResourceId,
    members: &[MemberInput],
) -> Result<u64, StoreError> {
    let Some(first) = members.first() else {
        return Ok(0);
    };
    let ids: Vec<ResourceId> = members.iter().map(|m| m.id).collect();
    // a primary-key probe per id; listing the tenant's ids would cost O(directory)
    let missing = Sql::new(format!(
        "select u.id from {}
         where (select 1 from resources r where r.tenant_id = $1 and r.id = u.id) is null
         limit 1",
        D::id_rows("$2")
    ))
    .arg(tenant)
    .arg(ids.as_slice());
    if let Some(row) = D::fetch_optional(tx, missing).await? {
        let id = ResourceId(row.uuid("id")?);
        return Err(StoreError::InvalidReference { id });
    }
    let list: Vec<serde_json::Value> = members
        .iter()
        .map(|m| json!({"id": m.id.to_string(), "display": m.display}))
        .collect();
    let insert = Sql::new(format!(
        "insert into memberships (tenant_id, group_id, member_id, display)
         select $1, $2, u.id, u.display from {} where true
         on conflict do nothing",
        D::member_rows("$3")
    ))
    .arg(tenant)
    .arg(group)
    .arg(Arg::json(&list)?);
    D::execute(tx, insert).await.map_err(|e| match &e {
        // a member deleted between the check and the insert (no other writer can get in
        // between on SQLite, whose write transactions are exclusive)
        StoreError::Other(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            StoreError::InvalidReference { id: first.id }
        }
        _ => e,
    })
}

/// Removes the named members, or all of them. A named member is one statement each, on the
/// whole primary key: without statistics a plan for a list (`member_id = any(…)`) may walk
/// the group's rows and filter them, which costs O(group) per removal in a group Entra filled.
pub(super) async fn remove<D: Dialect>(
    tx: &mut Transaction<'static, D::Db>,
    tenant: TenantId,
    group: ResourceId,
    ids: Option<&[ResourceId]>,
) -> Result<u64, StoreError> {
    let Some(ids) = ids else {
        let all = Sql::new("delete from memberships where tenant_id = $1 and group_id = $2")
            .arg(tenant)
            .arg(group);
        return execute::<D>(tx, all).await;
    };
    let mut removed = 0;
    for id in ids {
        let one = Sql::new(
            "delete from memberships where tenant_id = $1 and group_id = $2 and member_id = $3",
        )
        .arg(tenant)
        .arg(group)
        .arg(*id);
        removed += execute::<D>(tx, one).await?;
    }
    Ok(removed)
}

/// Bumps the version of a group whose members change (and locks its row).
async fn touch<D: Dialect>(
    tx: &mut Transaction<'static, D::Db>,
    tenant: TenantId,
    group: ResourceId,
    expected: Option<Version>,
    now: DateTime<Utc>,
) -> Result<Option<StoredResource>, StoreError> {
    let sql = Sql::new(format!(
        "update resources set version = version + 1, last_modified = $4
         where tenant_id = $1 and id = $2 and resource_type = 'Group'
           and ($3 is null or version = $3)
         returning {RESOURCE_COLUMNS}"
    ))
    .arg(tenant)
    .arg(group)
    .arg(expected)
    .arg(now);
    D::fetch_optional(tx, sql)
        .await?
        .map(|row| rows::resource(&row, ResourceKind::Group))
        .transpose()
}
