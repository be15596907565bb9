//! The activity log as the use cases keep it: each change hands its row to the store with the
//! write (so the row commits with the change, or not at all), refusals are recorded on
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
use crate::scim;
use crate::scim::canonical::Document;
use crate::scim::resource::ResourceId;
use crate::scim::schema::ResourceKind;
use crate::store::ActivityStore;

/// Rows pruned per statement.
const PRUNE_BATCH: u32 = 1_000;

/// Lookups counted in this process and not yet added to the store.
#[derive(Debug, Default)]
pub struct LookupCounts(Mutex<HashMap<(TenantId, DateTime<Utc>), u64>>);

/// The row of a change a request makes, when the request has an origin (SCIM requests do;
/// calls from the CLI or tests do not, and record nothing).
pub(super) fn change(
    at: DateTime<Utc>,
    ctx: &Context<'_>,
    kind: ResourceKind,
    id: ResourceId,
    operation: &str,
    status: u16,
) -> Option<Activity> {
    let origin = ctx.origin?;
    let mut a = Activity::change(ctx.tenant.id, at, origin, operation, status);
    a.resource_type = Some(kind.as_str().to_owned());
    a.resource_id = Some(id.0);
    Some(a)
}

/// `active` of a document.
fn active(d: &Document) -> Option<bool> {
    d.get("active").and_then(Value::as_bool)
}

/// Whether a user goes from active (or unset) to inactive.
pub(super) fn deactivates(before: &Document, after: &Document) -> bool {
    active(before) != Some(false) && active(after) == Some(false)
}

/// Whether a user goes from inactive to active.
pub(super) fn activates(before: &Document, after: &Document) -> bool {
    active(before) == Some(false) && active(after) == Some(true)
}

/// Notes on `row` what a change from `before` to `after` did, for its event: the attributes
/// added, revised or removed (an extension's as `urn:…:name`), `members` when `members`
/// changed too, and whether a user was deactivated or activated.
pub(super) fn note_change(
    row: &mut Activity,
    kind: ResourceKind,
    before: Option<&Document>,
    after: &Document,
    members: bool,
) {
    let empty = Document::new();
    let before_doc = before.unwrap_or(&empty);
    let mut changed: Vec<String> = Vec::new();
    if before.is_none() {
        changed.push("id".to_owned());
    }
    differing(before_doc, after, None, &mut changed);
    if members && !changed.iter().any(|c| c == "members") {
        changed.push("members".to_owned());
    }
    row.changed = changed;
    if kind == ResourceKind::User {
        if let Some(before) = before {
            row.deactivated = deactivates(before, after);
            row.activated = activates(before, after);
        }
    }
}

/// The names of the attributes whose values differ between `a` and `b`, in `b`'s order then
/// `a`'s; inside a schema extension (a `urn:` key), its attributes, named `urn:…:name`.
fn differing(a: &Document, b: &Document, prefix: Option<&str>, out: &mut Vec<String>) {
    let keys = b.keys().chain(a.keys().filter(|k| !b.contains_key(*k)));
    for key in keys {
        let (x, y) = (a.get(key), b.get(key));
        if x == y {
            continue;
        }
        match (
            prefix,
            x.and_then(Value::as_object),
            y.and_then(Value::as_object),
        ) {
            (None, ..) if key.starts_with("urn:") => {
                let empty = Document::new();
                let x = x.and_then(Value::as_object).unwrap_or(&empty);
                let y = y.and_then(Value::as_object).unwrap_or(&empty);
                differing(x, y, Some(key), out);
            }
            (Some(urn), ..) => out.push(format!("{urn}:{key}")),
            (None, ..) => out.push(key.clone()),
        }
    }
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
    /// Runs `write`, a store write that records `row` (and its event) with its change; a change
    /// that committed with a row wakes the events' dispatcher.
    pub(super) async fn recorded<T, E>(
        &self,
        row: Option<&Activity>,
        write: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let written = write.await;
        if written.is_ok() && row.is_some() {
            self.committed();
        }
        written
    }

    /// Records a refused request (status ≥ 400) of `tenant`, with the `scimType` and the note
    /// of its error: typed parts, so that no value the request held is recorded.
    pub async fn record_refusal(
        &self,
        tenant: TenantId,
        origin: &Origin,
        resource: Option<(ResourceKind, Option<ResourceId>)>,
        operation: &str,
        status: u16,
        error: Option<&scim::Error>,
    ) -> Result<(), Error> {
        let mut a = Activity::change(tenant, self.now(), origin, operation, status);
        if let Some((kind, id)) = resource {
            a.resource_type = Some(kind.as_str().to_owned());
            a.resource_id = id.map(|i| i.0);
        }
        if let Some(error) = error {
            a.scim_type = error
                .scim_type
                .and_then(|t| serde_json::to_value(t).ok())
                .and_then(|t| t.as_str().map(str::to_owned));
            a.error = Some(error.note_text());
        }
        Ok(self.store.record(&a).await?)
    }

    /// Counts one lookup of `tenant` (added to the store by [`Directory::flush_lookups`]).
    pub fn count_lookup(&self, tenant: TenantId) {
        if let Ok(mut counts) = self.lookups.0.lock() {
            *counts.entry((tenant, minute(self.now()))).or_default() += 1;
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
        let before = self.now() - TimeDelta::from_std(retention).unwrap_or(TimeDelta::days(30));
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

    /// A page of the log of the tenant called `tenant`, newest first: at most `filter.limit`
    /// rows that match, older than `before` (the (time, id) of the previous page's last row),
    /// so that rows written meanwhile neither shift nor repeat the pages.
    pub async fn activity_page(
        &self,
        tenant: &str,
        filter: &ActivityFilter,
        before: Option<(DateTime<Utc>, uuid::Uuid)>,
    ) -> Result<Vec<Activity>, Error> {
        let tenant = self.tenant(tenant).await?;
        Ok(self.store.activity_page(tenant.id, filter, before).await?)
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
    fn a_change_names_the_attributes_it_touched_and_whether_it_deactivated() {
        let obj = |v: Value| v.as_object().cloned().unwrap_or_default();
        let before = obj(json!({"userName": "a", "active": true, "title": "x",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "d"}}));
        let after = obj(json!({"userName": "a", "active": false, "displayName": "A",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "e"}}));
        let origin = Origin {
            request_id: "r".into(),
            credential: "c".into(),
            method: "PATCH".into(),
            route: "/Users/{id}".into(),
        };
        let mut row = Activity::change(
            TenantId(uuid::Uuid::nil()),
            Utc::now(),
            &origin,
            "patch",
            200,
        );
        note_change(&mut row, ResourceKind::User, Some(&before), &after, false);
        assert_eq!(
            row.changed,
            [
                "active",
                "displayName",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                "title"
            ]
        );
        assert!(row.deactivated && !row.activated);
        note_change(&mut row, ResourceKind::User, Some(&after), &before, false);
        assert!(row.activated && !row.deactivated);
        note_change(
            &mut row,
            ResourceKind::Group,
            None,
            &obj(json!({"displayName": "g"})),
            true,
        );
        assert_eq!(row.changed, ["id", "displayName", "members"]);
    }

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
