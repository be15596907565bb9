//! Provisioning health in SQL for every dialect. A tenant's row changes only where its state is
//! still the one the checker read, in the same transaction as the change it records.

use super::{Arg, Sql, SqlStore, commit, execute};
use crate::domain::TenantId;
use crate::domain::health::{Change, Reason, Recorded, State};
use crate::store::StoreError;
use crate::store::dialect::{Dialect, Record};
use crate::store::health::{HealthStore, TenantHealth};

pub(super) const CHANGE_SELECT: &str = "select health_changes.seq, health_changes.id, tenants.name, \
     health_changes.previous, health_changes.state, health_changes.at, health_changes.reasons \
     from health_changes join tenants on tenants.id = health_changes.tenant_id";

fn state(row: &impl Record, column: &'static str) -> Result<Option<State>, StoreError> {
    Ok(row.text(column)?.and_then(|s| State::parse(&s)))
}

fn reasons(row: &impl Record) -> Result<Vec<Reason>, StoreError> {
    Ok(row.json("reasons")?.unwrap_or_default())
}

fn recorded(row: &impl Record) -> Result<Option<Recorded>, StoreError> {
    let Some(state) = state(row, "state")? else {
        return Ok(None);
    };
    Ok(Some(Recorded {
        state,
        since: row.instant("since")?,
        reasons: reasons(row)?,
        checked: row.instant("checked")?,
        last_accepted: row.opt_instant("last_accepted")?,
    }))
}

pub(super) fn change(row: &impl Record) -> Result<Change, StoreError> {
    Ok(Change {
        seq: row.int("seq")?,
        id: row.uuid("id")?,
        tenant: row.text("name")?.unwrap_or_default(),
        previous: state(row, "previous")?,
        state: state(row, "state")?.unwrap_or(State::NotConnected),
        at: row.instant("at")?,
        reasons: reasons(row)?,
    })
}

impl<D: Dialect> HealthStore for SqlStore<D> {
    async fn health(&self, tenant: TenantId) -> Result<Option<Recorded>, StoreError> {
        let sql = Sql::new(
            "select state, since, reasons, checked, last_accepted from tenant_health
             where tenant_id = $1",
        )
        .arg(tenant);
        match self.fetch_optional(sql).await? {
            Some(row) => recorded(&row),
            None => Ok(None),
        }
    }

    async fn health_page(
        &self,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<TenantHealth>, StoreError> {
        let mut sql = Sql::new(
            "select tenants.id, tenants.name, h.state, h.since, h.reasons, h.checked,
                    h.last_accepted
             from tenants left join tenant_health h on h.tenant_id = tenants.id",
        );
        if let Some((rank, name)) = after {
            // worst first, then by name: after (rank, name) is a lower rank, or the same rank
            // and a later name
            sql.push(" where coalesce(h.rank, 0) < ")
                .push_bind(rank)
                .push(" or (coalesce(h.rank, 0) = ")
                .push_bind(rank)
                .push(" and tenants.name > ")
                .push_bind(name)
                .push(")");
        }
        sql.push(" order by coalesce(h.rank, 0) desc, tenants.name limit ")
            .push_bind(i64::from(limit));
        self.fetch_all(sql)
            .await?
            .iter()
            .map(|row| {
                Ok(TenantHealth {
                    tenant: row.text("name")?.unwrap_or_default(),
                    id: TenantId(row.uuid("id")?),
                    recorded: recorded(row)?,
                })
            })
            .collect()
    }

    async fn record_health(
        &self,
        tenant: TenantId,
        expected: Option<State>,
        r: &Recorded,
        change: Option<&Change>,
    ) -> Result<bool, StoreError> {
        let reasons = Arg::json(&r.reasons)?;
        let mut tx = self.writer.begin_write().await?;
        let sql = match expected {
            None => Sql::new(
                "insert into tenant_health
                     (tenant_id, state, rank, since, reasons, checked, last_accepted)
                 values ($1, $2, $3, $4, $5, $6, $7)
                 on conflict (tenant_id) do nothing",
            ),
            Some(_) => Sql::new(
                "update tenant_health set state = $2, rank = $3, since = $4, reasons = $5,
                     checked = $6, last_accepted = $7
                 where tenant_id = $1 and state = $8",
            ),
        }
        .arg(tenant)
        .arg(r.state.as_str())
        .arg(r.state.rank())
        .arg(r.since)
        .arg(reasons)
        .arg(r.checked)
        .arg(r.last_accepted);
        let sql = match expected {
            Some(state) => sql.arg(state.as_str()),
            None => sql,
        };
        if execute::<D>(&mut tx, sql).await? == 0 {
            return Ok(false);
        }
        if let Some(c) = change {
            let insert = Sql::new(
                "insert into health_changes (id, tenant_id, previous, state, at, reasons)
                 values ($1, $2, $3, $4, $5, $6)",
            )
            .arg(c.id)
            .arg(tenant)
            .arg(c.previous.map(State::as_str))
            .arg(c.state.as_str())
            .arg(c.at)
            .arg(Arg::json(&c.reasons)?);
            execute::<D>(&mut tx, insert).await?;
        }
        commit::<D>(tx).await?;
        Ok(true)
    }

    async fn health_changes(&self, after: i64, limit: u32) -> Result<Vec<Change>, StoreError> {
        let sql = Sql::new(format!(
            "{CHANGE_SELECT} where health_changes.seq > $1 order by health_changes.seq limit $2"
        ))
        .arg(after)
        .arg(i64::from(limit));
        self.fetch_all(sql).await?.iter().map(change).collect()
    }

    async fn tenant_health_changes(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<Vec<Change>, StoreError> {
        let sql = Sql::new(format!(
            "{CHANGE_SELECT} where health_changes.tenant_id = $1
             order by health_changes.seq desc limit $2"
        ))
        .arg(tenant)
        .arg(i64::from(limit));
        self.fetch_all(sql).await?.iter().map(change).collect()
    }
}
