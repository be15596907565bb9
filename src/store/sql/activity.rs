//! The activity log in SQL for every dialect. A change's row is written with the change: in
//! its transaction, or on PostgreSQL in the change's own statement (a data-modifying `with`),
//! so a write that does not commit leaves no row and a lone write stays one round trip.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Arg, Sql, SqlStore, execute};
use crate::domain::TenantId;
use crate::domain::activity::{Activity, ActivityFilter, MinuteCount, Origin};
use crate::store::StoreError;
use crate::store::activity::ActivityStore;
use crate::store::dialect::{Conn, Dialect, Record};

pub(super) const COLUMNS: &str = "id, tenant_id, at, minute, request_id, credential, method, route, \
                       resource_type, resource_id, operation, paths, deactivated, status, scim_type, error, \
                       ignored, kept, lifecycle";

/// `a`'s values, in [`COLUMNS`] order.
pub(super) fn values(a: &Activity) -> Vec<Arg> {
    vec![
        a.id.into(),
        a.tenant.into(),
        a.at.into(),
        a.minute().into(),
        a.origin.request_id.as_str().into(),
        a.origin.credential.as_str().into(),
        a.origin.method.as_str().into(),
        a.origin.route.as_str().into(),
        a.resource_type.clone().into(),
        a.resource_id.into(),
        a.operation.as_str().into(),
        a.paths.clone().into(),
        a.deactivated.into(),
        i64::from(a.status).into(),
        a.scim_type.clone().into(),
        a.error.clone().into(),
        a.ignored.clone().into(),
        a.kept.clone().into(),
        a.lifecycle.clone().into(),
    ]
}

/// Appends `args` to `sql` as placeholders, comma-separated.
pub(super) fn push_list(sql: &mut Sql, args: Vec<Arg>) {
    for (i, arg) in args.into_iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push_bind(arg);
    }
}

/// Appends `a`'s values to `sql` as placeholders, comma-separated, in [`COLUMNS`] order.
fn push_values(sql: &mut Sql, a: &Activity) {
    push_list(sql, values(a));
}

/// The insert of one row.
fn insert(a: &Activity) -> Sql {
    let mut sql = Sql::new(format!("insert into activity ({COLUMNS}) values ("));
    push_values(&mut sql, a);
    sql.push(")");
    sql
}

/// Writes `a` on `conn` (in the change's transaction).
/// The change's SCIM event goes with it (`events::write`): call this while the resource's
/// row holds what the change wrote (before a delete).
pub(super) async fn write<D: Dialect>(conn: &mut Conn<D>, a: &Activity) -> Result<(), StoreError> {
    execute::<D>(conn, insert(a)).await?;
    super::outbox::write::<D>(conn, a).await?;
    counted(a);
    Ok(())
}

/// Counts a row of the log (`scimd_activity_rows_total`), once it is written.
pub(super) fn counted(a: &Activity) {
    let kind = if a.status >= 400 { "refusal" } else { "change" };
    metrics::counter!("scimd_activity_rows_total", "kind" => kind).increment(1);
}

/// `statement` (an insert, update or delete `returning` at least one column) made to also
/// write `a` for each row it changes, in one statement: PostgreSQL's data-modifying `with`.
/// The statement then returns what `statement` returned. The change's SCIM event and its
/// deliveries are written by the same statement (`events::extend_cte`): `statement` returns
/// the resource's `version` and `doc`.
pub(super) fn with_row<D: Dialect>(mut statement: Sql, a: &Activity) -> Sql {
    counted(a);
    statement.prepend("with written as (");
    statement.push(&format!(
        "), logged as (insert into activity ({COLUMNS}) select "
    ));
    push_values(&mut statement, a);
    statement.push(" from written)");
    super::outbox::extend_cte::<D>(&mut statement, a);
    statement.push(" select * from written");
    statement
}

fn row(r: &impl Record) -> Result<Activity, StoreError> {
    Ok(Activity {
        id: r.uuid("id")?,
        tenant: TenantId(r.uuid("tenant_id")?),
        at: r.instant("at")?,
        origin: Origin {
            request_id: r.text("request_id")?.unwrap_or_default(),
            credential: r.text("credential")?.unwrap_or_default(),
            method: r.text("method")?.unwrap_or_default(),
            route: r.text("route")?.unwrap_or_default(),
        },
        resource_type: r.text("resource_type")?,
        resource_id: r.opt_uuid("resource_id")?,
        operation: r.text("operation")?.unwrap_or_default(),
        paths: r.text("paths")?,
        deactivated: r.flag("deactivated")?,
        ignored: r.text("ignored")?,
        kept: r.text("kept")?,
        lifecycle: r.text("lifecycle")?,
        unchanged: false,
        activated: false,
        changed: Vec::new(),
        status: u16::try_from(r.int("status")?).unwrap_or(0),
        scim_type: r.text("scim_type")?,
        error: r.text("error")?,
    })
}

