//! SCIM events in SQL for every dialect: subscriptions, and the delivery of the outbox (its
//! rows are written by `outbox`). The dispatcher reads a subscription's deliveries in `seq`
//! order under a lease on the subscription, so one process at a time delivers it, in order.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Arg, Sql, SqlStore, commit, execute};
use crate::domain::TenantId;
use crate::domain::events::{
    Event, FailedDelivery, Kinds, NewSubscription, Pending, Receiver, Subscription,
};
use crate::store::dialect::{Dialect, Record};
use crate::store::events::{EventStore, Failure};
use crate::store::{Missing, StoreError};

use super::outbox::EVENT_COLUMNS;

const SUBSCRIPTION_COLUMNS: &str = "s.id, s.tenant_id, t.name as tenant_name, s.url, s.events, \
     s.full_data, s.kind, s.acknowledged, s.paused, s.created, s.delivered, s.failed, s.last_success, s.last_error, \
     s.last_error_at, s.retry_at, \
     (select count(*) from deliveries d where d.subscription_id = s.id and d.state = 'pending') \
     as backlog";

fn subscription(r: &impl Record) -> Result<Subscription, StoreError> {
    Ok(Subscription {
        id: r.uuid("id")?,
        tenant: TenantId(r.uuid("tenant_id")?),
        tenant_name: r.text("tenant_name")?.unwrap_or_default(),
        url: r.text("url")?.unwrap_or_default(),
        kinds: Kinds(r.int("events")?),
        full: r.flag("full_data")?,
        pull: r.text("kind")?.as_deref() == Some("pull"),
        acknowledged: r.int("acknowledged")?,
        paused: r.flag("paused")?,
        created: r.instant("created")?,
        delivered: r.int("delivered")?.unsigned_abs(),
        failed: r.int("failed")?.unsigned_abs(),
        backlog: r.int("backlog")?.unsigned_abs(),
        last_success: r.opt_instant("last_success")?,
        last_error: r.text("last_error")?,
        last_error_at: r.opt_instant("last_error_at")?,
        retry_at: r.opt_instant("retry_at")?,
    })
}

fn receiver(r: &impl Record) -> Result<Receiver, StoreError> {
    Ok(Receiver {
        id: r.uuid("id")?,
        tenant: TenantId(r.uuid("tenant_id")?),
        url: r.text("url")?.unwrap_or_default(),
        kinds: Kinds(r.int("events")?),
        full: r.flag("full_data")?,
        secret: r.text("secret")?.unwrap_or_default(),
        pull: r.text("kind")?.as_deref() == Some("pull"),
        acknowledged: r.int("acknowledged")?,
    })
}

