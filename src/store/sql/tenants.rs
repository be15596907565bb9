//! Tenants and their rules: the matching attributes (each kept unique by an index over each
//! user's key of it, recomputed in one transaction when the list changes), the roles users may or must carry and
//! what a password and Entra's soft-delete rename in a request get.
//! A change of rules is announced to every replica's token cache, which holds tenants.

use uuid::Uuid;

use super::rows::{self, TENANT_COLUMNS};
use super::{Arg, Sql, SqlStore, commit, execute};
use crate::domain::{
    Deprovisioning, Limits, MatchingAttribute, MatchingConflict, Passwords, Precedence,
    SoftDeleteRenames, Tenant, TenantId,
};
use crate::store::dialect::{Constraint, Dialect, Record};
use crate::store::{Missing, StoreError, Tenants, Unique};

/// At most this many conflicting values are reported when a matching attribute cannot be set.
const CONFLICTS_SHOWN: usize = 50;

impl<D: Dialect> Tenants for SqlStore<D> {
    async fn create_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        let sql = Sql::new(format!(
            "insert into tenants (id, name, created) values ($1, $2, $3)
             returning {TENANT_COLUMNS}"
        ))
        .arg(Uuid::new_v4())
        .arg(name)
        .arg(chrono::Utc::now());
        let mut conn = self.writer.acquire().await?;
        let row = D::fetch_optional(&mut conn, sql)
            .await
            .map_err(|e| match e {
                e if D::violated(&e) == Some(Constraint::TenantName) => StoreError::Uniqueness {
                    rule: Unique::TenantName,
                    value: name.to_owned(),
                },
                other => other,
            })?;
        rows::tenant(&row.ok_or_else(|| missing_tenant(name))?)
    }

    async fn ensure_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        let sql = Sql::new(
            "insert into tenants (id, name, created) values ($1, $2, $3)
             on conflict (name) do nothing",
        )
        .arg(Uuid::new_v4())
        .arg(name)
        .arg(chrono::Utc::now());
        execute::<D>(&mut *self.writer.acquire().await?, sql).await?;
        self.tenant(name).await
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let sql = Sql::new(format!("select {TENANT_COLUMNS} from tenants"));
        let mut tenants = self
            .fetch_all(sql)
            .await?
            .iter()
            .map(rows::tenant)
            .collect::<Result<Vec<_>, _>>()?;
        // by code point, whatever the database's collation
        tenants.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(tenants)
    }

    async fn tenant_page(
        &self,
        prefix: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Tenant>, StoreError> {
        let mut sql = Sql::new(format!("select {TENANT_COLUMNS} from tenants where 1 = 1"));
        if let Some(prefix) = prefix {
            let chars = i64::try_from(prefix.chars().count()).unwrap_or(i64::MAX);
            sql.push(" and substr(name, 1, cast(").push_bind(chars);
            sql.push(" as integer)) = ").push_bind(prefix);
        }
        if let Some(after) = after {
            sql.push(&format!(" and name{} > ", D::CODE_POINT_ORDER))
                .push_bind(after);
        }
        sql.push(&format!(" order by name{} limit ", D::CODE_POINT_ORDER))
            .push_bind(i64::from(limit));
        self.fetch_all(sql)
            .await?
            .iter()
            .map(rows::tenant)
            .collect()
    }

    async fn delete_tenant(&self, tenant: TenantId, batch: u32) -> Result<(), StoreError> {
        // the directory first, a batch a statement: one tenant may hold hundreds of thousands
        // of resources, more than one statement may delete within its time limit
        for table in ["memberships", "resources", "retained_resources"] {
            let key = if table == "memberships" {
                "group_id, member_id"
            } else {
                "id"
            };
            loop {
                let sql = Sql::new(format!(
                    "delete from {table} where tenant_id = $1 and ({key}) in
                         (select {key} from {table} where tenant_id = $1 limit $2)"
                ))
                .arg(tenant)
                .arg(i64::from(batch));
                let mut conn = self.writer.acquire().await?;
                if execute::<D>(&mut conn, sql).await? == 0 {
                    break;
                }
            }
        }
        let mut tx = self.writer.begin_write().await?;
        let gone = execute::<D>(
            &mut tx,
            Sql::new("delete from tenants where id = $1").arg(tenant),
        )
        .await?;
        if gone == 0 {
            return Err(missing_tenant(&tenant.0.to_string()));
        }
        D::announce_token_change(&mut tx).await?;
        commit::<D>(tx).await?;
        self.tokens.clear();
        Ok(())
    }

    async fn tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        let sql = Sql::new(format!(
            "select {TENANT_COLUMNS} from tenants where name = $1"
        ))
        .arg(name);
        let row = self.fetch_optional(sql).await?;
        rows::tenant(&row.ok_or_else(|| missing_tenant(name))?)
    }

    async fn tenant_by_id(&self, id: TenantId) -> Result<Tenant, StoreError> {
        let sql = Sql::new(format!(
            "select {TENANT_COLUMNS} from tenants where tenants.id = $1"
        ))
        .arg(id);
        let row = self.fetch_optional(sql).await?;
        rows::tenant(&row.ok_or_else(|| missing_tenant(&id.0.to_string()))?)
    }

    async fn set_matching(&self, tenant: TenantId, matching: Precedence) -> Result<(), StoreError> {
        let mut tx = self.writer.begin_write().await?;
        // in precedence order: the error names the first attribute that cannot be unique
        for &attribute in matching.as_slice() {
            let conflicts = conflicts::<D>(&mut tx, tenant, D::match_key(attribute)).await?;
            if !conflicts.is_empty() {
                return Err(StoreError::MatchingConflicts {
                    matching: attribute,
                    conflicts,
                });
            }
            let several = several_values::<D>(&mut tx, tenant, attribute).await?;
            if !several.is_empty() {
                return Err(StoreError::SeveralMatchingValues {
                    matching: attribute,
                    user_names: several,
                });
            }
        }
        // a key is filled only while its attribute is listed: one left out frees its values
        let key = |attribute: MatchingAttribute| {
            D::match_key(if matching.contains(attribute) {
                attribute
            } else {
                MatchingAttribute::UserName
            })
        };
        let keys = Sql::new(format!(
            "update resources set external_key = {}, email_key = {}
             where tenant_id = $1 and resource_type = 'User'",
            key(MatchingAttribute::ExternalId),
            key(MatchingAttribute::WorkEmail),
        ))
        .arg(tenant);
        execute::<D>(&mut tx, keys).await?;
        // `matching_attribute` keeps precedence 1, for a binary of before the list
        let rule = Sql::new(
            "update tenants set matching_attribute = $2, matching_attributes = $3 where id = $1",
        )
        .arg(tenant)
        .arg(matching.first().as_str())
        .arg(Some(matching.names().as_slice()));
        execute::<D>(&mut tx, rule).await?;
        D::announce_token_change(&mut tx).await?;
        commit::<D>(tx).await?;
        self.tokens.clear();
        Ok(())
    }

    async fn set_roles(
        &self,
        tenant: TenantId,
        allowed: Option<&[String]>,
        require: bool,
    ) -> Result<(), StoreError> {
        let sql =
            Sql::new("update tenants set allowed_roles = $2, require_role = $3 where id = $1")
                .arg(tenant)
                .arg(allowed)
                .arg(require);
        self.rule_changed(sql).await
    }

    async fn set_soft_delete_renames(
        &self,
        tenant: TenantId,
        rule: SoftDeleteRenames,
    ) -> Result<(), StoreError> {
        let sql = Sql::new("update tenants set soft_delete_renames = $2 where id = $1")
            .arg(tenant)
            .arg(rule.as_str());
        self.rule_changed(sql).await
    }

    async fn set_deprovisioning(
        &self,
        tenant: TenantId,
        rule: Deprovisioning,
    ) -> Result<(), StoreError> {
        let sql = Sql::new(
            "update tenants set on_delete = $2, retain_for_secs = $3, restore_on_create = $4
             where id = $1",
        )
        .arg(tenant)
        .arg(rule.on_delete.as_str())
        .arg(rule.retain_for_secs)
        .arg(rule.restore_on_create);
        self.rule_changed(sql).await
    }

    async fn set_limits(&self, tenant: TenantId, limits: Limits) -> Result<(), StoreError> {
        let sql = Sql::new("update tenants set rate_limit = $2, max_in_flight = $3 where id = $1")
            .arg(tenant)
            .arg(Arg::Int(limits.rate_per_second.map(i64::from)))
            .arg(Arg::Int(limits.max_in_flight.map(i64::from)));
        self.rule_changed(sql).await
    }

    async fn set_passwords(&self, tenant: TenantId, rule: Passwords) -> Result<(), StoreError> {
        let sql = Sql::new("update tenants set passwords = $2 where id = $1")
            .arg(tenant)
            .arg(rule.as_str());
        self.rule_changed(sql).await
    }

    async fn set_entra_tenant(
        &self,
        tenant: TenantId,
        entra: Option<Uuid>,
    ) -> Result<(), StoreError> {
        let sql = match entra {
            Some(entra) => Sql::new("update tenants set entra_tenant_id = $2 where id = $1")
                .arg(tenant)
                .arg(entra),
            None => Sql::new("update tenants set entra_tenant_id = null where id = $1").arg(tenant),
        };
        self.rule_changed(sql).await.map_err(|e| match e {
            e if D::violated(&e) == Some(Constraint::EntraTenant) => StoreError::Uniqueness {
                rule: Unique::EntraTenant,
                value: entra.map(|u| u.to_string()).unwrap_or_default(),
            },
            other => other,
        })
    }

    async fn tenant_by_entra(&self, entra: Uuid) -> Result<Option<Tenant>, StoreError> {
        let sql = Sql::new(format!(
            "select {TENANT_COLUMNS} from tenants where entra_tenant_id = $1"
        ))
        .arg(entra);
        self.fetch_optional(sql)
            .await?
            .as_ref()
            .map(rows::tenant)
            .transpose()
    }
}

