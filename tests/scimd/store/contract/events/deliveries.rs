//! A subscription's queue: `pending` in commit order (none while paused), `delivered` taking
//! deliveries out and counting them, `failed` keeping a retried delivery pending with its
//! attempts or dropping and parking it, `failures` newest first, `requeue` of parked ones,
//! and `pending_count` over every subscription.

use scimd::domain::events::{FailedDelivery, Kinds, Pending, Subscription};
use scimd::store::events::Failure;
use scimd::store::{EventStore, Tenants};

use super::super::{Fixture, at};
use super::{Change, assert_events, assert_fresh, seqs};
use crate::support::Backend;

/// A subscription of tenant `default` to every kind, with three changes in its queue: `ada`
/// created, `bob` created, `ada` replaced.
async fn queued(f: &Fixture) -> (Subscription, [Change; 3]) {
    let s = f.subscribe(f.tenant.id, Kinds::ALL, false).await;
    let ada = f.created(f.tenant.id, "ada", 10).await;
    let bob = f.created(f.tenant.id, "bob", 20).await;
    let again = f.replaced(f.tenant.id, &ada, false, 30).await;
    (s, [ada, bob, again])
}

/// The failure of the delivery of `seq`, ending in `state`, after `attempts`, at `at(seconds)`.
fn failure(
    seq: i64,
    state: &'static str,
    attempts: u32,
    status: Option<u16>,
    error: &str,
    seconds: i64,
) -> Failure {
    Failure {
        seq,
        state,
        attempts,
        first_failure: at(10),
        status,
        error: error.to_owned(),
        at: at(seconds),
    }
}

async fn pending_reads_the_queue_in_commit_order_and_none_while_paused(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (s, [ada, bob, again]) = queued(&f).await;
    let creates = f.subscribe(f.tenant.id, Kinds::CREATE, false).await;
    let carol = f.created(f.tenant.id, "carol", 40).await;
    assert_fresh(&f.queue(&s).await, &[&ada, &bob, &again, &carol]);
    let two = f.store.pending(s.id, 2).await.unwrap();
    assert_fresh(&two, &[&ada, &bob]);
    // subscribed after the first three changes: only the last
    assert_fresh(&f.queue(&creates).await, &[&carol]);
    f.store.set_paused(s.id, true).await.unwrap();
    assert_eq!(f.queue(&s).await, []);
    assert_eq!(f.store.subscription(s.id).await.unwrap().backlog, 4);
    f.store.set_paused(s.id, false).await.unwrap();
    assert_fresh(&f.queue(&s).await, &[&ada, &bob, &again, &carol]);
}

async fn delivered_events_leave_the_queue_and_are_counted(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (s, [_, bob, _]) = queued(&f).await;
    let other = f.subscribe(f.tenant.id, Kinds::ALL, false).await;
    let carol = f.created(f.tenant.id, "carol", 40).await;
    let seq = seqs(&f.queue(&s).await);
    f.store
        .delivered(s.id, &[seq[0], seq[2]], at(50))
        .await
        .unwrap();
    assert_fresh(&f.queue(&s).await, &[&bob, &carol]);
    let counted = Subscription {
        delivered: 2,
        backlog: 2,
        last_success: Some(at(50)),
        ..s.clone()
    };
    assert_eq!(f.store.subscription(s.id).await.unwrap(), counted);
    // nothing to report changes nothing
    f.store.delivered(s.id, &[], at(60)).await.unwrap();
    assert_eq!(f.store.subscription(s.id).await.unwrap(), counted);
    // the other subscription's deliveries of the same events are its own
    assert_fresh(&f.queue(&other).await, &[&carol]);
    assert_eq!(f.store.pending_count().await.unwrap(), 3);
}

async fn a_retried_failure_keeps_the_delivery_pending_with_its_attempts(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (s, [ada, bob, again]) = queued(&f).await;
    let seq = seqs(&f.queue(&s).await);
    let first = failure(
        seq[0],
        "pending",
        1,
        Some(503),
        "503 Service Unavailable",
        40,
    );
    f.store.failed(s.id, &first).await.unwrap();
    let second = failure(seq[0], "pending", 2, None, "timed out", 50);
    f.store.failed(s.id, &second).await.unwrap();
    let queue = f.queue(&s).await;
    assert_eq!(
        (queue[0].attempts, queue[0].first_failure),
        (2, Some(at(10)))
    );
    assert_events(&[queue[0].event.clone()], &[&ada]);
    assert_fresh(&queue[1..], &[&bob, &again]);
    assert_eq!(
        f.store.subscription(s.id).await.unwrap(),
        Subscription {
            backlog: 3,
            last_error: Some("timed out".into()),
            last_error_at: Some(at(50)),
            ..s.clone()
        }
    );
    assert_eq!(f.store.failures(s.id, 10).await.unwrap(), []);
}

/// The failed deliveries of `s` for the first two events of `queue`: the first dropped (400),
/// the second parked.
async fn drop_and_park(f: &Fixture, s: &Subscription, queue: &[Pending]) -> Vec<FailedDelivery> {
    let dropped = failure(
        queue[0].event.seq,
        "dropped",
        1,
        Some(400),
        "invalid_request",
        40,
    );
    f.store.failed(s.id, &dropped).await.unwrap();
    let parked = failure(queue[1].event.seq, "parked", 5, None, "timed out", 50);
    f.store.failed(s.id, &parked).await.unwrap();
    let failed =
        |p: &Pending, state: &str, attempts, status, error: &str, seconds| FailedDelivery {
            subscription: s.id,
            seq: p.event.seq,
            event: p.event.id,
            resource_type: "User".into(),
            resource_id: p.event.resource_id,
            state: state.into(),
            attempts,
            failed_at: Some(at(seconds)),
            last_status: status,
            last_error: Some(error.into()),
        };
    vec![
        failed(&queue[1], "parked", 5, None, "timed out", 50),
        failed(&queue[0], "dropped", 1, Some(400), "invalid_request", 40),
    ]
}

