//! Events the application pulls, in SQL for every dialect: positions stamped on a tenant's
//! committed events in commit order (one stamper of a tenant at a time, under its row of
//! `event_positions`), the events after a position, and a pull consumer's acknowledgement,
//! which deletes its delivery rows up to a position.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::events::event;
use super::outbox::EVENT_COLUMNS;
use super::{Sql, SqlStore, commit, execute};
use crate::domain::TenantId;
use crate::domain::events::{Event, Kinds};
use crate::store::StoreError;
use crate::store::dialect::{Dialect, Record};

impl<D: Dialect> SqlStore<D> {
    /// Stamps at most `batch` of the tenant's committed events without a position, in `seq`
    /// order after the tenant's last position; how many.
    ///
    /// The tenant's row of `event_positions` is held for the transaction, so stampers of a
    /// tenant run one after the other, and each statement after the lock sees what the
    /// previous stamper committed: an event that commits after a stamping is stamped by a
    /// later one, with a higher position, never below a position a reader has passed.
    pub(super) async fn stamp(&self, tenant: TenantId, batch: u32) -> Result<u64, StoreError> {
        // first asked on the pool, by the index of unstamped events: a consumer polls often,
        // and most polls find nothing to stamp, which needs no writer (SQLite has one)
        let probe =
            Sql::new("select seq from events where tenant_id = $1 and position is null limit 1")
                .arg(tenant);
        if self.fetch_optional(probe).await?.is_none() {
            return Ok(0);
        }
        let mut tx = self.writer.begin_write().await?;
        let first = Sql::new(
            "insert into event_positions (tenant_id, last) values ($1, 0)
             on conflict (tenant_id) do nothing",
        )
        .arg(tenant);
        execute::<D>(&mut tx, first).await?;
        let held =
            Sql::new("update event_positions set last = last where tenant_id = $1 returning last")
                .arg(tenant);
        let last = match D::fetch_optional(&mut tx, held).await? {
            Some(row) => row.int("last")?,
            None => 0,
        };
        let stamp = Sql::new(
            "update events set position = o.p
             from (select seq, $2 + row_number() over (order by seq) as p
                   from events where tenant_id = $1 and position is null
                   order by seq limit $3) o
             where events.seq = o.seq",
        )
        .arg(tenant)
        .arg(last)
        .arg(i64::from(batch));
        let stamped = execute::<D>(&mut tx, stamp).await?;
        if stamped > 0 {
            let moved = Sql::new("update event_positions set last = $2 where tenant_id = $1")
                .arg(tenant)
                .arg(last + i64::try_from(stamped).unwrap_or(i64::MAX));
            execute::<D>(&mut tx, moved).await?;
        }
        commit::<D>(tx).await?;
        Ok(stamped)
    }

    /// The tenant's stamped events of `kinds` after `position`, in position order.
    pub(super) async fn stamped_after(
        &self,
        tenant: TenantId,
        kinds: Kinds,
        position: i64,
        limit: u32,
    ) -> Result<Vec<(i64, Event)>, StoreError> {
        let sql = Sql::new(format!(
            "select position, seq, {EVENT_COLUMNS} from events
             where tenant_id = $1 and position > $2 and (kinds & $3) <> 0
             order by position limit $4"
        ))
        .arg(tenant)
        .arg(position)
        .arg(kinds.0)
        .arg(i64::from(limit));
        self.fetch_all(sql)
            .await?
            .iter()
            .map(|r| Ok((r.int("position")?, event(r)?)))
            .collect()
    }

    /// Moves the pull consumer `id`'s acknowledged position up to `position`, deleting its
    /// delivery rows of the events stamped in between (counted as delivered); nothing when it
    /// has read further already. How many deliveries went.
    pub(super) async fn acknowledge_pulled(
        &self,
        id: Uuid,
        position: i64,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.writer.begin_write().await?;
        let held = Sql::new(format!(
            "select tenant_id, acknowledged from subscriptions
             where id = $1 and kind = 'pull'{}",
            D::FOR_UPDATE
        ))
        .arg(id);
        let Some(row) = D::fetch_optional(&mut tx, held).await? else {
            return Ok(0);
        };
        let (tenant, acknowledged) = (row.uuid("tenant_id")?, row.int("acknowledged")?);
        if position <= acknowledged {
            return Ok(0);
        }
        // the events between the two positions, by the tenant's position index
        let between = "select seq from events
             where tenant_id = $2 and position > $3 and position <= $4";
        let gone = Sql::new(format!(
            "delete from deliveries where subscription_id = $1 and {}",
            D::in_select("seq", between)
        ))
        .arg(id)
        .arg(tenant)
        .arg(acknowledged)
        .arg(position);
        let n = execute::<D>(&mut tx, gone).await?;
        let moved = Sql::new(
            "update subscriptions set acknowledged = $2, delivered = delivered + $3,
                 last_success = $4
             where id = $1",
        )
        .arg(id)
        .arg(position)
        .arg(i64::try_from(n).unwrap_or(i64::MAX))
        .arg(now);
        execute::<D>(&mut tx, moved).await?;
        commit::<D>(tx).await?;
        Ok(n)
    }
}