fn missing_tenant(name: &str) -> StoreError {
    StoreError::NotFound(Missing::Tenant {
        name: name.to_owned(),
    })
}

/// The names of users (at most [`CONFLICTS_SHOWN`]) that hold more than one value of
/// `matching`: several work emails.
async fn several_values<D: Dialect>(
    conn: &mut crate::store::dialect::Conn<D>,
    tenant: TenantId,
    matching: MatchingAttribute,
) -> Result<Vec<String>, StoreError> {
    if matching != MatchingAttribute::WorkEmail {
        return Ok(Vec::new());
    }
    let sql = Sql::new(format!(
        "select {} as user_name from resources
         where tenant_id = $1 and resource_type = 'User' and {} > 1
         order by name_key limit {CONFLICTS_SHOWN}",
        D::json_text("doc", "userName"),
        D::WORK_EMAILS,
    ))
    .arg(tenant);
    D::fetch_all(conn, sql)
        .await?
        .iter()
        .map(|row| Ok(row.text("user_name")?.unwrap_or_default()))
        .collect()
}

/// The users that would share a value of the matching attribute whose key `key` computes,
/// grouped by value.
async fn conflicts<D: Dialect>(
    conn: &mut crate::store::dialect::Conn<D>,
    tenant: TenantId,
    key: &str,
) -> Result<Vec<MatchingConflict>, StoreError> {
    let sql = Sql::new(format!(
        "select k.key, {} as user_name from (
             select {key} as key, doc, name_key from resources
             where tenant_id = $1 and resource_type = 'User'
         ) k
         where k.key is not null and k.key in (
             select {key} from resources where tenant_id = $1 and resource_type = 'User'
             group by 1 having count(*) > 1
         )
         order by k.key, k.name_key",
        D::json_text("k.doc", "userName")
    ))
    .arg(tenant);
    let mut out: Vec<MatchingConflict> = Vec::new();
    for row in D::fetch_all(conn, sql).await? {
        let value = row.text("key")?.unwrap_or_default();
        let user_name = row.text("user_name")?.unwrap_or_default();
        if let Some(c) = out.last_mut().filter(|c| c.value == value) {
            c.user_names.push(user_name);
        } else if out.len() == CONFLICTS_SHOWN {
            break;
        } else {
            out.push(MatchingConflict {
                value,
                user_names: vec![user_name],
            });
        }
    }
    Ok(out)
}

impl<D: Dialect> SqlStore<D> {
    /// Runs `sql`, a change of a tenant's rules, in a transaction that announces it to every
    /// replica's token cache (which holds tenants), and forgets this process's cache.
    pub(super) async fn rule_changed(&self, sql: Sql) -> Result<(), StoreError> {
        let mut tx = self.writer.begin_write().await?;
        execute::<D>(&mut tx, sql).await?;
        D::announce_token_change(&mut tx).await?;
        commit::<D>(tx).await?;
        self.tokens.clear();
        Ok(())
    }
}
