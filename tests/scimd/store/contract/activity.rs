//! `ActivityStore`: rows recorded on their own and read back per tenant, oldest first, with
//! every filter and the newest `limit`; per-minute counts by what happened; lookups added up
//! per minute; pruning in batches. A refusal recorded is no change: it yields no event.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use scimd::domain::TenantId;
use scimd::domain::activity::{Activity, ActivityFilter, MinuteCount, Origin};
use scimd::domain::events::{Kinds, NewSubscription};
use scimd::store::{ActivityStore, EventStore, Tenants};

use super::{Fixture, at, user};
use crate::support::Backend;

/// A row of `tenant` at `at`: request `request` did `operation` on the user `resource`,
/// answered `status`.
fn row(
    tenant: TenantId,
    at: DateTime<Utc>,
    request: &str,
    operation: &str,
    status: u16,
    resource: Option<Uuid>,
) -> Activity {
    let origin = Origin {
        request_id: request.to_owned(),
        credential: "token ci".to_owned(),
        method: "POST".to_owned(),
        route: "/scim/v2/Users".to_owned(),
    };
    Activity {
        resource_type: Some("User".to_owned()),
        resource_id: resource,
        ..Activity::change(tenant, at, &origin, operation, status)
    }
}

/// `row` as it is read back: what is only for the change's event is not stored.
fn read_back(row: &Activity) -> Activity {
    Activity {
        activated: false,
        changed: Vec::new(),
        unchanged: false,
        ..row.clone()
    }
}

impl Fixture {
    async fn record_all(&self, rows: &[&Activity]) {
        for row in rows {
            self.store.record(row).await.unwrap();
        }
    }

    /// The rows of tenant `default` that `filter` (with a limit of 100) selects.
    async fn selected(&self, filter: ActivityFilter) -> Vec<Activity> {
        let filter = ActivityFilter {
            limit: 100,
            ..filter
        };
        self.store.activity(self.tenant.id, &filter).await.unwrap()
    }
}

async fn recorded_rows_are_read_back_per_tenant_oldest_first_with_what_is_stored(backend: Backend) {
    let f = Fixture::new(backend).await;
    let other = f.store.create_tenant("other").await.unwrap();
    let subscription = NewSubscription {
        tenant: f.tenant.id,
        url: "https://hooks.example/scim".into(),
        kinds: Kinds::ALL,
        full: true,
        secret: "s".repeat(32),
        pull: false,
    };
    f.store
        .add_subscription(&subscription, at(0))
        .await
        .unwrap();
    let ada = f.create(&user("ada")).await;
    let (t, gone) = (f.tenant.id, Some(Uuid::new_v4()));
    // changes of a user that is no more (a change's own row is written by the change)
    let created = row(t, at(0), "req-1", "create", 201, gone);
    let patched = Activity {
        paths: Some("active, members+3".into()),
        deactivated: true,
        ignored: Some("nickName".into()),
        kept: Some("userName".into()),
        unchanged: true,
        activated: true,
        changed: vec!["active".into()],
        ..row(t, at(60), "req-2", "patch", 200, gone)
    };
    // a refusal, naming an existing user
    let refused = Activity {
        scim_type: Some("uniqueness".into()),
        error: Some("userName is taken".into()),
        ..row(t, at(30), "req-3", "create", 409, Some(ada.id.0))
    };
    let search = Activity {
        resource_type: None,
        ..row(t, at(45), "req-4", "search", 401, None)
    };
    let theirs = row(other.id, at(10), "req-5", "create", 201, None);
    f.record_all(&[&patched, &refused, &theirs, &created, &search])
        .await;
    assert_eq!(
        f.selected(ActivityFilter::default()).await,
        [&created, &refused, &search, &patched].map(read_back)
    );
    let filter = ActivityFilter {
        limit: 100,
        ..Default::default()
    };
    let listed = f.store.activity(other.id, &filter).await.unwrap();
    assert_eq!(listed, [read_back(&theirs)]);
    // the refusal of a change of ada is no change: no event, no delivery
    assert_eq!(f.store.pending_count().await.unwrap(), 0);
    assert_eq!(f.store.last_event(f.tenant.id).await.unwrap(), 0);
}

/// `ActivityFilter::default()` as `change` leaves it.
fn filter(change: impl FnOnce(&mut ActivityFilter)) -> ActivityFilter {
    let mut filter = ActivityFilter::default();
    change(&mut filter);
    filter
}

