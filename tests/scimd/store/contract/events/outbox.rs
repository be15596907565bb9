//! The outbox: a change's event and its deliveries (to the tenant's subscriptions that want
//! one of its kinds, added before it committed), `events_after` and `last_event` per tenant,
//! `prune_events` keeping every event a delivery still names, and `park_paused` parking the
//! old queue of a paused subscription.

use scimd::domain::events::{FailedDelivery, Kinds, Subscription};
use scimd::store::events::Failure;
use scimd::store::{EventStore, Tenants};

use super::super::{Fixture, at};
use super::{assert_events, assert_fresh, seqs};
use crate::support::Backend;

async fn a_subscription_receives_the_changes_committed_after_it_of_its_kinds_and_tenant(
    backend: Backend,
) {
    let f = Fixture::new(backend).await;
    let acme = f.store.create_tenant("acme").await.unwrap();
    let t = f.tenant.id;
    let early = f.created(t, "early", 0).await;
    let creates = f.subscribe(t, Kinds::CREATE, false).await;
    let all = f.subscribe(t, Kinds::ALL, true).await;
    let deactivations = f.subscribe(t, Kinds::DEACTIVATE, false).await;
    let theirs = f.subscribe(acme.id, Kinds::ALL, false).await;
    let ada = f.created(t, "ada", 10).await;
    let put = f.replaced(t, &ada, false, 20).await;
    let disabled = f.replaced(t, &put, true, 30).await;
    let gone = f.deleted(t, &early, 40).await;
    let acmes = f.created(acme.id, "ada", 50).await;
    assert_eq!(
        [&ada, &put, &disabled, &gone].map(|c| c.event.kinds),
        [
            Kinds::CREATE,
            Kinds::PUT,
            Kinds::PATCH.with(Kinds::DEACTIVATE),
            Kinds::DELETE
        ]
    );
    assert_fresh(&f.queue(&creates).await, &[&ada]);
    assert_fresh(&f.queue(&all).await, &[&ada, &put, &disabled, &gone]);
    assert_fresh(&f.queue(&deactivations).await, &[&disabled]);
    assert_fresh(&f.queue(&theirs).await, &[&acmes]);
    // with a `full` subscription, the events carry the document (not the delete's, nor
    // those written before it was added)
    assert_eq!(early.event.data, None);
    assert!(ada.event.data.is_some() && disabled.event.data.is_some());
    let events = f.store.events_after(t, 0, 100).await.unwrap();
    assert_events(&events, &[&early, &ada, &put, &disabled, &gone]);
}

async fn events_after_reads_a_tenants_events_in_commit_order_from_a_seq(backend: Backend) {
    let f = Fixture::new(backend).await;
    let acme = f.store.create_tenant("acme").await.unwrap();
    let quiet = f.store.create_tenant("quiet").await.unwrap();
    let t = f.tenant.id;
    let ada = f.created(t, "ada", 0).await;
    let acmes = f.created(acme.id, "ada", 5).await;
    let bob = f.created(t, "bob", 10).await;
    let put = f.replaced(t, &ada, false, 20).await;
    let gone = f.deleted(t, &bob, 30).await;
    let events = f.store.events_after(t, 0, 100).await.unwrap();
    assert_events(&events, &[&ada, &bob, &put, &gone]);
    let after = f.store.events_after(t, events[1].seq, 100).await.unwrap();
    assert_events(&after, &[&put, &gone]);
    let first = f.store.events_after(t, 0, 2).await.unwrap();
    assert_events(&first, &[&ada, &bob]);
    let last = f.store.last_event(t).await.unwrap();
    assert_eq!(last, events[3].seq);
    assert_eq!(f.store.events_after(t, last, 100).await.unwrap(), []);
    let theirs = f.store.events_after(acme.id, 0, 100).await.unwrap();
    assert_events(&theirs, &[&acmes]);
    assert_eq!(f.store.last_event(acme.id).await.unwrap(), theirs[0].seq);
    assert_eq!(f.store.last_event(quiet.id).await.unwrap(), 0);
    assert_eq!(f.store.events_after(quiet.id, 0, 100).await.unwrap(), []);
}

async fn pruning_keeps_the_events_a_delivery_still_names(backend: Backend) {
    let f = Fixture::new(backend).await;
    let t = f.tenant.id;
    // before any subscription: no delivery names it
    let unwanted = f.created(t, "unwanted", 0).await;
    let s = f.subscribe(t, Kinds::ALL, false).await;
    let waiting = f.created(t, "waiting", 10).await;
    let dropped = f.created(t, "dropped", 20).await;
    let parked = f.created(t, "parked", 30).await;
    let recent = f.created(t, "recent", 200).await;
    let seq = seqs(&f.queue(&s).await);
    let fail = |seq, state, seconds| Failure {
        seq,
        state,
        attempts: 1,
        first_failure: at(seconds),
        status: Some(400),
        error: "invalid_request".into(),
        at: at(seconds),
    };
    f.store
        .failed(s.id, &fail(seq[1], "dropped", 40))
        .await
        .unwrap();
    f.store
        .failed(s.id, &fail(seq[2], "parked", 150))
        .await
        .unwrap();
    f.store.delivered(s.id, &seq[3..], at(210)).await.unwrap();
    let all = f.store.events_after(t, 0, 100).await.unwrap();
    assert_events(&all, &[&unwanted, &waiting, &dropped, &parked, &recent]);

    // before `at(100)`: the dropped delivery, then the events no delivery names
    assert_eq!(f.store.prune_events(at(100), 100).await.unwrap(), 3);
    let kept = f.store.events_after(t, 0, 100).await.unwrap();
    assert_events(&kept, &[&waiting, &parked, &recent]);
    assert_fresh(&f.queue(&s).await, &[&waiting]);
    let failures = f.store.failures(s.id, 10).await.unwrap();
    assert_eq!(failures.iter().map(|d| d.seq).collect::<Vec<_>>(), [seq[2]]);
    assert_eq!(f.store.prune_events(at(100), 100).await.unwrap(), 0);
    // later, the parked delivery and what it named go too; the pending one never
    assert_eq!(f.store.prune_events(at(300), 100).await.unwrap(), 3);
    let kept = f.store.events_after(t, 0, 100).await.unwrap();
    assert_events(&kept, &[&waiting]);
    assert_eq!(f.store.failures(s.id, 10).await.unwrap(), []);
    assert_fresh(&f.queue(&s).await, &[&waiting]);
}

