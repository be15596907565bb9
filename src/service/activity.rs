//! The activity log as the use cases keep it: each change scopes its row to the store call
//! that writes it (so the row commits with the change, or not at all), refusals are recorded on
//! their own, lookups are counted per tenant and minute in memory and added to the store in
//! batches, and old rows are pruned in small batches. Cycles are read from per-minute counts.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::view::Context;
use super::{Directory, Error};
use crate::domain::TenantId;
use crate::domain::activity::{self, Activity, ActivityFilter, Cycle, Origin, minute};
use crate::scim::canonical::Document;
use crate::scim::resource::ResourceId;
use crate::scim::schema::ResourceKind;
use crate::store::ActivityStore;
use crate::store::activity::recording;

/// Rows pruned per statement.
const PRUNE_BATCH: u32 = 1_000;

/// Lookups counted in this process and not yet added to the store.
#[derive(Debug, Default)]
pub struct LookupCounts(Mutex<HashMap<(TenantId, DateTime<Utc>), u64>>);

/// The row of a change a request makes, when the request has an origin (SCIM requests do;
/// calls from the CLI or tests do not, and record nothing).
pub(super) fn change(
    ctx: &Context<'_>,
    kind: ResourceKind,
    id: ResourceId,
    operation: &str,
    status: u16,
) -> Option<Activity> {
    let origin = ctx.origin?;
    let mut a = Activity::change(ctx.tenant.id, origin, operation, status);
    a.resource_type = Some(kind.as_str().to_owned());
    a.resource_id = Some(id.0);
    Some(a)
}

/// Runs `write` recording `row` with it, if there is one.
pub(super) async fn with<F: Future>(row: Option<Activity>, write: F) -> F::Output {
    match row {
        Some(row) => recording(row, write).await,
        None => write.await,
    }
}

/// Whether a user goes from active (or unset) to inactive.
pub(super) fn deactivates(before: &Document, after: &Document) -> bool {
    let active = |d: &Document| d.get("active").and_then(Value::as_bool);
    active(before) != Some(false) && active(after) == Some(false)
}

/// The attribute paths a PatchOp touches, without values: `active, manager, members+3`.
pub(super) fn patch_paths(body: &Value) -> Option<String> {
    let ops = body
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))?
        .1
        .as_array()?;
    let mut paths: Vec<String> = Vec::new();
    for op in ops {
        let Some(op) = op.as_object() else { continue };
        let field = |name: &str| {
            op.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        let verb = field("op")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_lowercase();
        let value = field("value");
        let named: Vec<String> = match field("path").and_then(Value::as_str) {
            Some(path) => vec![without_filter(path)],
            None => value
                .and_then(Value::as_object)
                .map(|o| o.keys().map(|k| without_filter(k)).collect())
                .unwrap_or_default(),
        };
        for name in named {
            let entry = if name.eq_ignore_ascii_case("members") {
                let n = value.and_then(Value::as_array).map_or(1, Vec::len);
                match verb.as_str() {
                    "add" => format!("members+{n}"),
                    "remove" => format!("members-{n}"),
                    _ => format!("members={n}"),
                }
            } else {
                name
            };
            if !paths.contains(&entry) {
                paths.push(entry);
            }
        }
    }
    (!paths.is_empty()).then(|| paths.join(", "))
}

/// A path with its value filters left out: `emails[type eq "work"].value` → `emails.value`.
fn without_filter(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

impl Directory {
    /// Records a refused request (status ≥ 400) of `tenant`.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_refusal(
        &self,
        tenant: TenantId,
        origin: &Origin,
        resource: Option<(ResourceKind, Option<ResourceId>)>,
        operation: &str,
        status: u16,
        scim_type: Option<&str>,
        detail: Option<&str>,
    ) -> Result<(), Error> {
        let mut a = Activity::change(tenant, origin, operation, status);
        if let Some((kind, id)) = resource {
            a.resource_type = Some(kind.as_str().to_owned());
            a.resource_id = id.map(|i| i.0);
        }
        a.scim_type = scim_type.map(str::to_owned);
        a.error = detail.map(activity::without_values);
        Ok(self.store.record(&a).await?)
    }

    /// Counts one lookup of `tenant` (added to the store by [`Directory::flush_lookups`]).
    pub fn count_lookup(&self, tenant: TenantId) {
        if let Ok(mut counts) = self.lookups.0.lock() {
            *counts.entry((tenant, minute(Utc::now()))).or_default() += 1;
        }
    }

    /// Adds the lookups counted so far to the store.
    pub async fn flush_lookups(&self) -> Result<(), Error> {
        let counts: Vec<(TenantId, DateTime<Utc>, u64)> = match self.lookups.0.lock() {
            Ok(mut counts) => counts.drain().map(|((t, m), n)| (t, m, n)).collect(),
            Err(_) => return Ok(()),
        };
        if counts.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.store.add_lookups(&counts).await {
            // kept for the next flush
            if let Ok(mut pending) = self.lookups.0.lock() {
                for (t, m, n) in counts {
                    *pending.entry((t, m)).or_default() += n;
                }
            }
            return Err(e.into());
        }
        Ok(())
    }

    /// Deletes the log's rows older than `retention`, in small batches; how many went.
    pub async fn prune_activity(&self, retention: std::time::Duration) -> Result<u64, Error> {
        let before = Utc::now() - TimeDelta::from_std(retention).unwrap_or(TimeDelta::days(30));
        let mut total = 0;
        loop {
            let pruned = self.store.prune_activity(before, PRUNE_BATCH).await?;
            total += pruned;
            if pruned == 0 {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }

    /// The log of the tenant called `tenant`.
    pub async fn activity(
        &self,
        tenant: &str,
        filter: &ActivityFilter,
    ) -> Result<Vec<Activity>, Error> {
        let tenant = self.tenant(tenant).await?;
        Ok(self.store.activity(tenant.id, filter).await?)
    }

    /// The tenant's cycles since `since`, oldest first: activity separated by `gap` of quiet.
    pub async fn cycles(
        &self,
        tenant: &str,
        since: DateTime<Utc>,
        gap: TimeDelta,
    ) -> Result<Vec<Cycle>, Error> {
        let tenant = self.tenant(tenant).await?;
        self.flush_lookups().await?;
        let minutes = self.store.minute_counts(tenant.id, since).await?;
        let lookups = self.store.lookup_counts(tenant.id, since).await?;
        Ok(activity::cycles(&minutes, &lookups, gap))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn patch_paths_name_attributes_without_values_and_count_members() {
        let body = json!({"Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "add", "path": "emails[type eq \"work\"].value", "value": "a@b.c"},
            {"op": "add", "value": {"displayName": "Alice", "name.givenName": "A"}},
            {"op": "Add", "path": "members", "value": [{"value": "1"}, {"value": "2"}, {"value": "3"}]},
            {"op": "remove", "path": "members[value eq \"9\"]"},
        ]});
        assert_eq!(
            patch_paths(&body).as_deref(),
            Some("active, emails.value, displayName, name.givenName, members+3, members-1")
        );
        assert_eq!(patch_paths(&json!({})), None);
    }
}
