//! Leases: `claim` leases to one owner the subscriptions with deliveries due (pending, not
//! paused, not waiting for `retry_at`) and no live lease, at most `limit`, and owners claiming
//! at once each get different ones; `renew` extends only the owner's lease; `release` gives
//! it up, holding delivery back until `retry_at` when given.

use std::collections::BTreeSet;

use uuid::Uuid;

use scimd::domain::events::{Kinds, Receiver, Subscription};
use scimd::store::EventStore;

use super::super::{Fixture, all_at_once, at};
use crate::support::Backend;

/// No subscription.
const NONE: [Uuid; 0] = [];

impl Fixture {
    /// The ids of the subscriptions `owner` claims at `at(now)` until `at(until)`.
    async fn claimed(&self, owner: &str, now: i64, until: i64, limit: u32) -> Vec<Uuid> {
        let claimed = self.store.claim(owner, at(now), at(until), limit).await;
        let mut ids: Vec<Uuid> = claimed.unwrap().iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids
    }

    /// `count` subscriptions of tenant `default` to every kind, with `ada`'s creation due.
    async fn due(&self, count: usize) -> Vec<Subscription> {
        let mut subscriptions = Vec::new();
        for _ in 0..count {
            subscriptions.push(self.subscribe(self.tenant.id, Kinds::ALL, false).await);
        }
        self.created(self.tenant.id, "ada", 1).await;
        subscriptions.sort_by_key(|s| s.id);
        subscriptions
    }
}

async fn claim_leases_the_subscriptions_with_deliveries_due_and_no_live_lease(backend: Backend) {
    let f = Fixture::new(backend).await;
    let t = f.tenant.id;
    let due = f.subscribe(t, Kinds::CREATE, false).await;
    let waiting = f.subscribe(t, Kinds::CREATE, false).await;
    let paused = f.subscribe(t, Kinds::CREATE, false).await;
    let idle = f.subscribe(t, Kinds::DELETE, false).await;
    assert_eq!(f.claimed("w1", 0, 10, 10).await, NONE);
    f.created(t, "ada", 1).await;
    f.store.set_paused(paused.id, true).await.unwrap();
    let both = f.claimed("setup", 2, 10, 10).await;
    let mut expected = vec![due.id, waiting.id];
    expected.sort_unstable();
    assert_eq!(both, expected);
    f.store.release(due.id, "setup", None).await.unwrap();
    f.store
        .release(waiting.id, "setup", Some(at(100)))
        .await
        .unwrap();
    // due alone, with its receiver
    let claimed = f.store.claim("w1", at(20), at(50), 10).await.unwrap();
    let receiver: Receiver = f.store.receiver(due.id).await.unwrap();
    assert_eq!(claimed, [receiver]);
    // leased until `at(50)`: nobody else has it before then
    assert_eq!(f.claimed("w2", 30, 60, 10).await, NONE);
    assert_eq!(f.claimed("w2", 50, 60, 10).await, NONE);
    assert_eq!(f.claimed("w2", 51, 500, 10).await, [due.id]);
    // the one waiting is due again at `at(100)`
    assert_eq!(f.claimed("w3", 99, 130, 10).await, NONE);
    assert_eq!(f.claimed("w3", 100, 130, 10).await, [waiting.id]);
    // never the paused one, nor one with nothing to deliver
    assert_eq!(f.claimed("w4", 1000, 1030, 10).await.len(), 2);
    let later = f.claimed("w5", 2000, 2030, 10).await;
    assert!(
        !later.contains(&paused.id) && !later.contains(&idle.id),
        "{later:?}"
    );
}

async fn claim_leases_at_most_limit_subscriptions(backend: Backend) {
    let f = Fixture::new(backend).await;
    let due = f.due(3).await;
    let first = f.claimed("w1", 10, 40, 2).await;
    assert_eq!(first.len(), 2);
    let rest = f.claimed("w2", 10, 40, 2).await;
    assert_eq!(rest.len(), 1);
    let all: BTreeSet<Uuid> = first.iter().chain(&rest).copied().collect();
    assert_eq!(all, due.iter().map(|s| s.id).collect());
    assert_eq!(f.claimed("w3", 10, 40, 2).await, NONE);
}

