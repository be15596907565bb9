//! The outbox of SCIM events in SQL for every dialect. The event row of a change is written
//! with the change, like its activity row: in its transaction, or on PostgreSQL in its own
//! statement. With it go one delivery row per subscription of the tenant that wants one of
//! its kinds, so a subscription receives exactly the changes committed after it was added.

use uuid::Uuid;

use super::{Arg, Sql, execute};
use crate::domain::activity::Activity;
use crate::domain::events::Kinds;
use crate::store::StoreError;
use crate::store::dialect::{Conn, Dialect, Record};

pub(super) const EVENT_COLUMNS: &str = "id, tenant_id, at, txn, resource_type, resource_id, kinds, \
                             attributes, version, external_id, data, lifecycle";

/// Appends to `sql` the insert of `a`'s event (of `kinds`) from the resource row `r` of
/// `from` (a relation with the resource's `version` and `doc`; `sql` goes on after it).
fn push_insert<D: Dialect>(sql: &mut Sql, a: &Activity, kinds: Kinds, resource: Uuid, from: &str) {
    sql.push(&format!("insert into events ({EVENT_COLUMNS}) select "));
    sql.push_bind(Uuid::new_v4()).push(", ");
    sql.push_bind(a.tenant).push(", ");
    sql.push_bind(a.at).push(", ");
    sql.push_bind(a.origin.request_id.as_str()).push(", ");
    sql.push_bind(a.resource_type.clone()).push(", ");
    sql.push_bind(resource).push(", ");
    sql.push_bind(kinds.0).push(", ");
    sql.push_bind((!a.changed.is_empty()).then(|| a.changed.join(",")));
    // a deleted resource has no version after the change
    let version = if kinds.contains(Kinds::DELETE) {
        "null"
    } else {
        "r.version"
    };
    sql.push(&format!(
        ", {version}, {}, ",
        D::json_text("r.doc", "externalId")
    ));
    if kinds.contains(Kinds::DELETE) {
        sql.push("null");
    } else {
        // the resource only while someone wants it
        sql.push("case when exists (select 1 from subscriptions f where f.tenant_id = ")
            .push_bind(a.tenant)
            .push(" and f.full_data) then r.doc end");
    }
    sql.push(", ").push_bind(a.lifecycle.clone());
    sql.push(&format!(" from {from}"));
}

/// The deliveries of the event `seq` (an expression) of `tenant` with `kinds` (expressions):
/// one per subscription of the tenant that wants one of the kinds.
const FAN_OUT: &str = "insert into deliveries (subscription_id, seq)
     select s.id, e.seq from {events} e
     join subscriptions s on s.tenant_id = e.tenant_id and (s.events & e.kinds) <> 0";

/// `statement`, a data-modifying `with` whose `written` returns the resource's `version` and
/// `doc`, made to write `a`'s event and its deliveries too (PostgreSQL's lone writes).
pub(super) fn extend_cte<D: Dialect>(statement: &mut Sql, a: &Activity) {
    let (Some(kinds), Some(resource)) = (a.event_kinds(), a.resource_id) else {
        return;
    };
    statement.push(", evented as (");
    push_insert::<D>(statement, a, kinds, resource, "written r");
    statement.push(" returning seq, tenant_id, kinds), fanned as (");
    statement.push(&FAN_OUT.replace("{events}", "evented"));
    statement.push(")");
    counted(kinds);
}

/// The values of `a`'s event that do not come from the resource's row, for a group of creates
/// written by one statement ([`extend_batch`]): its id, tenant, time, request, resource type
/// and id, kinds, changed attributes and lifecycle note. `None` when `a` has no event.
pub(super) fn event_values(a: &Activity) -> Option<Vec<Arg>> {
    let (Some(kinds), Some(resource)) = (a.event_kinds(), a.resource_id) else {
        return None;
    };
    counted(kinds);
    Some(vec![
        Uuid::new_v4().into(),
        a.tenant.into(),
        a.at.into(),
        a.origin.request_id.as_str().into(),
        a.resource_type.clone().into(),
        resource.into(),
        kinds.0.into(),
        (!a.changed.is_empty()).then(|| a.changed.join(",")).into(),
        a.lifecycle.clone().into(),
    ])
}

/// `statement`, a data-modifying `with` whose `written` returns the rows of created resources
/// (their `id`, `version` and `doc`), made to write their events (`events`, each from
/// [`event_values`]) and the events' deliveries too.
pub(super) fn extend_batch<D: Dialect>(statement: &mut Sql, events: Vec<Vec<Arg>>) {
    if events.is_empty() {
        return;
    }
    statement.push(&format!(
        ", evented as (insert into events ({EVENT_COLUMNS}) select v.id, v.tenant_id, v.at, \
         v.txn, v.resource_type, v.resource_id, v.kinds, v.attributes, r.version, {}, \
         case when exists (select 1 from subscriptions f where f.tenant_id = v.tenant_id \
         and f.full_data) then r.doc end, v.lifecycle from (values ",
        D::json_text("r.doc", "externalId")
    ));
    for (i, values) in events.into_iter().enumerate() {
        statement.push(if i == 0 { "(" } else { ", (" });
        super::activity::push_list(statement, values);
        statement.push(")");
    }
    statement.push(
        ") as v (id, tenant_id, at, txn, resource_type, resource_id, kinds, attributes, \
         lifecycle) join written r on r.id = v.resource_id returning seq, tenant_id, kinds), \
         fanned as (",
    );
    statement.push(&FAN_OUT.replace("{events}", "evented"));
    statement.push(")");
}

/// Writes `a`'s event and its deliveries on `conn`, in the change's transaction, while the
/// resource's row holds what the change wrote (before a delete, after any other change).
pub(super) async fn write<D: Dialect>(conn: &mut Conn<D>, a: &Activity) -> Result<(), StoreError> {
    let (Some(kinds), Some(resource)) = (a.event_kinds(), a.resource_id) else {
        return Ok(());
    };
    let mut sql = Sql::new("");
    push_insert::<D>(
        &mut sql,
        a,
        kinds,
        resource,
        "resources r where r.tenant_id = ",
    );
    sql.push_bind(a.tenant).push(" and r.id = ");
    sql.push_bind(resource).push(" returning seq");
    let Some(row) = D::fetch_optional(conn, sql).await? else {
        return Ok(());
    };
    let seq = row.int("seq")?;
    let mut fan = Sql::new(FAN_OUT.replace("{events}", "events"));
    fan.push(" where e.seq = ").push_bind(seq);
    execute::<D>(conn, fan).await?;
    counted(kinds);
    Ok(())
}

/// Counts an event written (`scimd_events_total`).
fn counted(kinds: Kinds) {
    metrics::counter!("scimd_events_total", "kind" => kinds.names().first().copied().unwrap_or("none"))
        .increment(1);
}