pub(super) fn event(r: &impl Record) -> Result<Event, StoreError> {
    Ok(Event {
        seq: r.int("seq")?,
        id: r.uuid("id")?,
        tenant: TenantId(r.uuid("tenant_id")?),
        at: r.instant("at")?,
        txn: r.text("txn")?.unwrap_or_default(),
        resource_type: r.text("resource_type")?.unwrap_or_default(),
        resource_id: r.uuid("resource_id")?,
        kinds: Kinds(r.int("kinds")?),
        attributes: r
            .text("attributes")?
            .map(|a| a.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
        version: r.opt_int("version")?,
        external_id: r.text("external_id")?,
        data: r.json("data")?,
        lifecycle: r.text("lifecycle")?,
    })
}

fn missing(id: Uuid) -> StoreError {
    StoreError::NotFound(Missing::Subscription { id })
}

const RECEIVER_COLUMNS: &str =
    "s.id, s.tenant_id, s.url, s.events, s.full_data, s.secret, s.kind, s.acknowledged";

impl<D: Dialect> EventStore for SqlStore<D> {
    async fn add_subscription(
        &self,
        new: &NewSubscription,
        now: DateTime<Utc>,
    ) -> Result<Subscription, StoreError> {
        let id = Uuid::new_v4();
        let sql = Sql::new(
            "insert into subscriptions (id, tenant_id, url, events, full_data, secret, created, kind)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .arg(id)
        .arg(new.tenant)
        .arg(new.url.as_str())
        .arg(new.kinds.0)
        .arg(new.full)
        .arg(new.secret.as_str())
        .arg(now)
        .arg(if new.pull { "pull" } else { "push" });
        let mut conn = self.writer.acquire().await?;
        execute::<D>(&mut conn, sql).await?;
        drop(conn);
        self.subscription(id).await
    }

    async fn subscriptions(
        &self,
        tenant: Option<TenantId>,
    ) -> Result<Vec<Subscription>, StoreError> {
        let mut sql = Sql::new(format!(
            "select {SUBSCRIPTION_COLUMNS} from subscriptions s
             join tenants t on t.id = s.tenant_id"
        ));
        if let Some(tenant) = tenant {
            sql.push(" where s.tenant_id = ").push_bind(tenant);
        }
        sql.push(" order by t.name, s.created, s.id");
        self.fetch_all(sql)
            .await?
            .iter()
            .map(subscription)
            .collect()
    }

    async fn subscription(&self, id: Uuid) -> Result<Subscription, StoreError> {
        let sql = Sql::new(format!(
            "select {SUBSCRIPTION_COLUMNS} from subscriptions s
             join tenants t on t.id = s.tenant_id where s.id = $1"
        ))
        .arg(id);
        let row = self.fetch_optional(sql).await?.ok_or_else(|| missing(id))?;
        subscription(&row)
    }

    async fn receiver(&self, id: Uuid) -> Result<Receiver, StoreError> {
        let sql = Sql::new(format!(
            "select {RECEIVER_COLUMNS} from subscriptions s where s.id = $1"
        ))
        .arg(id);
        let row = self.fetch_optional(sql).await?.ok_or_else(|| missing(id))?;
        receiver(&row)
    }

    async fn set_paused(&self, id: Uuid, paused: bool) -> Result<(), StoreError> {
        let sql = Sql::new("update subscriptions set paused = $2, retry_at = null where id = $1")
            .arg(id)
            .arg(paused);
        self.changed_one(id, sql).await
    }

    async fn set_secret(&self, id: Uuid, secret: &str) -> Result<(), StoreError> {
        let sql = Sql::new("update subscriptions set secret = $2 where id = $1")
            .arg(id)
            .arg(secret);
        self.changed_one(id, sql).await
    }

    async fn remove_subscription(&self, id: Uuid) -> Result<(), StoreError> {
        let mut tx = self.writer.begin_write().await?;
        execute::<D>(
            &mut tx,
            Sql::new("delete from deliveries where subscription_id = $1").arg(id),
        )
        .await?;
        let gone = execute::<D>(
            &mut tx,
            Sql::new("delete from subscriptions where id = $1").arg(id),
        )
        .await?;
        if gone == 0 {
            return Err(missing(id));
        }
        commit::<D>(tx).await
    }

    async fn claim(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Receiver>, StoreError> {
        // which are claimable, first read on the pool: the dispatcher looks often (each
        // commit wakes it), and most of the time its own workers hold every lease
        let claimable = "from subscriptions s
                 where not s.paused and s.kind = 'push'
                   and (s.lease_until is null or s.lease_until < $1)
                   and (s.retry_at is null or s.retry_at <= $1)
                   and exists (select 1 from deliveries d
                               where d.subscription_id = s.id and d.state = 'pending')";
        let probe = Sql::new(format!("select s.id {claimable} limit 1")).arg(now);
        if self.fetch_optional(probe).await?.is_none() {
            return Ok(Vec::new());
        }
        let sql = Sql::new(format!(
            "update subscriptions set leased_by = $2, lease_until = $3
             where id in (select s.id {claimable} limit $4{})
             returning id, tenant_id, url, events, full_data, secret, kind, acknowledged",
            D::SKIP_LOCKED
        ))
        .arg(now)
        .arg(owner)
        .arg(until)
        .arg(i64::from(limit));
        let mut conn = self.writer.acquire().await?;
        D::fetch_all(&mut conn, sql)
            .await?
            .iter()
            .map(receiver)
            .collect()
    }

    async fn renew(&self, id: Uuid, owner: &str, until: DateTime<Utc>) -> Result<bool, StoreError> {
        let sql = Sql::new(
            "update subscriptions set lease_until = $3
             where id = $1 and leased_by = $2 and not paused",
        )
        .arg(id)
        .arg(owner)
        .arg(until);
        let mut conn = self.writer.acquire().await?;
        Ok(execute::<D>(&mut conn, sql).await? == 1)
    }

    async fn release(
        &self,
        id: Uuid,
        owner: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let mut sql =
            Sql::new("update subscriptions set leased_by = null, lease_until = null, retry_at = ");
        match retry_at {
            Some(at) => sql.push_bind(at),
            None => sql.push("null"),
        };
        sql.push(" where id = ").push_bind(id);
        sql.push(" and leased_by = ").push_bind(owner);
        let mut conn = self.writer.acquire().await?;
        execute::<D>(&mut conn, sql).await?;
        Ok(())
    }

    async fn pending(&self, id: Uuid, limit: u32) -> Result<Vec<Pending>, StoreError> {
        // none while the subscription is paused: a worker that holds its lease stops at its
        // next batch, not at the lease's renewal
        let sql = Sql::new(format!(
            "select d.attempts, d.first_failure, e.seq, {}
             from deliveries d join events e on e.seq = d.seq
             where d.subscription_id = $1 and d.state = 'pending'
               and exists (select 1 from subscriptions s
                           where s.id = d.subscription_id and not s.paused)
             order by d.seq limit $2",
            EVENT_COLUMNS
                .split(", ")
                .map(|c| format!("e.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .arg(id)
        .arg(i64::from(limit));
        self.fetch_all(sql)
            .await?
            .iter()
            .map(|r| {
                Ok(Pending {
                    event: event(r)?,
                    attempts: u32::try_from(r.int("attempts")?).unwrap_or(u32::MAX),
                    first_failure: r.opt_instant("first_failure")?,
                })
            })
            .collect()
    }

    async fn delivered(&self, id: Uuid, seqs: &[i64], at: DateTime<Utc>) -> Result<(), StoreError> {
        let Some(last) = seqs.iter().max() else {
            return Ok(());
        };
        // the rows named, one statement: never a range, which could take an event that
        // committed late with a lower seq and was not delivered
        let mut delete = Sql::new("delete from deliveries where subscription_id = ");
        delete
            .push_bind(id)
            .push(" and state = 'pending' and seq in (");
        for (i, seq) in seqs.iter().enumerate() {
            if i > 0 {
                delete.push(", ");
            }
            delete.push_bind(*seq);
        }
        delete.push(")");
        let mut tx = self.writer.begin_write().await?;
        // only what was still pending is counted: a worker whose lease lapsed may report
        // deliveries that another one settled meanwhile
        let gone = execute::<D>(&mut tx, delete).await?;
        if gone == 0 {
            return Ok(());
        }
        let sql = Sql::new(
            "update subscriptions set delivered = delivered + $2, last_success = $3
             where id = $1",
        )
        .arg(id)
        .arg(i64::try_from(gone).unwrap_or(i64::MAX))
        .arg(at);
        execute::<D>(&mut tx, sql).await?;
        tracing::trace!(subscription = %id, last, "delivered");
        commit::<D>(tx).await
    }

    async fn failed(&self, id: Uuid, f: &Failure) -> Result<(), StoreError> {
        let mut tx = self.writer.begin_write().await?;
        let mut sql = Sql::new("update deliveries set state = ");
        sql.push_bind(f.state).push(", attempts = ");
        sql.push_bind(i64::from(f.attempts))
            .push(", first_failure = ");
        sql.push_bind(f.first_failure).push(", last_status = ");
        sql.push_bind(Arg::Int(f.status.map(i64::from)));
        sql.push(", last_error = ").push_bind(f.error.as_str());
        sql.push(", failed_at = ");
        if f.state == "pending" {
            sql.push("null");
        } else {
            sql.push_bind(f.at);
        }
        sql.push(" where subscription_id = ").push_bind(id);
        sql.push(" and seq = ").push_bind(f.seq);
        // a delivery settled meanwhile (by a worker that took over a lapsed lease) stays as
        // it was settled, and is not counted again
        sql.push(" and state = 'pending'");
        if execute::<D>(&mut tx, sql).await? == 0 {
            return Ok(());
        }
        let failed = i64::from(f.state != "pending");
        let sql = Sql::new(
            "update subscriptions set failed = failed + $2, last_error = $3, last_error_at = $4
             where id = $1",
        )
        .arg(id)
        .arg(failed)
        .arg(f.error.as_str())
        .arg(f.at);
        execute::<D>(&mut tx, sql).await?;
        commit::<D>(tx).await
    }

    async fn failures(&self, id: Uuid, limit: u32) -> Result<Vec<FailedDelivery>, StoreError> {
        let sql = Sql::new(
            "select d.subscription_id, d.seq, e.id, e.resource_type, e.resource_id, d.state,
                    d.attempts, d.failed_at, d.last_status, d.last_error
             from deliveries d join events e on e.seq = d.seq
             where d.subscription_id = $1 and d.state <> 'pending'
             order by d.seq desc limit $2",
        )
        .arg(id)
        .arg(i64::from(limit));
        self.fetch_all(sql)
            .await?
            .iter()
            .map(|r| {
                Ok(FailedDelivery {
                    subscription: r.uuid("subscription_id")?,
                    seq: r.int("seq")?,
                    event: r.uuid("id")?,
                    resource_type: r.text("resource_type")?.unwrap_or_default(),
                    resource_id: r.uuid("resource_id")?,
                    state: r.text("state")?.unwrap_or_default(),
                    attempts: u32::try_from(r.int("attempts")?).unwrap_or(u32::MAX),
                    failed_at: r.opt_instant("failed_at")?,
                    last_status: r
                        .opt_int("last_status")?
                        .and_then(|s| u16::try_from(s).ok()),
                    last_error: r.text("last_error")?,
                })
            })
            .collect()
    }

    async fn requeue(&self, id: Uuid) -> Result<u64, StoreError> {
        let sql = Sql::new(
            "update deliveries set state = 'pending', attempts = 0, first_failure = null,
                 failed_at = null
             where subscription_id = $1 and state = 'parked'",
        )
        .arg(id);
        let mut conn = self.writer.acquire().await?;
        let n = execute::<D>(&mut conn, sql).await?;
        let sql = Sql::new("update subscriptions set retry_at = null where id = $1").arg(id);
        execute::<D>(&mut conn, sql).await?;
        Ok(n)
    }

    async fn events_after(
        &self,
        tenant: TenantId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError> {
        let sql = Sql::new(format!(
            "select seq, {EVENT_COLUMNS} from events
             where tenant_id = $1 and seq > $2 order by seq limit $3"
        ))
        .arg(tenant)
        .arg(after)
        .arg(i64::from(limit));
        self.fetch_all(sql).await?.iter().map(event).collect()
    }

    async fn last_event(&self, tenant: TenantId) -> Result<i64, StoreError> {
        let sql = Sql::new("select coalesce(max(seq), 0) as seq from events where tenant_id = $1")
            .arg(tenant);
        match self.fetch_optional(sql).await? {
            Some(row) => row.int("seq"),
            None => Ok(0),
        }
    }

    async fn pending_count(&self) -> Result<u64, StoreError> {
        let sql = Sql::new("select count(*) as n from deliveries where state = 'pending'");
        match self.fetch_optional(sql).await? {
            Some(row) => Ok(row.int("n")?.unsigned_abs()),
            None => Ok(0),
        }
    }

    async fn prune_events(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, StoreError> {
        self.prune_outbox(before, batch).await
    }

    async fn park_paused(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
        error: &str,
        batch: u32,
    ) -> Result<u64, StoreError> {
        self.park_paused_queues(before, now, error, batch).await
    }

    async fn stamp_events(&self, tenant: TenantId, batch: u32) -> Result<u64, StoreError> {
        self.stamp(tenant, batch).await
    }

    async fn stamped_events(
        &self,
        tenant: TenantId,
        kinds: Kinds,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, Event)>, StoreError> {
        self.stamped_after(tenant, kinds, after, limit).await
    }

    async fn acknowledge(
        &self,
        id: Uuid,
        position: i64,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.acknowledge_pulled(id, position, now).await
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Runs an update of the subscription `id`; not found when it changed no row.
    async fn changed_one(&self, id: Uuid, sql: Sql) -> Result<(), StoreError> {
        let mut conn = self.writer.acquire().await?;
        if execute::<D>(&mut conn, sql).await? == 0 {
            return Err(missing(id));
        }
        Ok(())
    }
}
