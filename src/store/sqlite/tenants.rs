//! Tenants and token hashes on SQLite.

use sqlx::types::Json;
use uuid::Uuid;

use super::{SqliteStore, instant, millis, uniqueness};
use crate::store::{
    MatchingAttribute, MatchingConflict, Policy, StoreError, Tenant, TenantId, TokenInfo,
};

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: String,
    name: String,
    matching_attribute: String,
    allowed_roles: Option<Json<Vec<String>>>,
    require_role: bool,
}

const TENANT_COLUMNS: &str = "tenants.id, tenants.name, tenants.matching_attribute, tenants.allowed_roles, tenants.require_role";

impl TryFrom<TenantRow> for Tenant {
    type Error = StoreError;
    fn try_from(r: TenantRow) -> Result<Self, StoreError> {
        Ok(Tenant {
            id: TenantId(Uuid::parse_str(&r.id).map_err(|e| StoreError::Config(e.to_string()))?),
            name: r.name,
            policy: Policy {
                matching: MatchingAttribute::parse(&r.matching_attribute).unwrap_or_default(),
                allowed_roles: r.allowed_roles.map(|j| j.0),
                require_role: r.require_role,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: String,
    tenant: String,
    label: Option<String>,
    created: i64,
    revoked_at: Option<i64>,
}

impl TryFrom<TokenRow> for TokenInfo {
    type Error = StoreError;
    fn try_from(r: TokenRow) -> Result<Self, StoreError> {
        Ok(TokenInfo {
            id: Uuid::parse_str(&r.id).map_err(|e| StoreError::Config(e.to_string()))?,
            tenant: r.tenant,
            label: r.label,
            created: instant(r.created),
            revoked: r.revoked_at.map(instant),
        })
    }
}

const TOKEN_SELECT: &str =
    "select tokens.id, tenants.name as tenant, tokens.label, tokens.created, tokens.revoked_at
     from tokens join tenants on tenants.id = tokens.tenant_id";

fn now_ms() -> i64 {
    millis(chrono::Utc::now())
}

impl SqliteStore {
    pub(crate) async fn create_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        sqlx::query_as::<_, TenantRow>(&format!(
            "insert into tenants (id, name, created) values (?1, ?2, ?3) returning {TENANT_COLUMNS}"
        ))
        .bind(Uuid::new_v4().to_string())
        .bind(name)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| uniqueness(e, |_| "tenant name"))?
        .try_into()
    }

    pub(crate) async fn ensure_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        sqlx::query("insert into tenants (id, name, created) values (?1, ?2, ?3) on conflict (name) do nothing")
            .bind(Uuid::new_v4().to_string())
            .bind(name)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        self.tenant(name).await
    }

    pub(crate) async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows = sqlx::query_as::<_, TenantRow>(&format!(
            "select {TENANT_COLUMNS} from tenants order by name"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Tenant::try_from).collect()
    }

    pub(crate) async fn tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        sqlx::query_as::<_, TenantRow>(&format!(
            "select {TENANT_COLUMNS} from tenants where name = ?1"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
    }

    pub(crate) async fn put_token(
        &self,
        tenant: TenantId,
        label: Option<&str>,
        hash: &[u8],
    ) -> Result<TokenInfo, StoreError> {
        let mut tx = self.write().await?;
        let existing: Option<(String, String)> =
            sqlx::query_as("select id, tenant_id from tokens where token_hash = ?1")
                .bind(hash)
                .fetch_optional(&mut *tx)
                .await?;
        let id = match existing {
            Some((_, owner)) if owner != tenant.0.to_string() => {
                return Err(StoreError::Uniqueness { attribute: "token" });
            }
            Some((id, _)) => {
                sqlx::query("update tokens set revoked_at = null where id = ?1")
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                id
            }
            None => {
                let id = Uuid::new_v4().to_string();
                sqlx::query("insert into tokens (id, tenant_id, label, token_hash, created) values (?1, ?2, ?3, ?4, ?5)")
                    .bind(&id)
                    .bind(tenant.0.to_string())
                    .bind(label)
                    .bind(hash)
                    .bind(now_ms())
                    .execute(&mut *tx)
                    .await?;
                id
            }
        };
        let row = sqlx::query_as::<_, TokenRow>(&format!("{TOKEN_SELECT} where tokens.id = ?1"))
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        row.try_into()
    }

    pub(crate) async fn tokens(&self, tenant: TenantId) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query_as::<_, TokenRow>(&format!(
            "{TOKEN_SELECT} where tokens.tenant_id = ?1 order by tokens.created, tokens.rowid"
        ))
        .bind(tenant.0.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TokenInfo::try_from).collect()
    }

    pub(crate) async fn revoke_token(&self, id: Uuid) -> Result<TokenInfo, StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("update tokens set revoked_at = coalesce(revoked_at, ?2) where id = ?1")
            .bind(id.to_string())
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query_as::<_, TokenRow>(&format!("{TOKEN_SELECT} where tokens.id = ?1"))
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        row.try_into()
    }

