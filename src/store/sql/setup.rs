//! Setup links and the setup page's readings in SQL for every dialect. A tenant's first
//! connection is one conditional update, so of replicas noting it at once the first wins.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Sql, SqlStore, execute};
use crate::domain::TenantId;
use crate::domain::setup::{Connected, RefusalGroup, SetupLink};
use crate::store::StoreError;
use crate::store::dialect::{Dialect, Record};
use crate::store::setup::SetupStore;

const LINK_SELECT: &str = "select setup_links.id, setup_links.tenant_id, tenants.name as tenant_name, \
     setup_links.created, setup_links.created_by, setup_links.expires, setup_links.revoked, \
     setup_links.last_used \
     from setup_links join tenants on tenants.id = setup_links.tenant_id";

/// At most this many groups of refusals or notes of ignored attributes are read.
const GROUPS: i64 = 50;

fn link(row: &impl Record) -> Result<SetupLink, StoreError> {
    Ok(SetupLink {
        id: row.uuid("id")?,
        tenant: TenantId(row.uuid("tenant_id")?),
        tenant_name: row.text("tenant_name")?.unwrap_or_default(),
        created: row.instant("created")?,
        created_by: row.text("created_by")?.unwrap_or_default(),
        expires: row.instant("expires")?,
        revoked: row.opt_instant("revoked")?,
        last_used: row.opt_instant("last_used")?,
    })
}

impl<D: Dialect> SetupStore for SqlStore<D> {
    async fn put_setup_link(&self, l: &SetupLink, token_hash: &[u8]) -> Result<(), StoreError> {
        let insert = Sql::new(
            "insert into setup_links (id, tenant_id, token_hash, created, created_by, expires)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .arg(l.id)
        .arg(l.tenant)
        .arg(token_hash)
        .arg(l.created)
        .arg(l.created_by.as_str())
        .arg(l.expires);
        execute::<D>(&mut *self.writer.acquire().await?, insert).await?;
        Ok(())
    }

    async fn setup_links(
        &self,
        tenant: TenantId,
        before: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> Result<Vec<SetupLink>, StoreError> {
        let mut sql = Sql::new(format!("{LINK_SELECT} where setup_links.tenant_id = "));
        sql.push_bind(tenant);
        if let Some((created, id)) = before {
            sql.push(" and (setup_links.created < ")
                .push_bind(created)
                .push(" or (setup_links.created = ")
                .push_bind(created)
                .push(" and setup_links.id < ")
                .push_bind(id)
                .push("))");
        }
        sql.push(" order by setup_links.created desc, setup_links.id desc limit ")
            .push_bind(i64::from(limit));
        self.fetch_all(sql).await?.iter().map(link).collect()
    }

    async fn setup_link_by_token(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<SetupLink>, StoreError> {
        let sql =
            Sql::new(format!("{LINK_SELECT} where setup_links.token_hash = $1")).arg(token_hash);
        self.fetch_optional(sql)
            .await?
            .as_ref()
            .map(link)
            .transpose()
    }

    async fn revoke_setup_link(
        &self,
        tenant: TenantId,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<SetupLink>, StoreError> {
        let revoke = Sql::new(
            "update setup_links set revoked = coalesce(revoked, $3)
             where id = $1 and tenant_id = $2",
        )
        .arg(id)
        .arg(tenant)
        .arg(now);
        let mut conn = self.writer.acquire().await?;
        if execute::<D>(&mut conn, revoke).await? == 0 {
            return Ok(None);
        }
        let read = Sql::new(format!("{LINK_SELECT} where setup_links.id = $1")).arg(id);
        D::fetch_optional(&mut conn, read)
            .await?
            .as_ref()
            .map(link)
            .transpose()
    }

    async fn touch_setup_link(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        let touch = Sql::new("update setup_links set last_used = $2 where id = $1")
            .arg(id)
            .arg(now);
        execute::<D>(&mut *self.writer.acquire().await?, touch).await?;
        Ok(())
    }

    async fn note_connected(&self, tenant: TenantId, c: &Connected) -> Result<(), StoreError> {
        let note = Sql::new(
            "update tenants set connected = $2, connected_with = $3
             where id = $1 and connected is null",
        )
        .arg(tenant)
        .arg(c.at)
        .arg(c.credential.as_str());
        execute::<D>(&mut *self.writer.acquire().await?, note).await?;
        Ok(())
    }

    async fn connected(&self, tenant: TenantId) -> Result<Option<Connected>, StoreError> {
        let sql =
            Sql::new("select connected, connected_with from tenants where id = $1").arg(tenant);
        let Some(row) = self.fetch_optional(sql).await? else {
            return Ok(None);
        };
        let Some(at) = row.opt_instant("connected")? else {
            return Ok(None);
        };
        Ok(Some(Connected {
            at,
            credential: row.text("connected_with")?.unwrap_or_default(),
        }))
    }

    async fn refusal_groups(
        &self,
        tenant: TenantId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<RefusalGroup>, StoreError> {
        let sql = Sql::new(
            "select status, scim_type, error, resource_type, count(*) as n
             from activity where tenant_id = $1 and at >= $2 and at < $3 and status >= 400
             group by status, scim_type, error, resource_type
             order by count(*) desc limit $4",
        )
        .arg(tenant)
        .arg(since)
        .arg(until)
        .arg(GROUPS);
        self.fetch_all(sql)
            .await?
            .iter()
            .map(|r| {
                Ok(RefusalGroup {
                    status: u16::try_from(r.int("status")?).unwrap_or(500),
                    scim_type: r.text("scim_type")?,
                    note: r.text("error")?,
                    resource_type: r.text("resource_type")?,
                    count: r.int("n")?.unsigned_abs(),
                })
            })
            .collect()
    }

    async fn ignored_notes(
        &self,
        tenant: TenantId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let sql = Sql::new(
            "select ignored, count(*) as n
             from activity where tenant_id = $1 and at >= $2 and at < $3 and ignored is not null
             group by ignored order by count(*) desc limit $4",
        )
        .arg(tenant)
        .arg(since)
        .arg(until)
        .arg(GROUPS);
        self.fetch_all(sql)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.text("ignored")?.unwrap_or_default(),
                    r.int("n")?.unsigned_abs(),
                ))
            })
            .collect()
    }

    async fn last_accepted_change(
        &self,
        tenant: TenantId,
        since: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let sql = Sql::new(
            "select max(at) as last from activity
             where tenant_id = $1 and at >= $2 and status < 400",
        )
        .arg(tenant)
        .arg(since);
        match self.fetch_optional(sql).await? {
            Some(row) => row.opt_instant("last"),
            None => Ok(None),
        }
    }

    async fn credential_refusals(
        &self,
        tenant: TenantId,
        since: DateTime<Utc>,
    ) -> Result<(u64, Option<DateTime<Utc>>), StoreError> {
        let sql = Sql::new(
            "select count(*) as n, max(at) as last from activity
             where tenant_id = $1 and at >= $2 and status = 401",
        )
        .arg(tenant)
        .arg(since);
        let Some(row) = self.fetch_optional(sql).await? else {
            return Ok((0, None));
        };
        Ok((row.int("n")?.unsigned_abs(), row.opt_instant("last")?))
    }
}
