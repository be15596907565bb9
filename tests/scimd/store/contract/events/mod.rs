//! `EventStore`: subscriptions (`subscriptions`), leases on them (`leases`), the deliveries of
//! a subscription's queue (`deliveries`), and the outbox written by changes, read and pruned
//! (`outbox`). Events are written as the service writes them: by a change of a user that
//! carries its activity row (`Write { content, activity }`), so that the change, its event
//! and its deliveries commit together.

mod deliveries;
mod leases;
mod outbox;
mod pull;
mod subscriptions;

use serde_json::{Value, json};
use uuid::Uuid;

use scimd::domain::TenantId;
use scimd::domain::activity::{Activity, Origin};
use scimd::domain::events::{Event, Kinds, NewSubscription, Pending, Subscription};
use scimd::scim::resource::{ResourceId, StoredResource};
use scimd::store::{Content, EventStore, Removal, Resources, Write};

use super::{Body, Fixture, at};

/// A committed change of a user, and the event it yields (with no `seq` or `id` yet: the
/// store gives them).
#[derive(Debug, Clone)]
struct Change {
    resource: StoredResource,
    event: Event,
}

impl Fixture {
    /// Subscribes a receiver to the `kinds` of `tenant`'s changes, at `at(0)`.
    async fn subscribe(&self, tenant: TenantId, kinds: Kinds, full: bool) -> Subscription {
        let new = NewSubscription {
            tenant,
            url: format!("https://hooks.example/{}", Uuid::new_v4()),
            kinds,
            full,
            secret: "whsec-0123456789abcdef0123456789abcdef".into(),
            pull: false,
        };
        self.store.add_subscription(&new, at(0)).await.unwrap()
    }

    /// Creates the user `name` (with the `externalId` `ext-name`) in `tenant` at
    /// `at(seconds)`.
    async fn created(&self, tenant: TenantId, name: &str, seconds: i64) -> Change {
        let body = Body::user(json!({ "userName": name, "externalId": format!("ext-{name}") }));
        let id = ResourceId::random();
        let row = self.change_row(tenant, id, "create", seconds);
        let write = Write {
            content: Content {
                now: at(seconds),
                ..body.write(id)
            },
            activity: Some(&row),
        };
        let resource = self.store.create(tenant, write).await.unwrap();
        self.recorded(tenant, &row, resource, false).await
    }

    /// Replaces `user` in `tenant` at `at(seconds)` with a new `displayName`, as a PUT or,
    /// deactivating it, a PATCH.
    async fn replaced(
        &self,
        tenant: TenantId,
        user: &Change,
        deactivate: bool,
        seconds: i64,
    ) -> Change {
        let mut doc = user.resource.doc.clone();
        doc.insert(
            "displayName".into(),
            json!(format!("replaced at {seconds}")),
        );
        if deactivate {
            doc.insert("active".into(), json!(false));
        }
        let body = Body::user(Value::Object(doc));
        let op = if deactivate { "patch" } else { "replace" };
        let mut row = self.change_row(tenant, user.resource.id, op, seconds);
        row.deactivated = deactivate;
        row.changed = vec!["displayName".into()];
        let write = Write {
            content: Content {
                now: at(seconds),
                ..body.write(user.resource.id)
            },
            activity: Some(&row),
        };
        let expected = user.resource.version;
        let resource = self.store.replace(tenant, write, expected).await.unwrap();
        self.recorded(tenant, &row, resource, false).await
    }

    /// Deletes `user` from `tenant` at `at(seconds)`.
    async fn deleted(&self, tenant: TenantId, user: &Change, seconds: i64) -> Change {
        let row = self.change_row(tenant, user.resource.id, "delete", seconds);
        let removal = Removal {
            kind: user.resource.kind,
            id: user.resource.id,
            expected: None,
            activity: Some(&row),
        };
        self.store.delete(tenant, removal).await.unwrap();
        self.recorded(tenant, &row, user.resource.clone(), true)
            .await
    }

    /// The activity row of a change `op` of the user `id` at `at(seconds)`, by request
    /// `req-{op}-{seconds}`.
    fn change_row(&self, tenant: TenantId, id: ResourceId, op: &str, seconds: i64) -> Activity {
        let origin = Origin {
            request_id: format!("req-{op}-{seconds}"),
            credential: "token ci".into(),
            method: "POST".into(),
            route: "/scim/v2/Users".into(),
        };
        let status = if op == "create" { 201 } else { 200 };
        Activity {
            resource_type: Some("User".into()),
            resource_id: Some(id.0),
            changed: vec!["userName".into()],
            ..Activity::change(tenant, at(seconds), &origin, op, status)
        }
    }

    /// The change `row` recorded, leaving `resource` (as it was before, for a delete): its
    /// event carries the document while a subscription of the tenant wants `full` events.
    async fn recorded(
        &self,
        tenant: TenantId,
        row: &Activity,
        resource: StoredResource,
        deleted: bool,
    ) -> Change {
        let subscriptions = self.store.subscriptions(Some(tenant)).await.unwrap();
        let full = subscriptions.iter().any(|s| s.full);
        let event = Event {
            seq: 0,
            id: Uuid::nil(),
            tenant,
            at: row.at,
            txn: row.origin.request_id.clone(),
            resource_type: "User".into(),
            resource_id: resource.id.0,
            kinds: row.event_kinds().unwrap(),
            attributes: row.changed.clone(),
            version: (!deleted).then_some(resource.version.0),
            external_id: resource
                .doc
                .get("externalId")
                .and_then(Value::as_str)
                .map(str::to_owned),
            data: (full && !deleted).then(|| Value::Object(resource.doc.clone())),
            lifecycle: row.lifecycle.clone(),
        };
        Change { resource, event }
    }

    /// The subscription's pending events, as many as there may be.
    async fn queue(&self, subscription: &Subscription) -> Vec<Pending> {
        self.store.pending(subscription.id, 100).await.unwrap()
    }
}

/// Asserts that `read` are the events of `changes`, in this order: in increasing `seq`, each
/// with an id of its own.
#[track_caller]
fn assert_events(read: &[Event], changes: &[&Change]) {
    let expected: Vec<Event> = read
        .iter()
        .zip(changes)
        .map(|(r, c)| Event {
            seq: r.seq,
            id: r.id,
            ..c.event.clone()
        })
        .collect();
    assert_eq!(read.len(), changes.len(), "{read:#?}");
    assert_eq!(read, expected);
    assert!(read.windows(2).all(|w| w[0].seq < w[1].seq), "{read:?}");
    assert!(read.iter().all(|e| !e.id.is_nil()));
    let mut ids: Vec<Uuid> = read.iter().map(|e| e.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), read.len(), "events share an id: {read:?}");
}

/// Asserts that `queue` holds the events of `changes`, in this order, never tried.
#[track_caller]
fn assert_fresh(queue: &[Pending], changes: &[&Change]) {
    let events: Vec<Event> = queue.iter().map(|p| p.event.clone()).collect();
    assert_events(&events, changes);
    assert!(
        queue
            .iter()
            .all(|p| p.attempts == 0 && p.first_failure.is_none()),
        "{queue:?}"
    );
}

/// The `seq`s of `queue`.
fn seqs(queue: &[Pending]) -> Vec<i64> {
    queue.iter().map(|p| p.event.seq).collect()
}
