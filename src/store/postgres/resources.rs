//! Resources on PostgreSQL: one row per resource, the canonical document as JSONB.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{Postgres, QueryBuilder, Transaction};

use super::filter::{push_filter, push_sort_key};
use super::members::add_members;
use uuid::Uuid;

use super::{PgStore, uniqueness};
use crate::scim::canonical::Document;
use crate::scim::list::ListQuery;
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::ResourceKind;
use crate::store::shadow::name_attribute;
use crate::store::{
    GroupPairs, Listing, Shadow, StoreError, TenantId, Write, groups_by_user, paging,
};

#[derive(sqlx::FromRow)]
pub(super) struct ResourceRow {
    id: Uuid,
    version: i64,
    created: DateTime<Utc>,
    last_modified: DateTime<Utc>,
    doc: Json<Document>,
}

impl ResourceRow {
    pub(super) fn into_resource(self, kind: ResourceKind) -> StoredResource {
        StoredResource {
            kind,
            id: ResourceId(self.id),
            version: Version(self.version),
            created: self.created,
            last_modified: self.last_modified,
            doc: self.doc.0,
        }
    }
}

impl PgStore {
    pub(crate) async fn create(
        &self,
        tenant: TenantId,
        w: Write<'_>,
    ) -> Result<StoredResource, StoreError> {
        let mut tx = self.pool.begin().await?;
        let shadow = Shadow::of(w.kind, w.doc, w.folded, w.matching);
        let row = sqlx::query_as::<_, ResourceRow>(
            r#"insert into resources
                   (tenant_id, id, resource_type, version, created, last_modified,
                    name_key, external_id, active, doc, search, match_key)
               values ($1, $2, $3, 1, $4, $4, $5, $6, $7, $8, $9, $10)
               returning id, version, created, last_modified, doc"#,
        )
        .bind(tenant.0)
        .bind(w.id.0)
        .bind(w.kind.as_str())
        .bind(w.now)
        .bind(&shadow.name_key)
        .bind(&shadow.external_id)
        .bind(shadow.active)
        .bind(Json(w.doc))
        .bind(Json(w.folded))
        .bind(&shadow.match_key)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| unique_violation(e, &w))?;
        if let Some(members) = w.members {
            add_members(&mut tx, tenant, w.id, members).await?;
        }
        tx.commit().await?;
        Ok(row.into_resource(w.kind))
    }

    pub(crate) async fn get(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: ResourceId,
    ) -> Result<StoredResource, StoreError> {
        sqlx::query_as::<_, ResourceRow>(
            r#"select id, version, created, last_modified, doc from resources
               where tenant_id = $1 and id = $2 and resource_type = $3"#,
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| row.into_resource(kind))
        .ok_or(StoreError::NotFound)
    }

    pub(crate) async fn replace(
        &self,
        tenant: TenantId,
        w: Write<'_>,
        expected: Version,
    ) -> Result<StoredResource, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(row) = update_row(&mut tx, tenant, &w, Some(expected)).await? else {
            drop(tx);
            return Err(self.missing_or_moved(tenant, w.kind, w.id).await);
        };
        if let Some(members) = w.members {
            sqlx::query(r#"delete from memberships where tenant_id = $1 and group_id = $2"#)
                .bind(tenant.0)
                .bind(w.id.0)
                .execute(&mut *tx)
                .await?;
            add_members(&mut tx, tenant, w.id, members).await?;
        }
        tx.commit().await?;
        Ok(row.into_resource(w.kind))
    }

    pub(crate) async fn delete(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: ResourceId,
        expected: Option<Version>,
    ) -> Result<(), StoreError> {
        let deleted = sqlx::query(
            r#"delete from resources
               where tenant_id = $1 and id = $2 and resource_type = $3
                 and ($4::bigint is null or version = $4)"#,
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(kind.as_str())
        .bind(expected.map(|v| v.0))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if deleted == 1 {
            Ok(())
        } else {
            Err(self.missing_or_moved(tenant, kind, id).await)
        }
    }

    /// After a conditional write touched no row: was the resource gone, or at another version?
    pub(super) async fn missing_or_moved(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: ResourceId,
    ) -> StoreError {
        match self.get(tenant, kind, id).await {
            Ok(_) => StoreError::VersionMismatch,
            Err(e) => e,
        }
    }

    pub(crate) async fn list(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        query: &ListQuery,
    ) -> Result<Listing, StoreError> {
        let counted = if paging::count_first(query) {
            Some(self.count(tenant, kind, query).await?)
        } else {
            None
        };
        let window = paging::window(query, counted);
        if window.count == 0 {
            let total = counted.map_or(0, |(t, _)| t);
            return Ok(Listing {
                total: u64::try_from(total).unwrap_or(0),
                resources: Vec::new(),
                next: None,
                groups: None,
            });
        }
        let mut qb =
            QueryBuilder::<Postgres>::new("select id, seq, version, created, last_modified, doc, ");
        qb.push(if query.with_groups && kind == ResourceKind::User {
            GROUPS_COLUMN
        } else {
            "null::jsonb as groups"
        });
        qb.push(" from resources where ");
        scope(&mut qb, tenant, kind, query);
        if let Some(after) = window.after {
            qb.push(" and seq > ");
            qb.push_bind(after);
        }
        if let Some(snapshot) = window.snapshot {
            qb.push(" and seq <= ");
            qb.push_bind(snapshot);
        }
        qb.push(" order by ");
        if let Some(sort) = &query.sort {
            push_sort_key(&mut qb, &sort.key);
            qb.push(if sort.descending {
                " desc nulls first, seq desc"
            } else {
                " asc nulls last, seq"
            });
        } else {
            qb.push("seq");
        }
        qb.push(" limit ");
        qb.push_bind(i64::from(window.count) + 1);
        qb.push(" offset ");
        qb.push_bind(i64::try_from(window.offset).unwrap_or(i64::MAX));
        let rows: Vec<ListRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        let page = paging::finish(
            query,
            window,
            counted,
            rows.into_iter()
                .map(|r| (r.seq, (r.row, r.groups)))
                .collect(),
        );
        let total = match page.total {
            Some(total) => total,
            None => u64::try_from(self.count(tenant, kind, query).await?.0).unwrap_or(0),
        };
        let mut resources = Vec::with_capacity(page.rows.len());
        let mut groups = Vec::new();
        for (row, row_groups) in page.rows {
            let resource = row.into_resource(kind);
            groups.push((resource.id, row_groups.map(|g| g.0)));
            resources.push(resource);
        }
        Ok(Listing {
            total,
            resources,
            next: page.next,
            groups: (query.with_groups && kind == ResourceKind::User)
                .then(|| groups_by_user(groups))
                .transpose()?,
        })
    }

    /// How many resources match, and the highest sequence number among them.
    async fn count(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        query: &ListQuery,
    ) -> Result<(i64, i64), StoreError> {
        let mut qb = QueryBuilder::<Postgres>::new(
            "select count(*), coalesce(max(seq), 0) from resources where ",
        );
        scope(&mut qb, tenant, kind, query);
        Ok(qb.build_query_as().fetch_one(&self.pool).await?)
    }
}

