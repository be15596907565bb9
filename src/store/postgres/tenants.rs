//! Tenants and token hashes on PostgreSQL.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{PgStore, TOKEN_CHANNEL, uniqueness};
use crate::store::{
    MatchingAttribute, MatchingConflict, Policy, StoreError, Tenant, TenantId, TokenInfo,
};

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: Uuid,
    name: String,
    matching_attribute: String,
    allowed_roles: Option<Vec<String>>,
    require_role: bool,
}

/// The columns a `TenantRow` reads, from `tenants`.
const TENANT_COLUMNS: &str = "tenants.id, tenants.name, tenants.matching_attribute, tenants.allowed_roles, tenants.require_role";

impl From<TenantRow> for Tenant {
    fn from(r: TenantRow) -> Self {
        Tenant {
            id: TenantId(r.id),
            name: r.name,
            policy: Policy {
                // the column's check constraint allows only the three names
                matching: MatchingAttribute::parse(&r.matching_attribute).unwrap_or_default(),
                allowed_roles: r.allowed_roles,
                require_role: r.require_role,
            },
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
        sqlx::query_as::<_, TenantRow>(&format!(
            "insert into tenants (id, name) values ($1, $2) returning {TENANT_COLUMNS}"
        ))
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
        let rows = sqlx::query_as::<_, TenantRow>(&format!(
            "select {TENANT_COLUMNS} from tenants order by name"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Tenant::from).collect())
    }

    pub(crate) async fn tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        sqlx::query_as::<_, TenantRow>(&format!(
            "select {TENANT_COLUMNS} from tenants where name = $1"
        ))
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
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            tenant: TenantRow,
            token_hash: Vec<u8>,
        }
        let row: Option<Row> = sqlx::query_as(&format!(
            "select {TENANT_COLUMNS}, tokens.token_hash
             from tokens join tenants on tenants.id = tokens.tenant_id
             where tokens.token_hash = $1 and tokens.revoked_at is null"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| {
            let tenant = Tenant::from(row.tenant);
            let stored = row.token_hash;
            self.tokens.put(hash, &tenant, &stored);
            (tenant, stored)
        }))
    }
}

/// The key of the matching attribute computed in SQL from the folded document, exactly as
/// `MatchingAttribute::key` computes it in Rust.
fn match_key_sql(matching: MatchingAttribute) -> &'static str {
    match matching {
        MatchingAttribute::UserName => "null::text",
        MatchingAttribute::ExternalId => "search->>'externalId'",
        MatchingAttribute::WorkEmail => {
            "(select e->>'value' from jsonb_array_elements(case jsonb_typeof(search->'emails') \
             when 'array' then search->'emails' else '[]'::jsonb end) as e where e->>'type' = 'work' limit 1)"
        }
    }
}

impl PgStore {
    pub(crate) async fn set_matching(
        &self,
        tenant: TenantId,
        matching: MatchingAttribute,
    ) -> Result<(), StoreError> {
        let key = match_key_sql(matching);
        let mut tx = self.pool.begin().await?;
        let conflicts: Vec<(String, Vec<String>)> = sqlx::query_as(&format!(
            "select key, array_agg(doc->>'userName' order by name_key) from (
                 select {key} as key, doc, name_key from resources
                 where tenant_id = $1 and resource_type = 'User'
             ) k
             where key is not null group by key having count(*) > 1 order by key limit 50"
        ))
        .bind(tenant.0)
        .fetch_all(&mut *tx)
        .await?;
        if !conflicts.is_empty() {
            return Err(StoreError::MatchingConflicts(
                conflicts
                    .into_iter()
                    .map(|(value, user_names)| MatchingConflict { value, user_names })
                    .collect(),
            ));
        }
        sqlx::query(&format!(
            "update resources set match_key = {key} where tenant_id = $1 and resource_type = 'User'"
        ))
        .bind(tenant.0)
        .execute(&mut *tx)
        .await?;
        sqlx::query("update tenants set matching_attribute = $2 where id = $1")
            .bind(tenant.0)
            .bind(matching.as_str())
            .execute(&mut *tx)
            .await?;
        self.tenant_changed(tx).await
    }

    pub(crate) async fn set_roles(
        &self,
        tenant: TenantId,
        allowed: Option<&[String]>,
        require: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("update tenants set allowed_roles = $2, require_role = $3 where id = $1")
            .bind(tenant.0)
            .bind(allowed)
            .bind(require)
            .execute(&mut *tx)
            .await?;
        self.tenant_changed(tx).await
    }

    /// Commits a change of a tenant's rules and makes every replica's token cache (which holds
    /// tenants) forget.
    async fn tenant_changed(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    ) -> Result<(), StoreError> {
        sqlx::query("select pg_notify($1, '')")
            .bind(TOKEN_CHANNEL)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.tokens.clear();
        Ok(())
    }
}
