//! Tenants and token hashes on PostgreSQL.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{PgStore, TOKEN_CHANNEL, uniqueness};
use crate::store::{StoreError, Tenant, TenantId, TokenInfo};

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: Uuid,
    name: String,
}

impl From<TenantRow> for Tenant {
    fn from(r: TenantRow) -> Self {
        Tenant {
            id: TenantId(r.id),
            name: r.name,
        }
    }
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: Uuid,
    tenant: String,
    label: Option<String>,
    created: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for TokenInfo {
    fn from(r: TokenRow) -> Self {
        TokenInfo {
            id: r.id,
            tenant: r.tenant,
            label: r.label,
            created: r.created,
            revoked: r.revoked_at,
        }
    }
}

impl PgStore {
    pub(crate) async fn create_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        sqlx::query_as::<_, TenantRow>(
            r#"insert into tenants (id, name) values ($1, $2) returning id, name"#,
        )
        .bind(Uuid::new_v4())
        .bind(name)
        .fetch_one(&self.pool)
        .await
        .map(Tenant::from)
        .map_err(|e| uniqueness(e, "tenant name"))
    }

    pub(crate) async fn ensure_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        sqlx::query(
            r#"insert into tenants (id, name) values ($1, $2) on conflict (name) do nothing"#,
        )
        .bind(Uuid::new_v4())
        .bind(name)
        .execute(&self.pool)
        .await?;
        self.tenant(name).await
    }

    pub(crate) async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows = sqlx::query_as::<_, TenantRow>(r#"select id, name from tenants order by name"#)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Tenant::from).collect())
    }

    pub(crate) async fn tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        sqlx::query_as::<_, TenantRow>(r#"select id, name from tenants where name = $1"#)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .map(Tenant::from)
            .ok_or(StoreError::NotFound)
    }

    pub(crate) async fn put_token(
        &self,
        tenant: TenantId,
        label: Option<&str>,
        hash: &[u8],
    ) -> Result<TokenInfo, StoreError> {
        let row = sqlx::query_as::<_, TokenRow>(
            r#"with t as (
                   insert into tokens (id, tenant_id, label, token_hash) values ($1, $2, $3, $4)
                   on conflict (token_hash) do update set revoked_at = null
                   where tokens.tenant_id = excluded.tenant_id
                   returning id, tenant_id, label, created, revoked_at
               )
               select t.id, tenants.name as tenant, t.label, t.created, t.revoked_at
               from t join tenants on tenants.id = t.tenant_id"#,
        )
        .bind(Uuid::new_v4())
        .bind(tenant.0)
        .bind(label)
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        // No row: the hash belongs to another tenant's token. Reported as a uniqueness
        // conflict; the token is not moved between tenants.
        row.map(TokenInfo::from)
            .ok_or(StoreError::Uniqueness { attribute: "token" })
    }

    pub(crate) async fn tokens(&self, tenant: TenantId) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query_as::<_, TokenRow>(
            r#"select tokens.id, tenants.name as tenant, tokens.label, tokens.created, tokens.revoked_at
               from tokens join tenants on tenants.id = tokens.tenant_id
               where tokens.tenant_id = $1
               order by tokens.created, tokens.id"#,
        )
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(TokenInfo::from).collect())
    }

    pub(crate) async fn revoke_token(&self, id: Uuid) -> Result<TokenInfo, StoreError> {
        let mut tx = self.pool.begin().await?;
        let revoked = sqlx::query_as::<_, TokenRow>(
            r#"with t as (
                   update tokens set revoked_at = coalesce(revoked_at, now()) where id = $1
                   returning id, tenant_id, label, created, revoked_at
               )
               select t.id, tenants.name as tenant, t.label, t.created, t.revoked_at
               from t join tenants on tenants.id = t.tenant_id"#,
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .map(TokenInfo::from)
        .ok_or(StoreError::NotFound)?;
        // every replica's token cache forgets, when this commits
        sqlx::query("select pg_notify($1, '')")
            .bind(TOKEN_CHANNEL)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.tokens.clear();
        Ok(revoked)
    }

    pub(crate) async fn token_tenant(
        &self,
        hash: &[u8],
    ) -> Result<Option<(Tenant, Vec<u8>)>, StoreError> {
        if let Some(hit) = self.tokens.get(hash) {
            return Ok(Some(hit));
        }
        let row: Option<(Uuid, String, Vec<u8>)> = sqlx::query_as(
            r#"select tenants.id, tenants.name, tokens.token_hash
               from tokens join tenants on tenants.id = tokens.tenant_id
               where tokens.token_hash = $1 and tokens.revoked_at is null"#,
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, name, stored)| {
            let tenant = Tenant {
                id: TenantId(id),
                name,
            };
            self.tokens.put(hash, &tenant, &stored);
            (tenant, stored)
        }))
    }
}
