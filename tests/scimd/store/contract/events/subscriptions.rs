//! Subscriptions: added and read back with their receiver and delivery state, listed for
//! every tenant or one, paused and resumed, given a new secret, removed with what they had
//! still to receive; unknown ones are not found.

use uuid::Uuid;

use scimd::domain::events::{Kinds, Receiver, Subscription};
use scimd::store::{EventStore, Missing, StoreError, Tenants};

use super::super::{Fixture, at};
use super::assert_fresh;
use crate::support::Backend;

async fn an_added_subscription_is_read_back_with_its_receiver_and_delivery_state(backend: Backend) {
    let f = Fixture::new(backend).await;
    let acme = f.store.create_tenant("acme").await.unwrap();
    let mine = f
        .subscribe(f.tenant.id, Kinds::CREATE.with(Kinds::DELETE), false)
        .await;
    let theirs = f.subscribe(acme.id, Kinds::ALL, true).await;
    assert_eq!(
        mine,
        Subscription {
            id: mine.id,
            tenant: f.tenant.id,
            tenant_name: "default".into(),
            url: mine.url.clone(),
            kinds: Kinds(9),
            full: false,
            pull: false,
            acknowledged: 0,
            paused: false,
            created: at(0),
            delivered: 0,
            failed: 0,
            backlog: 0,
            last_success: None,
            last_error: None,
            last_error_at: None,
            retry_at: None,
        }
    );
    assert!(mine.url.starts_with("https://hooks.example/"));
    assert_ne!(mine.id, theirs.id);
    assert_eq!((theirs.tenant_name.as_str(), theirs.full), ("acme", true));
    assert_eq!(f.store.subscription(mine.id).await.unwrap(), mine);
    assert_eq!(
        f.store.receiver(mine.id).await.unwrap(),
        Receiver {
            id: mine.id,
            tenant: f.tenant.id,
            url: mine.url.clone(),
            kinds: mine.kinds,
            full: false,
            secret: "whsec-0123456789abcdef0123456789abcdef".into(),
            pull: false,
            acknowledged: 0,
        }
    );
    // by tenant name
    let all = f.store.subscriptions(None).await.unwrap();
    assert_eq!(all, [theirs.clone(), mine.clone()]);
    let one = f.store.subscriptions(Some(f.tenant.id)).await.unwrap();
    assert_eq!(one, std::slice::from_ref(&mine));
    // a change of the tenant is its backlog
    f.created(f.tenant.id, "ada", 10).await;
    let now = f.store.subscription(mine.id).await.unwrap();
    assert_eq!(now, Subscription { backlog: 1, ..mine });
    assert_eq!(f.store.subscription(theirs.id).await.unwrap(), theirs);
}

async fn an_unknown_subscription_is_not_found(backend: Backend) {
    let f = Fixture::new(backend).await;
    let id = Uuid::new_v4();
    macro_rules! missing {
        ($call:expr) => {
            assert_err!(
                $call.await,
                StoreError::NotFound(Missing::Subscription { id: i }) if *i == id
            )
        };
    }
    missing!(f.store.subscription(id));
    missing!(f.store.receiver(id));
    missing!(f.store.set_paused(id, true));
    missing!(f.store.set_secret(id, "s"));
    missing!(f.store.remove_subscription(id));
    assert_eq!(f.store.subscriptions(None).await.unwrap(), []);
}

async fn pausing_clears_retry_at_and_a_new_secret_is_the_receivers(backend: Backend) {
    let f = Fixture::new(backend).await;
    let s = f.subscribe(f.tenant.id, Kinds::ALL, false).await;
    let other = f.subscribe(f.tenant.id, Kinds::ALL, false).await;
    f.created(f.tenant.id, "ada", 10).await;
    // a delivery failed: no retry before `at(100)`
    f.store.claim("w", at(20), at(50), 10).await.unwrap();
    f.store.release(s.id, "w", Some(at(100))).await.unwrap();
    let waiting = f.store.subscription(s.id).await.unwrap();
    assert_eq!(waiting.retry_at, Some(at(100)));
    f.store.set_paused(s.id, true).await.unwrap();
    let paused = Subscription {
        paused: true,
        retry_at: None,
        ..waiting.clone()
    };
    assert_eq!(f.store.subscription(s.id).await.unwrap(), paused);
    let receiver = f.store.receiver(s.id).await.unwrap();
    f.store.set_secret(s.id, "whsec-rotated").await.unwrap();
    assert_eq!(
        f.store.receiver(s.id).await.unwrap(),
        Receiver {
            secret: "whsec-rotated".into(),
            ..receiver
        }
    );
    assert_eq!(f.store.subscription(s.id).await.unwrap(), paused);
    f.store.set_paused(s.id, false).await.unwrap();
    let resumed = Subscription {
        paused: false,
        ..paused
    };
    assert_eq!(f.store.subscription(s.id).await.unwrap(), resumed);
    // the other one is untouched
    let other_now = f.store.subscription(other.id).await.unwrap();
    assert_eq!((other_now.paused, other_now.backlog), (false, 1));
    let secret = f.store.receiver(other.id).await.unwrap().secret;
    assert_eq!(secret, "whsec-0123456789abcdef0123456789abcdef");
}

async fn a_removed_subscription_takes_what_it_had_still_to_receive(backend: Backend) {
    let f = Fixture::new(backend).await;
    let gone = f.subscribe(f.tenant.id, Kinds::ALL, false).await;
    let kept = f.subscribe(f.tenant.id, Kinds::ALL, false).await;
    let ada = f.created(f.tenant.id, "ada", 10).await;
    let bob = f.created(f.tenant.id, "bob", 20).await;
    assert_eq!(f.store.pending_count().await.unwrap(), 4);
    f.store.remove_subscription(gone.id).await.unwrap();
    assert_err!(
        f.store.subscription(gone.id).await,
        StoreError::NotFound(Missing::Subscription { .. })
    );
    assert_eq!(f.store.pending(gone.id, 10).await.unwrap(), []);
    assert_eq!(f.store.pending_count().await.unwrap(), 2);
    let listed = f.store.subscriptions(Some(f.tenant.id)).await.unwrap();
    assert_eq!(
        listed,
        [Subscription {
            backlog: 2,
            ..kept.clone()
        }]
    );
    assert_fresh(&f.queue(&kept).await, &[&ada, &bob]);
    // the events stay for those who still want them
    let events = f.store.events_after(f.tenant.id, 0, 10).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_err!(
        f.store.remove_subscription(gone.id).await,
        StoreError::NotFound(Missing::Subscription { .. })
    );
}

crate::on_both_stores!(
    an_added_subscription_is_read_back_with_its_receiver_and_delivery_state,
    an_unknown_subscription_is_not_found,
    pausing_clears_retry_at_and_a_new_secret_is_the_receivers,
    a_removed_subscription_takes_what_it_had_still_to_receive,
);
