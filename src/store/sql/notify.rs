//! Alerts in SQL for every dialect: a tenant's notification addresses, its admins' opt-in, and
//! the notifier's outbox. Fanning out is idempotent (one row per change, channel and recipient,
//! whichever replicas add it); a row is sent under a lease, as the events dispatcher leases a
//! subscription, and settled only by the process that holds the lease.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::health::{CHANGE_SELECT, change};
use super::{Sql, SqlStore, commit, execute};
use crate::domain::TenantId;
use crate::domain::notify::{Channel, Delivery, Notification};
use crate::store::dialect::{Dialect, Record};
use crate::store::notify::{NotifyStore, Unfanned};
use crate::store::{Missing, StoreError};

/// A row of the outbox with its change (`CHANGE_SELECT`'s columns).
const NOTIFICATION_SELECT: &str = "select n.id as n_id, n.channel, n.recipient, n.state as n_state, \
     n.attempts, n.created, n.next_at, n.last_error, n.sent_at, health_changes.seq, \
     health_changes.id, tenants.name, health_changes.previous, health_changes.state, \
     health_changes.at, health_changes.reasons \
     from notifications n join health_changes on health_changes.seq = n.change_seq \
     join tenants on tenants.id = health_changes.tenant_id";

fn notification(row: &impl Record) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: row.uuid("n_id")?,
        change: change(row)?,
        channel: row
            .text("channel")?
            .as_deref()
            .and_then(Channel::parse)
            .unwrap_or(Channel::Email),
        recipient: row.text("recipient")?.unwrap_or_default(),
        state: row
            .text("n_state")?
            .as_deref()
            .and_then(Delivery::parse)
            .unwrap_or(Delivery::Pending),
        attempts: u32::try_from(row.int("attempts")?).unwrap_or(u32::MAX),
        created: row.instant("created")?,
        next_at: row.instant("next_at")?,
        last_error: row.text("last_error")?,
        sent_at: row.opt_instant("sent_at")?,
    })
}

impl<D: Dialect> NotifyStore for SqlStore<D> {
    async fn notify_addresses(&self, tenant: TenantId) -> Result<Vec<String>, StoreError> {
        let sql = Sql::new(
            "select address from tenant_notify where tenant_id = $1 order by position, address",
        )
        .arg(tenant);
        self.fetch_all(sql)
            .await?
            .iter()
            .map(|row| Ok(row.text("address")?.unwrap_or_default()))
            .collect()
    }

    async fn set_notify_addresses(
        &self,
        tenant: TenantId,
        addresses: &[String],
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin_write().await?;
        let clear = Sql::new("delete from tenant_notify where tenant_id = $1").arg(tenant);
        execute::<D>(&mut tx, clear).await?;
        for (position, address) in addresses.iter().enumerate() {
            let insert = Sql::new(
                "insert into tenant_notify (tenant_id, address, position) values ($1, $2, $3)",
            )
            .arg(tenant)
            .arg(address.as_str())
            .arg(position as i64);
            execute::<D>(&mut tx, insert).await?;
        }
        commit::<D>(tx).await
    }

    async fn set_admin_notify(
        &self,
        tenant: TenantId,
        username: &str,
        email: Option<&str>,
    ) -> Result<(), StoreError> {
        let sql = Sql::new(
            "update admins set notify_email = $3 where username_key = $1 and tenant_id = $2",
        )
        .arg(username.to_lowercase())
        .arg(tenant)
        .arg(email);
        let mut conn = self.writer.acquire().await?;
        if execute::<D>(&mut conn, sql).await? == 0 {
            return Err(StoreError::NotFound(Missing::Admin {
                username: username.to_owned(),
            }));
        }
        Ok(())
    }

