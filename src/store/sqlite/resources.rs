//! Resources on SQLite: one row per resource, the canonical document and its folded copy as
//! JSON text.

use sqlx::types::Json;
use sqlx::{QueryBuilder, Sqlite, Transaction};

use super::filter::{push_filter, push_sort_key};
use super::members::add_members;
use super::{SqliteStore, instant, millis, resource_id, uniqueness};
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
    id: String,
    version: i64,
    created: i64,
    last_modified: i64,
    doc: Json<Document>,
}

pub(super) const RESOURCE_COLUMNS: &str = "id, version, created, last_modified, doc";

impl ResourceRow {
    pub(super) fn into_resource(self, kind: ResourceKind) -> Result<StoredResource, StoreError> {
        Ok(StoredResource {
            kind,
            id: resource_id(&self.id)?,
            version: Version(self.version),
            created: instant(self.created),
            last_modified: instant(self.last_modified),
            doc: self.doc.0,
        })
    }
}

/// A unique violation as the attribute it protects.
fn unique_violation(e: sqlx::Error, w: &Write<'_>) -> StoreError {
    uniqueness(e, |message| {
        if message.contains("match_key") {
            w.matching.as_str()
        } else {
            name_attribute(w.kind)
        }
    })
}

impl SqliteStore {
    pub(crate) async fn create(
        &self,
        tenant: TenantId,
        w: Write<'_>,
    ) -> Result<StoredResource, StoreError> {
        let shadow = Shadow::of(w.kind, w.doc, w.folded, w.matching);
        let mut tx = self.write().await?;
        let row = sqlx::query_as::<_, ResourceRow>(&format!(
            "insert into resources
                 (tenant_id, id, resource_type, version, created, last_modified,
                  name_key, external_id, active, doc, search, match_key)
             values (?1, ?2, ?3, 1, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             returning {RESOURCE_COLUMNS}"
        ))
        .bind(tenant.0.to_string())
        .bind(w.id.to_string())
        .bind(w.kind.as_str())
        .bind(millis(w.now))
        .bind(&shadow.name_key)
        .bind(&shadow.external_id)
        .bind(shadow.active)
        .bind(Json(w.doc))
        .bind(Json(w.folded))
        .bind(&shadow.match_key)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| unique_violation(e, &w))?;
        index_values(&mut tx, tenant, &w).await?;
        if let Some(members) = w.members {
            add_members(&mut tx, tenant, w.id, members).await?;
        }
        tx.commit().await?;
        row.into_resource(w.kind)
    }

    pub(crate) async fn get(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: ResourceId,
    ) -> Result<StoredResource, StoreError> {
        sqlx::query_as::<_, ResourceRow>(&format!(
            "select {RESOURCE_COLUMNS} from resources where tenant_id = ?1 and id = ?2 and resource_type = ?3"
        ))
        .bind(tenant.0.to_string())
        .bind(id.to_string())
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?
        .into_resource(kind)
    }

    pub(crate) async fn replace(
        &self,
        tenant: TenantId,
        w: Write<'_>,
        expected: Version,
    ) -> Result<StoredResource, StoreError> {
        let mut tx = self.write().await?;
        let Some(row) = update_row(&mut tx, tenant, &w, Some(expected)).await? else {
            drop(tx);
            return Err(self.missing_or_moved(tenant, w.kind, w.id).await);
        };
        if let Some(members) = w.members {
            sqlx::query("delete from memberships where tenant_id = ?1 and group_id = ?2")
                .bind(tenant.0.to_string())
                .bind(w.id.to_string())
                .execute(&mut *tx)
                .await?;
            add_members(&mut tx, tenant, w.id, members).await?;
        }
        tx.commit().await?;
        row.into_resource(w.kind)
    }