async fn renew_extends_only_the_owners_lease(backend: Backend) {
    let f = Fixture::new(backend).await;
    let s = f.due(1).await.remove(0);
    assert_eq!(f.claimed("w1", 0, 10, 10).await, [s.id]);
    assert!(!f.store.renew(s.id, "w2", at(100)).await.unwrap());
    assert!(f.store.renew(s.id, "w1", at(100)).await.unwrap());
    // extended: not claimable before `at(100)`
    assert_eq!(f.claimed("w2", 50, 130, 10).await, NONE);
    assert_eq!(f.claimed("w2", 101, 130, 10).await, [s.id]);
    // now w2's
    assert!(!f.store.renew(s.id, "w1", at(200)).await.unwrap());
    assert!(f.store.renew(s.id, "w2", at(200)).await.unwrap());
    // a paused subscription's lease is no longer renewed
    f.store.set_paused(s.id, true).await.unwrap();
    assert!(!f.store.renew(s.id, "w2", at(300)).await.unwrap());
    assert!(!f.store.renew(Uuid::new_v4(), "w2", at(300)).await.unwrap());
}

async fn release_gives_the_lease_up_and_retry_at_holds_delivery_back(backend: Backend) {
    let f = Fixture::new(backend).await;
    let s = f.due(1).await.remove(0);
    assert_eq!(f.claimed("w1", 0, 100, 10).await, [s.id]);
    // only the owner gives it up
    f.store.release(s.id, "w2", None).await.unwrap();
    assert_eq!(f.claimed("w3", 10, 40, 10).await, NONE);
    f.store.release(s.id, "w1", Some(at(50))).await.unwrap();
    let waiting = f.store.subscription(s.id).await.unwrap();
    assert_eq!(waiting.retry_at, Some(at(50)));
    assert_eq!(f.claimed("w3", 49, 80, 10).await, NONE);
    assert_eq!(f.claimed("w3", 50, 80, 10).await, [s.id]);
    f.store.release(s.id, "w3", None).await.unwrap();
    assert_eq!(f.store.subscription(s.id).await.unwrap().retry_at, None);
    assert_eq!(f.claimed("w4", 51, 80, 10).await, [s.id]);
    // releasing an unknown one is no error
    f.store.release(Uuid::new_v4(), "w4", None).await.unwrap();
}

/// Owners claiming at once (replicas whose dispatchers woke together): each subscription is
/// leased to exactly one of them.
async fn owners_claiming_at_once_lease_each_subscription_to_one_of_them(backend: Backend) {
    let f = Fixture::new(backend).await;
    let due = f.due(6).await;
    let claims = all_at_once(8, |i| {
        let store = f.store.clone();
        async move {
            let owner = format!("w{i}");
            let claimed = store.claim(&owner, at(10), at(40), 6).await.unwrap();
            (owner, claimed.into_iter().map(|r| r.id).collect::<Vec<_>>())
        }
    })
    .await;
    let mut leased: Vec<Uuid> = claims.iter().flat_map(|(_, ids)| ids.clone()).collect();
    leased.sort_unstable();
    let expected: Vec<Uuid> = due.iter().map(|s| s.id).collect();
    assert_eq!(leased, expected, "{claims:?}");
    // each lease is its claimant's, and no one else's
    for (owner, ids) in &claims {
        for id in ids {
            assert!(!f.store.renew(*id, "nobody", at(40)).await.unwrap());
            assert!(f.store.renew(*id, owner, at(40)).await.unwrap(), "{owner}");
        }
    }
}

crate::on_both_stores!(
    claim_leases_the_subscriptions_with_deliveries_due_and_no_live_lease,
    claim_leases_at_most_limit_subscriptions,
    renew_extends_only_the_owners_lease,
    release_gives_the_lease_up_and_retry_at_holds_delivery_back,
    owners_claiming_at_once_lease_each_subscription_to_one_of_them,
);