/// `tenant_id = … and resource_type = … and (<filter>)`
fn scope<'a>(
    qb: &mut QueryBuilder<'a, Postgres>,
    tenant: TenantId,
    kind: ResourceKind,
    query: &ListQuery,
) {
    qb.push("tenant_id = ");
    qb.push_bind(tenant.0);
    qb.push(" and resource_type = ");
    qb.push_bind(kind.as_str());
    if let Some(filter) = &query.filter {
        qb.push(" and (");
        push_filter(qb, filter, kind);
        qb.push(")");
    }
}

#[derive(sqlx::FromRow)]
struct ListRow {
    seq: i64,
    #[sqlx(flatten)]
    row: ResourceRow,
    groups: Option<Json<GroupPairs>>,
}

/// A user's groups, in the list query itself (a lookup stays one query); ordered by name in
/// Rust (an ordered aggregate would set up a sort for every row).
const GROUPS_COLUMN: &str =
    "(select jsonb_agg(jsonb_build_array(m.group_id::text, g.doc->>'displayName'))
     from memberships m join resources g on g.tenant_id = m.tenant_id and g.id = m.group_id
     where m.tenant_id = resources.tenant_id and m.member_id = resources.id) as groups";

/// Writes the document of `w` (and its shadow columns), bumping the version; at `expected` only
/// when given. `None` when no row was written.
pub(super) async fn update_row(
    tx: &mut Transaction<'_, Postgres>,
    tenant: TenantId,
    w: &Write<'_>,
    expected: Option<Version>,
) -> Result<Option<ResourceRow>, StoreError> {
    let shadow = Shadow::of(w.kind, w.doc, w.folded, w.matching);
    sqlx::query_as::<_, ResourceRow>(
        r#"update resources
           set version = version + 1, last_modified = $5,
               name_key = $6, external_id = $7, active = $8, doc = $9, search = $10,
               match_key = $11
           where tenant_id = $1 and id = $2 and resource_type = $3
             and ($4::bigint is null or version = $4)
           returning id, version, created, last_modified, doc"#,
    )
    .bind(tenant.0)
    .bind(w.id.0)
    .bind(w.kind.as_str())
    .bind(expected.map(|v| v.0))
    .bind(w.now)
    .bind(&shadow.name_key)
    .bind(&shadow.external_id)
    .bind(shadow.active)
    .bind(Json(w.doc))
    .bind(Json(w.folded))
    .bind(&shadow.match_key)
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| unique_violation(e, w))
}

/// A unique violation as the attribute it protects: the matching attribute's index or the
/// name index.
fn unique_violation(e: sqlx::Error, w: &Write<'_>) -> StoreError {
    let matching =
        matches!(&e, sqlx::Error::Database(db) if db.constraint() == Some("resources_match_key"));
    let attribute = if matching {
        w.matching.as_str()
    } else {
        name_attribute(w.kind)
    };
    uniqueness(e, attribute)
}