/// The select of a tenant's rows that match `filter`, without order or limit.
fn matching(tenant: TenantId, filter: &ActivityFilter) -> Sql {
    let mut sql = Sql::new(format!("select {COLUMNS} from activity where tenant_id = "));
    sql.push_bind(tenant);
    if let Some(since) = filter.since {
        sql.push(" and at >= ").push_bind(since);
    }
    if let Some(until) = filter.until {
        sql.push(" and at < ").push_bind(until);
    }
    if let Some(resource) = filter.resource {
        sql.push(" and resource_id = ").push_bind(resource);
    }
    if let Some(request) = &filter.request_id {
        sql.push(" and request_id = ").push_bind(request.as_str());
    }
    if let Some(op) = &filter.operation {
        sql.push(" and operation = ").push_bind(op.as_str());
    }
    if filter.refused {
        sql.push(" and status >= 400");
    }
    if let Some(class) = filter.status_class {
        let low = i64::from(class) * 100;
        sql.push(" and status >= ").push_bind(low);
        sql.push(" and status < ").push_bind(low + 100);
    }
    sql
}

impl<D: Dialect> ActivityStore for SqlStore<D> {
    async fn record(&self, activity: &Activity) -> Result<(), StoreError> {
        let mut conn = self.writer.acquire().await?;
        write::<D>(&mut conn, activity).await
    }

    async fn activity(
        &self,
        tenant: TenantId,
        filter: &ActivityFilter,
    ) -> Result<Vec<Activity>, StoreError> {
        let mut rows = self.activity_page(tenant, filter, None).await?;
        rows.reverse();
        Ok(rows)
    }

    async fn activity_page(
        &self,
        tenant: TenantId,
        filter: &ActivityFilter,
        before: Option<(DateTime<Utc>, Uuid)>,
    ) -> Result<Vec<Activity>, StoreError> {
        let mut sql = matching(tenant, filter);
        if let Some((at, id)) = before {
            // the keyset of the index activity_keyset: rows older than the page's last
            sql.push(" and (at < ").push_bind(at);
            sql.push(" or (at = ").push_bind(at);
            sql.push(" and id < ").push_bind(id).push("))");
        }
        sql.push(" order by at desc, id desc limit ")
            .push_bind(i64::from(filter.limit));
        self.fetch_all(sql).await?.iter().map(row).collect()
    }

    async fn minute_counts(
        &self,
        tenant: TenantId,
        since: DateTime<Utc>,
    ) -> Result<Vec<MinuteCount>, StoreError> {
        let sql = Sql::new(
            "select minute, resource_type, operation, deactivated, status >= 400 as refused,
                    count(*) as n
             from activity where tenant_id = $1 and at >= $2
             group by minute, resource_type, operation, deactivated, status >= 400
             order by minute",
        )
        .arg(tenant)
        .arg(since);
        self.fetch_all(sql)
            .await?
            .iter()
            .map(|r| {
                Ok(MinuteCount {
                    minute: r.instant("minute")?,
                    resource_type: r.text("resource_type")?,
                    operation: r.text("operation")?.unwrap_or_default(),
                    deactivated: r.flag("deactivated")?,
                    refused: r.flag("refused")?,
                    count: r.int("n")?.unsigned_abs(),
                })
            })
            .collect()
    }

    async fn lookup_counts(
        &self,
        tenant: TenantId,
        since: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, u64)>, StoreError> {
        let sql = Sql::new(
            "select minute, lookups from activity_lookups
             where tenant_id = $1 and minute >= $2 order by minute",
        )
        .arg(tenant)
        .arg(since);
        self.fetch_all(sql)
            .await?
            .iter()
            .map(|r| Ok((r.instant("minute")?, r.int("lookups")?.unsigned_abs())))
            .collect()
    }

    async fn add_lookups(
        &self,
        counts: &[(TenantId, DateTime<Utc>, u64)],
    ) -> Result<(), StoreError> {
        let mut conn = self.writer.acquire().await?;
        for (tenant, minute, n) in counts {
            let sql = Sql::new(
                "insert into activity_lookups (tenant_id, minute, lookups) values ($1, $2, $3)
                 on conflict (tenant_id, minute)
                 do update set lookups = activity_lookups.lookups + excluded.lookups",
            )
            .arg(*tenant)
            .arg(*minute)
            .arg(i64::try_from(*n).unwrap_or(i64::MAX));
            execute::<D>(&mut conn, sql).await?;
        }
        Ok(())
    }

    async fn prune_activity(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, StoreError> {
        let mut conn = self.writer.acquire().await?;
        let rows = Sql::new(
            "delete from activity where id in
                 (select id from activity where at < $1 limit $2)",
        )
        .arg(before)
        .arg(i64::from(batch));
        let mut pruned = execute::<D>(&mut conn, rows).await?;
        let lookups = Sql::new(
            "delete from activity_lookups where (tenant_id, minute) in
                 (select tenant_id, minute from activity_lookups where minute < $1 limit $2)",
        )
        .arg(before)
        .arg(i64::from(batch));
        pruned += execute::<D>(&mut conn, lookups).await?;
        Ok(pruned)
    }
}
