//! The outbox's upkeep in SQL for every dialect: pruning events past the retention, and
//! parking the queue of a subscription paused for too long. Both work in batches, so no
//! statement holds the tables for long, and both are safe beside delivery: an event and its
//! deliveries commit in one transaction, so an event without any delivery row is one no
//! subscription will ever need again, whatever order the events committed in.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Sql, SqlStore, commit, execute};
use crate::store::StoreError;
use crate::store::dialect::{Dialect, Record};

impl<D: Dialect> SqlStore<D> {
    /// Deletes at most `batch` dropped or parked deliveries that failed before `before`, then
    /// at most `batch` events older than `before` that no delivery row refers to; how many
    /// rows went. Each event is judged by its own deliveries (a probe of `deliveries_seq`),
    /// so one subscription's queue keeps only its own events, never another tenant's.
    pub(super) async fn prune_outbox(
        &self,
        before: DateTime<Utc>,
        batch: u32,
    ) -> Result<u64, StoreError> {
        let mut conn = self.writer.acquire().await?;
        let failed = Sql::new(
            "delete from deliveries where (subscription_id, seq) in
                 (select subscription_id, seq from deliveries
                  where state <> 'pending' and failed_at < $1 limit $2)",
        )
        .arg(before)
        .arg(i64::from(batch));
        let mut pruned = execute::<D>(&mut conn, failed).await?;
        // the batch's events as a range of seq, which a generic plan made while the outbox was
        // small reads through the primary key (a list of seqs, it would read by scanning the
        // whole table: `store::plans` checks it); no other event is in that range unless a
        // delivery or its age keeps it
        let events = Sql::new(
            "with batch as (
                 select e.seq from events e
                 where e.at < $1 and not exists (select 1 from deliveries d where d.seq = e.seq)
                 order by e.seq limit $2)
             delete from events
             where seq between (select min(seq) from batch) and (select max(seq) from batch)
               and at < $1 and not exists (select 1 from deliveries d where d.seq = events.seq)",
        )
        .arg(before)
        .arg(i64::from(batch));
        pruned += execute::<D>(&mut conn, events).await?;
        Ok(pruned)
    }

    /// Parks, for each paused subscription, at most `batch` of its pending deliveries whose
    /// event is older than `before`, as a delivery retried too long is parked: `failed_at`
    /// and `last_error` on the rows, the count and the error on the subscription. How many.
    pub(super) async fn park_paused_queues(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
        error: &str,
        batch: u32,
    ) -> Result<u64, StoreError> {
        // every paused one: a few rows, each then asked by its key
        // and every pull consumer: what it has not read is parked like a paused queue
        let paused = Sql::new("select id from subscriptions where paused or kind = 'pull'");
        let mut parked = 0;
        for row in self.fetch_all(paused).await? {
            let park = Parking {
                subscription: row.uuid("id")?,
                before,
                now,
                error,
                batch,
            };
            parked += self.park(&park).await?;
        }
        Ok(parked)
    }

    /// One batch of [`Self::park_paused_queues`] for one subscription, in a transaction that
    /// holds the subscription's row: a `resume` waits for it, and a subscription resumed
    /// meanwhile is left alone.
    async fn park(&self, p: &Parking<'_>) -> Result<u64, StoreError> {
        let mut tx = self.writer.begin_write().await?;
        let still_paused = Sql::new(format!(
            "select id from subscriptions where id = $1 and (paused or kind = 'pull'){}",
            D::SKIP_LOCKED
        ))
        .arg(p.subscription);
        if D::fetch_optional(&mut tx, still_paused).await?.is_none() {
            return Ok(0);
        }
        // the event's time read by its key for each delivery: a scalar subquery is run as a
        // probe of `events` whatever the planner believes of the tables' sizes
        let old = "select d.seq from deliveries d
             where d.subscription_id = $1 and d.state = 'pending'
               and (select e.at from events e where e.seq = d.seq) < $4
             order by d.seq limit $5";
        let rows = Sql::new(format!(
            "update deliveries set state = 'parked', failed_at = $2, last_error = $3,
                 first_failure = coalesce(first_failure, $2)
             where subscription_id = $1 and state = 'pending' and {}",
            D::in_select("seq", old)
        ))
        .arg(p.subscription)
        .arg(p.now)
        .arg(p.error)
        .arg(p.before)
        .arg(i64::from(p.batch));
        let parked = execute::<D>(&mut tx, rows).await?;
        if parked == 0 {
            return Ok(0);
        }
        let counted = Sql::new(
            "update subscriptions set failed = failed + $2, last_error = $3, last_error_at = $4
             where id = $1",
        )
        .arg(p.subscription)
        .arg(i64::try_from(parked).unwrap_or(i64::MAX))
        .arg(p.error)
        .arg(p.now);
        execute::<D>(&mut tx, counted).await?;
        commit::<D>(tx).await?;
        Ok(parked)
    }
}

/// What one batch of parking does, and to which subscription.
struct Parking<'a> {
    subscription: Uuid,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
    error: &'a str,
    batch: u32,
}
