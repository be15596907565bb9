//! Bearer tokens, stored only as SHA-256 hashes under a unique index. Valid tokens are served
//! from the process's cache while the dialect keeps it live; every revocation is announced in
//! its transaction so that every replica's cache forgets.

use chrono::Utc;
use uuid::Uuid;

use super::rows::{self, TENANT_COLUMNS, TOKEN_SELECT};
use super::{Sql, SqlStore, commit, execute};
use crate::domain::oauth::TokenRecord;
use crate::domain::{TenantId, TokenInfo};
use crate::store::dialect::{Conn, Dialect, Record};
use crate::store::{Missing, StoreError, Tokens, Unique};

impl<D: Dialect> Tokens for SqlStore<D> {
    /// One statement, so that replicas starting at once with the same bootstrap token agree:
    /// an existing token of the same tenant is that token, as it is (a revoked one stays
    /// revoked); one of another tenant is not moved, and that is a uniqueness conflict.
    async fn put_token(
        &self,
        tenant: TenantId,
        label: Option<&str>,
        hash: &[u8],
    ) -> Result<TokenInfo, StoreError> {
        let upsert = Sql::new(
            "insert into tokens (id, tenant_id, label, token_hash, created)
             values ($1, $2, $3, $4, $5)
             on conflict (token_hash) do update set tenant_id = excluded.tenant_id
             where tokens.tenant_id = excluded.tenant_id
             returning id",
        )
        .arg(Uuid::new_v4())
        .arg(tenant)
        .arg(label)
        .arg(hash)
        .arg(Utc::now());
        let mut tx = self.writer.begin_write().await?;
        let Some(row) = D::fetch_optional(&mut tx, upsert).await? else {
            return Err(StoreError::Uniqueness {
                rule: Unique::Token,
                value: String::new(),
            });
        };
        let info = token_by_id::<D>(&mut tx, row.uuid("id")?).await?;
        commit::<D>(tx).await?;
        Ok(info)
    }

    async fn tokens(&self, tenant: TenantId) -> Result<Vec<TokenInfo>, StoreError> {
        let sql = Sql::new(format!(
            "{TOKEN_SELECT} where tokens.tenant_id = $1 and tokens.client_id is null order by {}",
            D::TOKEN_ORDER
        ))
        .arg(tenant);
        self.fetch_all(sql).await?.iter().map(rows::token).collect()
    }

    async fn revoke_token(&self, id: Uuid) -> Result<TokenInfo, StoreError> {
        let revoke =
            Sql::new("update tokens set revoked_at = coalesce(revoked_at, $2) where id = $1")
                .arg(id)
                .arg(Utc::now());
        let mut tx = self.writer.begin_write().await?;
        if execute::<D>(&mut tx, revoke).await? == 0 {
            return Err(StoreError::NotFound(Missing::Token { id }));
        }
        let info = token_by_id::<D>(&mut tx, id).await?;
        D::announce_token_change(&mut tx).await?;
        commit::<D>(tx).await?;
        self.tokens.clear();
        Ok(info)
    }

    async fn token_tenant(&self, hash: &[u8]) -> Result<Option<TokenRecord>, StoreError> {
        if let Some(hit) = self.tokens.get(hash) {
            metrics::counter!("scimd_token_cache_total", "result" => "hit").increment(1);
            return Ok(Some(hit));
        }
        metrics::counter!("scimd_token_cache_total", "result" => "miss").increment(1);
        // taken before the query: a change announced while it runs makes the answer stale
        let generation = self.tokens.generation();
        let sql = Sql::new(format!(
            "select {TENANT_COLUMNS}, tokens.id as token_id, tokens.token_hash, tokens.revoked_at, tokens.expires_at,
                    oauth_clients.client_id as oauth_client
             from tokens join tenants on tenants.id = tokens.tenant_id
                  left join oauth_clients on oauth_clients.id = tokens.client_id
             where tokens.token_hash = $1"
        ))
        .arg(hash);
        let Some(row) = self.fetch_optional(sql).await? else {
            return Ok(None);
        };
        let record = TokenRecord {
            id: row.uuid("token_id")?,
            tenant: rows::tenant(&row)?,
            hash: row.bytes("token_hash")?,
            revoked: row.opt_instant("revoked_at")?.is_some(),
            expires: row.opt_instant("expires_at")?,
            client: row.text("oauth_client")?,
        };
        self.tokens.put(generation, hash, &record);
        Ok(Some(record))
    }
}

async fn token_by_id<D: Dialect>(conn: &mut Conn<D>, id: Uuid) -> Result<TokenInfo, StoreError> {
    let sql = Sql::new(format!("{TOKEN_SELECT} where tokens.id = $1")).arg(id);
    let row = D::fetch_optional(conn, sql).await?;
    rows::token(&row.ok_or(StoreError::NotFound(Missing::Token { id }))?)
}