    pub(crate) async fn delete(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: ResourceId,
        expected: Option<Version>,
    ) -> Result<(), StoreError> {
        let deleted = sqlx::query(
            "delete from resources
             where tenant_id = ?1 and id = ?2 and resource_type = ?3 and (?4 is null or version = ?4)",
        )
        .bind(tenant.0.to_string())
        .bind(id.to_string())
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
            QueryBuilder::<Sqlite>::new("select seq, id, version, created, last_modified, doc, ");
        qb.push(if query.with_groups && kind == ResourceKind::User {
            GROUPS_COLUMN
        } else {
            "null as groups"
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
            let resource = row.into_resource(kind)?;
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

    async fn count(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        query: &ListQuery,
    ) -> Result<(i64, i64), StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "select count(*), coalesce(max(seq), 0) from resources where ",
        );
        scope(&mut qb, tenant, kind, query);
        Ok(qb.build_query_as().fetch_one(&self.pool).await?)
    }
}

fn scope(
    qb: &mut QueryBuilder<'_, Sqlite>,
    tenant: TenantId,
    kind: ResourceKind,
    query: &ListQuery,
) {
    qb.push("tenant_id = ");
    qb.push_bind(tenant.0.to_string());
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
/// Rust.
const GROUPS_COLUMN: &str =
    "(select json_group_array(json_array(m.group_id, json_extract(g.doc, '$.displayName')))
     from memberships m join resources g on g.tenant_id = m.tenant_id and g.id = m.group_id
     where m.tenant_id = resources.tenant_id and m.member_id = resources.id) as groups";

/// Writes the document of `w`, bumping the version; at `expected` only when given.
pub(super) async fn update_row(
    tx: &mut Transaction<'_, Sqlite>,
    tenant: TenantId,
    w: &Write<'_>,
    expected: Option<Version>,
) -> Result<Option<ResourceRow>, StoreError> {
    let shadow = Shadow::of(w.kind, w.doc, w.folded, w.matching);
    let row = sqlx::query_as::<_, ResourceRow>(&format!(
        "update resources
         set version = version + 1, last_modified = ?5,
             name_key = ?6, external_id = ?7, active = ?8, doc = ?9, search = ?10, match_key = ?11
         where tenant_id = ?1 and id = ?2 and resource_type = ?3 and (?4 is null or version = ?4)
         returning {RESOURCE_COLUMNS}"
    ))
    .bind(tenant.0.to_string())
    .bind(w.id.to_string())
    .bind(w.kind.as_str())
    .bind(expected.map(|v| v.0))
    .bind(millis(w.now))
    .bind(&shadow.name_key)
    .bind(&shadow.external_id)
    .bind(shadow.active)
    .bind(Json(w.doc))
    .bind(Json(w.folded))
    .bind(&shadow.match_key)
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| unique_violation(e, w))?;
    if row.is_some() {
        index_values(tx, tenant, w).await?;
    }
    Ok(row)
}

/// The string values inside multi-valued complex attributes of the folded document, as
/// `("emails.value", "x@y")` pairs (what `resource_values` indexes; the migration computes the
/// same in SQL).
fn indexed_values(folded: &Document) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, value) in folded {
        let Some(items) = value.as_array() else {
            continue;
        };
        for item in items.iter().filter_map(|i| i.as_object()) {
            for (sub, v) in item {
                if let Some(text) = v.as_str() {
                    out.push((format!("{key}.{sub}"), text.to_owned()));
                }
            }
        }
    }
    out
}

/// Replaces the indexed values of the resource `w` writes.
async fn index_values(
    tx: &mut Transaction<'_, Sqlite>,
    tenant: TenantId,
    w: &Write<'_>,
) -> Result<(), StoreError> {
    sqlx::query("delete from resource_values where seq = (select seq from resources where tenant_id = ?1 and id = ?2)")
        .bind(tenant.0.to_string())
        .bind(w.id.to_string())
        .execute(&mut **tx)
        .await?;
    let values = indexed_values(w.folded);
    if values.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "insert into resource_values (seq, attribute, value)
         select r.seq, json_extract(v.value, '$[0]'), json_extract(v.value, '$[1]')
         from resources r, json_each(?3) as v where r.tenant_id = ?1 and r.id = ?2",
    )
    .bind(tenant.0.to_string())
    .bind(w.id.to_string())
    .bind(Json(values))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