async fn pruning_deletes_at_most_a_batch_of_deliveries_and_of_events(backend: Backend) {
    let f = Fixture::new(backend).await;
    let t = f.tenant.id;
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        f.created(t, name, i64::try_from(i).unwrap()).await;
    }
    let s = f.subscribe(t, Kinds::ALL, false).await;
    for (i, name) in ["d", "e", "f"].iter().enumerate() {
        f.created(t, name, 10 + i64::try_from(i).unwrap()).await;
    }
    for seq in seqs(&f.queue(&s).await) {
        let dropped = Failure {
            seq,
            state: "dropped",
            attempts: 1,
            first_failure: at(20),
            status: Some(400),
            error: "invalid_request".into(),
            at: at(20),
        };
        f.store.failed(s.id, &dropped).await.unwrap();
    }
    // two deliveries and two events at a time, oldest events first
    assert_eq!(f.store.prune_events(at(100), 2).await.unwrap(), 4);
    assert_eq!(f.store.prune_events(at(100), 2).await.unwrap(), 3);
    assert_eq!(f.store.prune_events(at(100), 2).await.unwrap(), 2);
    assert_eq!(f.store.prune_events(at(100), 2).await.unwrap(), 0);
    assert_eq!(f.store.events_after(t, 0, 100).await.unwrap(), []);
    assert_eq!(f.store.failures(s.id, 10).await.unwrap(), []);
}

async fn a_paused_subscriptions_old_pending_deliveries_are_parked_in_batches(backend: Backend) {
    let f = Fixture::new(backend).await;
    let t = f.tenant.id;
    let paused = f.subscribe(t, Kinds::ALL, false).await;
    let also = f.subscribe(t, Kinds::ALL, false).await;
    let active = f.subscribe(t, Kinds::ALL, false).await;
    let ada = f.created(t, "ada", 0).await;
    let bob = f.created(t, "bob", 10).await;
    let carol = f.created(t, "carol", 200).await;
    let queue = f.queue(&paused).await;
    let tried = Failure {
        seq: queue[0].event.seq,
        state: "pending",
        attempts: 2,
        first_failure: at(5),
        status: Some(503),
        error: "503 Service Unavailable".into(),
        at: at(5),
    };
    f.store.failed(paused.id, &tried).await.unwrap();
    for s in [&paused, &also] {
        f.store.set_paused(s.id, true).await.unwrap();
    }
    let error = "paused for too long";
    // one of each paused queue at a time, of the events before `at(100)`
    for _ in 0..2 {
        let parked = f.store.park_paused(at(100), at(300), error, 1).await;
        assert_eq!(parked.unwrap(), 2);
    }
    assert_eq!(
        f.store
            .park_paused(at(100), at(300), error, 1)
            .await
            .unwrap(),
        0
    );
    let parked = |i: usize, attempts, status| FailedDelivery {
        subscription: paused.id,
        seq: queue[i].event.seq,
        event: queue[i].event.id,
        resource_type: "User".into(),
        resource_id: queue[i].event.resource_id,
        state: "parked".into(),
        attempts,
        failed_at: Some(at(300)),
        last_status: status,
        last_error: Some(error.into()),
    };
    assert_eq!(
        f.store.failures(paused.id, 10).await.unwrap(),
        [parked(1, 0, None), parked(0, 2, Some(503))]
    );
    let counted = Subscription {
        paused: true,
        failed: 2,
        backlog: 1,
        last_error: Some(error.into()),
        last_error_at: Some(at(300)),
        ..paused.clone()
    };
    assert_eq!(f.store.subscription(paused.id).await.unwrap(), counted);
    assert_eq!(f.store.failures(also.id, 10).await.unwrap().len(), 2);
    // the active one is left alone, and the paused one keeps what is recent
    assert_fresh(&f.queue(&active).await, &[&ada, &bob, &carol]);
    assert_eq!(f.store.subscription(active.id).await.unwrap().failed, 0);
    f.store.set_paused(paused.id, false).await.unwrap();
    assert_fresh(&f.queue(&paused).await, &[&carol]);
    assert_eq!(
        f.store
            .park_paused(at(1000), at(1000), error, 10)
            .await
            .unwrap(),
        1
    );
}

crate::on_both_stores!(
    a_subscription_receives_the_changes_committed_after_it_of_its_kinds_and_tenant,
    events_after_reads_a_tenants_events_in_commit_order_from_a_seq,
    pruning_keeps_the_events_a_delivery_still_names,
    pruning_deletes_at_most_a_batch_of_deliveries_and_of_events,
    a_paused_subscriptions_old_pending_deliveries_are_parked_in_batches,
);