async fn activity_is_filtered_by_time_resource_request_status_and_operation(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (t, x, y) = (f.tenant.id, Some(Uuid::new_v4()), Some(Uuid::new_v4()));
    let a = row(t, at(0), "req-a", "create", 201, x);
    let b = row(t, at(60), "req-b", "patch", 200, x);
    let c = row(t, at(120), "req-c", "create", 409, None);
    let d = row(t, at(180), "req-d", "delete", 204, y);
    let e = row(t, at(240), "req-e", "replace", 500, y);
    let g = row(t, at(300), "req-g", "read", 404, x);
    f.record_all(&[&a, &b, &c, &d, &e, &g]).await;
    let cases = [
        (filter(|f| f.since = Some(at(60))), vec![&b, &c, &d, &e, &g]),
        (filter(|f| f.until = Some(at(180))), vec![&a, &b, &c]),
        (
            filter(|f| (f.since, f.until) = (Some(at(60)), Some(at(180)))),
            vec![&b, &c],
        ),
        (filter(|f| f.resource = x), vec![&a, &b, &g]),
        (filter(|f| f.request_id = Some("req-c".into())), vec![&c]),
        (filter(|f| f.status_class = Some(2)), vec![&a, &b, &d]),
        (filter(|f| f.status_class = Some(4)), vec![&c, &g]),
        (filter(|f| f.status_class = Some(5)), vec![&e]),
        (filter(|f| f.refused = true), vec![&c, &e, &g]),
        (
            filter(|f| f.operation = Some("create".into())),
            vec![&a, &c],
        ),
        (filter(|f| (f.resource, f.refused) = (x, true)), vec![&g]),
        (filter(|f| f.request_id = Some("req-none".into())), vec![]),
    ];
    for (filter, expected) in cases {
        let expected: Vec<Activity> = expected.into_iter().map(read_back).collect();
        assert_eq!(f.selected(filter.clone()).await, expected, "{filter:?}");
    }
}

async fn activity_reads_the_newest_rows_up_to_the_limit_oldest_first(backend: Backend) {
    let f = Fixture::new(backend).await;
    let rows: Vec<Activity> = (0..5)
        .map(|i| {
            row(
                f.tenant.id,
                at(i * 10),
                &format!("req-{i}"),
                "create",
                201,
                None,
            )
        })
        .collect();
    f.record_all(&rows.iter().rev().collect::<Vec<_>>()).await;
    let newest = |limit, since| ActivityFilter {
        limit,
        since,
        ..Default::default()
    };
    let read = f.store.activity(f.tenant.id, &newest(2, None)).await;
    assert_eq!(read.unwrap(), [&rows[3], &rows[4]].map(read_back));
    let read = f.store.activity(f.tenant.id, &newest(5, None)).await;
    assert_eq!(
        read.unwrap(),
        rows.iter().map(read_back).collect::<Vec<_>>()
    );
    let read = f
        .store
        .activity(f.tenant.id, &newest(3, Some(at(30))))
        .await;
    assert_eq!(read.unwrap(), [&rows[3], &rows[4]].map(read_back));
    // at most none is none
    let read = f.store.activity(f.tenant.id, &newest(0, None)).await;
    assert_eq!(read.unwrap(), []);
}

/// A minute's counts, by what happened.
fn count(minute: i64, kind: Option<&str>, op: &str, flags: (bool, bool), n: u64) -> MinuteCount {
    MinuteCount {
        minute: at(minute * 60),
        resource_type: kind.map(str::to_owned),
        operation: op.to_owned(),
        deactivated: flags.0,
        refused: flags.1,
        count: n,
    }
}

/// `counts` in one order (within a minute, the store's order is its own).
fn sorted(mut counts: Vec<MinuteCount>) -> Vec<MinuteCount> {
    counts.sort_by_key(|c| {
        let key = (c.minute, c.resource_type.clone(), c.operation.clone());
        (key, c.deactivated, c.refused)
    });
    counts
}