    pub(crate) async fn token_tenant(
        &self,
        hash: &[u8],
    ) -> Result<Option<(Tenant, Vec<u8>)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            tenant: TenantRow,
            token_hash: Vec<u8>,
        }
        let row: Option<Row> = sqlx::query_as(&format!(
            "select {TENANT_COLUMNS}, tokens.token_hash
             from tokens join tenants on tenants.id = tokens.tenant_id
             where tokens.token_hash = ?1 and tokens.revoked_at is null"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((Tenant::try_from(r.tenant)?, r.token_hash)))
            .transpose()
    }

    pub(crate) async fn set_matching(
        &self,
        tenant: TenantId,
        matching: MatchingAttribute,
    ) -> Result<(), StoreError> {
        let key = match_key_sql(matching);
        let mut tx = self.write().await?;
        let rows: Vec<(String, String)> = sqlx::query_as(&format!(
            "select key, json_extract(doc, '$.userName') from (
                 select {key} as key, doc, name_key from resources
                 where tenant_id = ?1 and resource_type = 'User'
             ) k
             where key is not null and key in (
                 select {key} from resources where tenant_id = ?1 and resource_type = 'User'
                 group by 1 having count(*) > 1
             )
             order by key, name_key"
        ))
        .bind(tenant.0.to_string())
        .fetch_all(&mut *tx)
        .await?;
        if !rows.is_empty() {
            let mut conflicts: Vec<MatchingConflict> = Vec::new();
            for (value, user_name) in rows {
                match conflicts.last_mut() {
                    Some(c) if c.value == value => c.user_names.push(user_name),
                    _ => conflicts.push(MatchingConflict {
                        value,
                        user_names: vec![user_name],
                    }),
                }
            }
            conflicts.truncate(50);
            return Err(StoreError::MatchingConflicts(conflicts));
        }
        sqlx::query(&format!(
            "update resources set match_key = {key} where tenant_id = ?1 and resource_type = 'User'"
        ))
        .bind(tenant.0.to_string())
        .execute(&mut *tx)
        .await?;
        sqlx::query("update tenants set matching_attribute = ?2 where id = ?1")
            .bind(tenant.0.to_string())
            .bind(matching.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn set_roles(
        &self,
        tenant: TenantId,
        allowed: Option<&[String]>,
        require: bool,
    ) -> Result<(), StoreError> {
        sqlx::query("update tenants set allowed_roles = ?2, require_role = ?3 where id = ?1")
            .bind(tenant.0.to_string())
            .bind(allowed.map(Json))
            .bind(require)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// The key of the matching attribute computed in SQL from the folded document, exactly as
/// `MatchingAttribute::key` computes it in Rust.
fn match_key_sql(matching: MatchingAttribute) -> &'static str {
    match matching {
        MatchingAttribute::UserName => "null",
        MatchingAttribute::ExternalId => "json_extract(search, '$.externalId')",
        MatchingAttribute::WorkEmail => {
            "(select json_extract(e.value, '$.value') from json_each(search, '$.emails') as e \
             where json_extract(e.value, '$.type') = 'work' order by e.key limit 1)"
        }
    }
}