    async fn admin_notify(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<(String, String, bool)>, StoreError> {
        let sql = Sql::new(
            "select username, notify_email, team_admin from admins
             where tenant_id = $1 and notify_email is not null order by username_key",
        )
        .arg(tenant);
        self.fetch_all(sql)
            .await?
            .iter()
            .map(|row| {
                Ok((
                    row.text("username")?.unwrap_or_default(),
                    row.text("notify_email")?.unwrap_or_default(),
                    row.flag("team_admin")?,
                ))
            })
            .collect()
    }

    async fn unfanned(&self, limit: u32) -> Result<Vec<Unfanned>, StoreError> {
        let sql = Sql::new(format!(
            "{} where not health_changes.fanned_out order by health_changes.seq limit $1",
            CHANGE_SELECT.replacen(
                " from health_changes",
                ", health_changes.tenant_id as tenant_id from health_changes",
                1
            )
        ))
        .arg(i64::from(limit));
        self.fetch_all(sql)
            .await?
            .iter()
            .map(|row| {
                Ok(Unfanned {
                    tenant: TenantId(row.uuid("tenant_id")?),
                    change: change(row)?,
                })
            })
            .collect()
    }

    async fn fan_out(
        &self,
        seq: i64,
        rows: &[(Channel, String)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin_write().await?;
        for (channel, recipient) in rows {
            let insert = Sql::new(
                "insert into notifications
                     (id, change_seq, channel, recipient, state, attempts, created, next_at)
                 values ($1, $2, $3, $4, 'pending', 0, $5, $5)
                 on conflict (change_seq, channel, recipient) do nothing",
            )
            .arg(Uuid::new_v4())
            .arg(seq)
            .arg(channel.as_str())
            .arg(recipient.as_str())
            .arg(now);
            execute::<D>(&mut tx, insert).await?;
        }
        let done = Sql::new("update health_changes set fanned_out = $2 where seq = $1")
            .arg(seq)
            .arg(true);
        execute::<D>(&mut tx, done).await?;
        commit::<D>(tx).await
    }

    async fn claim_notifications(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let claimable = "from notifications c where c.state = 'pending' and c.next_at <= $1
                   and (c.lease_until is null or c.lease_until < $1)";
        // first read on the pool: most passes find nothing due
        let probe = Sql::new(format!("select c.id {claimable} limit 1")).arg(now);
        if self.fetch_optional(probe).await?.is_none() {
            return Ok(Vec::new());
        }
        let lease = Sql::new(format!(
            "update notifications set leased_by = $2, lease_until = $3
             where id in (select c.id {claimable} order by c.next_at limit $4{})
               and state = 'pending' and (lease_until is null or lease_until < $1)",
            D::SKIP_LOCKED
        ))
        .arg(now)
        .arg(owner)
        .arg(until)
        .arg(i64::from(limit));
        let mut conn = self.writer.acquire().await?;
        execute::<D>(&mut conn, lease).await?;
        drop(conn);
        let held = Sql::new(format!(
            "{NOTIFICATION_SELECT} where n.leased_by = $1 and n.lease_until = $2
               and n.state = 'pending' order by n.next_at"
        ))
        .arg(owner)
        .arg(until);
        let mut conn = self.writer.acquire().await?;
        D::fetch_all(&mut conn, held)
            .await?
            .iter()
            .map(notification)
            .collect()
    }

    async fn settle_notification(
        &self,
        id: Uuid,
        owner: &str,
        at: DateTime<Utc>,
        failure: Option<(&str, Option<DateTime<Utc>>)>,
    ) -> Result<bool, StoreError> {
        let sql = match failure {
            None => Sql::new(
                "update notifications set state = 'sent', attempts = attempts + 1, sent_at = $3,
                     leased_by = null, lease_until = null
                 where id = $1 and leased_by = $2 and state = 'pending'",
            )
            .arg(id)
            .arg(owner)
            .arg(at),
            Some((error, retry_at)) => Sql::new(
                "update notifications set state = $3, attempts = attempts + 1, last_error = $4,
                     next_at = coalesce($5, next_at), leased_by = null, lease_until = null
                 where id = $1 and leased_by = $2 and state = 'pending'",
            )
            .arg(id)
            .arg(owner)
            .arg(match retry_at {
                Some(_) => Delivery::Pending.as_str(),
                None => Delivery::GivenUp.as_str(),
            })
            .arg(error)
            .arg(retry_at),
        };
        let mut conn = self.writer.acquire().await?;
        Ok(execute::<D>(&mut conn, sql).await? == 1)
    }

    async fn pending_notifications(&self) -> Result<u64, StoreError> {
        let sql = Sql::new("select count(*) as n from notifications where state = 'pending'");
        match self.fetch_optional(sql).await? {
            Some(row) => Ok(row.int("n")?.unsigned_abs()),
            None => Ok(0),
        }
    }

    async fn notifications(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let sql = Sql::new(format!(
            "{NOTIFICATION_SELECT} where health_changes.tenant_id = $1
             order by n.change_seq desc, n.channel, n.recipient limit $2"
        ))
        .arg(tenant)
        .arg(i64::from(limit));
        self.fetch_all(sql)
            .await?
            .iter()
            .map(notification)
            .collect()
    }
}