async fn minute_counts_group_the_rows_since_a_time_by_minute_and_what_happened(backend: Backend) {
    let f = Fixture::new(backend).await;
    let other = f.store.create_tenant("other").await.unwrap();
    let t = f.tenant.id;
    let group = Activity {
        resource_type: Some("Group".into()),
        ..row(t, at(30), "r", "create", 201, None)
    };
    let disabled = Activity {
        deactivated: true,
        ..row(t, at(70), "r", "patch", 200, None)
    };
    let search = Activity {
        resource_type: None,
        ..row(t, at(130), "r", "search", 401, None)
    };
    f.record_all(&[
        &row(t, at(-10), "r", "create", 201, None),
        &row(t, at(5), "r", "create", 201, None),
        &row(t, at(50), "r", "create", 201, None),
        &group,
        &disabled,
        &row(t, at(80), "r", "create", 409, None),
        &row(t, at(85), "r", "patch", 200, None),
        &search,
        &row(other.id, at(10), "r", "create", 201, None),
    ])
    .await;
    let (user, no) = (Some("User"), (false, false));
    let all = sorted(f.store.minute_counts(t, at(0)).await.unwrap());
    assert_eq!(
        all,
        sorted(vec![
            count(0, user, "create", no, 2),
            count(0, Some("Group"), "create", no, 1),
            count(1, user, "patch", (true, false), 1),
            count(1, user, "create", (false, true), 1),
            count(1, user, "patch", no, 1),
            count(2, None, "search", (false, true), 1),
        ])
    );
    // rows are taken by their own time, and counted under their minute
    let since = sorted(f.store.minute_counts(t, at(75)).await.unwrap());
    assert_eq!(
        since,
        sorted(vec![
            count(1, user, "create", (false, true), 1),
            count(1, user, "patch", no, 1),
            count(2, None, "search", (false, true), 1),
        ])
    );
    let theirs = f.store.minute_counts(other.id, at(0)).await.unwrap();
    assert_eq!(theirs, [count(0, user, "create", no, 1)]);
    assert_eq!(f.store.minute_counts(t, at(180)).await.unwrap(), []);
}

async fn lookups_add_up_per_tenant_and_minute(backend: Backend) {
    let f = Fixture::new(backend).await;
    let other = f.store.create_tenant("other").await.unwrap();
    let t = f.tenant.id;
    let added = [(t, at(0), 3), (t, at(60), 1), (other.id, at(0), 5)];
    f.store.add_lookups(&added).await.unwrap();
    f.store.add_lookups(&[(t, at(0), 2)]).await.unwrap();
    f.store.add_lookups(&[]).await.unwrap();
    let lookups = f.store.lookup_counts(t, at(0)).await.unwrap();
    assert_eq!(lookups, [(at(0), 5), (at(60), 1)]);
    for since in [at(1), at(60)] {
        let lookups = f.store.lookup_counts(t, since).await.unwrap();
        assert_eq!(lookups, [(at(60), 1)]);
    }
    let theirs = f.store.lookup_counts(other.id, at(-60)).await.unwrap();
    assert_eq!(theirs, [(at(0), 5)]);
}

async fn pruning_deletes_at_most_a_batch_of_old_rows_and_lookup_counts(backend: Backend) {
    let f = Fixture::new(backend).await;
    let other = f.store.create_tenant("other").await.unwrap();
    let (t, o) = (f.tenant.id, other.id);
    let new = [
        row(t, at(120), "new-1", "create", 201, None),
        row(t, at(130), "new-2", "create", 409, None),
    ];
    f.record_all(&[
        &row(t, at(0), "old-1", "create", 201, None),
        &row(t, at(10), "old-2", "create", 201, None),
        &row(t, at(59), "old-3", "create", 409, None),
        &row(o, at(5), "old-4", "create", 201, None),
        &row(o, at(30), "old-5", "create", 201, None),
        &new[0],
        &new[1],
    ])
    .await;
    let lookups = [
        (t, at(0), 1),
        (o, at(0), 2),
        (t, at(60), 3),
        (t, at(120), 4),
    ];
    f.store.add_lookups(&lookups).await.unwrap();
    // before `at(60)`: five rows and two lookup minutes, two of each at a time
    assert_eq!(f.store.prune_activity(at(60), 2).await.unwrap(), 4);
    assert_eq!(f.store.prune_activity(at(60), 2).await.unwrap(), 2);
    assert_eq!(f.store.prune_activity(at(60), 2).await.unwrap(), 1);
    assert_eq!(f.store.prune_activity(at(60), 2).await.unwrap(), 0);
    let everything = ActivityFilter::default();
    assert_eq!(
        f.selected(everything.clone()).await,
        new.map(|r| read_back(&r))
    );
    let theirs = ActivityFilter {
        limit: 100,
        ..everything
    };
    assert_eq!(f.store.activity(o, &theirs).await.unwrap(), []);
    let kept = f.store.lookup_counts(t, at(-60)).await.unwrap();
    assert_eq!(kept, [(at(60), 3), (at(120), 4)]);
    assert_eq!(f.store.lookup_counts(o, at(-60)).await.unwrap(), []);
}

crate::on_both_stores!(
    recorded_rows_are_read_back_per_tenant_oldest_first_with_what_is_stored,
    activity_is_filtered_by_time_resource_request_status_and_operation,
    activity_reads_the_newest_rows_up_to_the_limit_oldest_first,
    minute_counts_group_the_rows_since_a_time_by_minute_and_what_happened,
    lookups_add_up_per_tenant_and_minute,
    pruning_deletes_at_most_a_batch_of_old_rows_and_lookup_counts,
);