async fn dropped_and_parked_deliveries_leave_the_queue_and_are_listed_newest_first(
    backend: Backend,
) {
    let f = Fixture::new(backend).await;
    let (s, [_, _, again]) = queued(&f).await;
    let queue = f.queue(&s).await;
    let failures = drop_and_park(&f, &s, &queue).await;
    assert_fresh(&f.queue(&s).await, &[&again]);
    assert_eq!(f.store.failures(s.id, 10).await.unwrap(), failures);
    assert_eq!(f.store.failures(s.id, 1).await.unwrap(), failures[..1]);
    assert_eq!(
        f.store.subscription(s.id).await.unwrap(),
        Subscription {
            failed: 2,
            backlog: 1,
            last_error: Some("timed out".into()),
            last_error_at: Some(at(50)),
            ..s.clone()
        }
    );
    assert_eq!(f.store.pending_count().await.unwrap(), 1);
}

async fn requeue_puts_parked_deliveries_back_pending_afresh(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (s, [_, bob, again]) = queued(&f).await;
    let queue = f.queue(&s).await;
    let failures = drop_and_park(&f, &s, &queue).await;
    f.store.claim("w", at(60), at(90), 10).await.unwrap();
    f.store.release(s.id, "w", Some(at(1000))).await.unwrap();
    let before = f.store.subscription(s.id).await.unwrap();
    assert_eq!(f.store.requeue(s.id).await.unwrap(), 1);
    assert_fresh(&f.queue(&s).await, &[&bob, &again]);
    // the dropped one stays dropped
    assert_eq!(f.store.failures(s.id, 10).await.unwrap(), failures[1..]);
    let after = Subscription {
        backlog: 2,
        retry_at: None,
        ..before
    };
    assert_eq!(f.store.subscription(s.id).await.unwrap(), after);
    assert_eq!(f.store.requeue(s.id).await.unwrap(), 0);
    assert_eq!(f.store.subscription(s.id).await.unwrap(), after);
}

/// A worker whose lease lapsed reports deliveries that another worker settled meanwhile: as
/// delivered, or as failed in any state. Each delivery is counted once, by whoever settled
/// it first, and what a late report says changes nothing.
async fn a_delivery_settled_already_is_counted_once_whoever_reports_it(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (s, [_, _, again]) = queued(&f).await;
    let seq = seqs(&f.queue(&s).await);
    f.store.delivered(s.id, &seq[..1], at(40)).await.unwrap();
    let dropped = failure(seq[1], "dropped", 1, Some(400), "invalid_request", 50);
    f.store.failed(s.id, &dropped).await.unwrap();
    let settled = Subscription {
        delivered: 1,
        failed: 1,
        backlog: 1,
        last_success: Some(at(40)),
        last_error: Some("invalid_request".into()),
        last_error_at: Some(at(50)),
        ..s.clone()
    };
    assert_eq!(f.store.subscription(s.id).await.unwrap(), settled);
    let failures = f.store.failures(s.id, 10).await.unwrap();
    assert_eq!(failures.iter().map(|d| d.seq).collect::<Vec<_>>(), [seq[1]]);

    f.store.delivered(s.id, &seq[..2], at(60)).await.unwrap();
    for state in ["pending", "dropped", "parked"] {
        for late in &seq[..2] {
            let again = failure(*late, state, 2, Some(503), "503 Service Unavailable", 70);
            f.store.failed(s.id, &again).await.unwrap();
        }
    }
    assert_eq!(f.store.subscription(s.id).await.unwrap(), settled);
    assert_eq!(f.store.failures(s.id, 10).await.unwrap(), failures);
    assert_fresh(&f.queue(&s).await, &[&again]);
    assert_eq!(f.store.pending_count().await.unwrap(), 1);
}

async fn pending_count_counts_the_pending_deliveries_of_every_subscription(backend: Backend) {
    let f = Fixture::new(backend).await;
    let acme = f.store.create_tenant("acme").await.unwrap();
    let t = f.tenant.id;
    assert_eq!(f.store.pending_count().await.unwrap(), 0);
    let all = f.subscribe(t, Kinds::ALL, false).await;
    f.subscribe(t, Kinds::CREATE, false).await;
    let theirs = f.subscribe(acme.id, Kinds::ALL, false).await;
    let ada = f.created(t, "ada", 10).await;
    f.replaced(t, &ada, false, 20).await;
    f.created(acme.id, "ada", 30).await;
    assert_eq!(f.store.pending_count().await.unwrap(), 4);
    let seq = seqs(&f.queue(&all).await);
    f.store.delivered(all.id, &seq[..1], at(40)).await.unwrap();
    assert_eq!(f.store.pending_count().await.unwrap(), 3);
    let seq = seqs(&f.queue(&theirs).await);
    let dropped = failure(seq[0], "dropped", 1, Some(400), "invalid_request", 50);
    f.store.failed(theirs.id, &dropped).await.unwrap();
    assert_eq!(f.store.pending_count().await.unwrap(), 2);
}

crate::on_both_stores!(
    pending_reads_the_queue_in_commit_order_and_none_while_paused,
    delivered_events_leave_the_queue_and_are_counted,
    a_retried_failure_keeps_the_delivery_pending_with_its_attempts,
    dropped_and_parked_deliveries_leave_the_queue_and_are_listed_newest_first,
    requeue_puts_parked_deliveries_back_pending_afresh,
    a_delivery_settled_already_is_counted_once_whoever_reports_it,
    pending_count_counts_the_pending_deliveries_of_every_subscription,
);
