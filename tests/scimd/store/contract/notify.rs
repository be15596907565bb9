//! The notifier's part of the store: a change fanned out once into one row per channel and
//! recipient, however often and by however many stores; rows leased to one owner at a time, a
//! lapsed lease taken over, a row settled only by its holder (sent, retried later, given up).

use uuid::Uuid;

use scimd::domain::health::{Change, Recorded, State};
use scimd::domain::notify::{Channel, Delivery};
use scimd::store::{HealthStore, NotifyStore};

use super::{Fixture, at};
use crate::support::{Backend, open_store};

async fn a_change_is_fanned_out_once_and_each_row_sent_by_the_holder_of_its_lease(
    backend: Backend,
) {
    let f = Fixture::new(backend).await;
    let t = f.tenant.id;
    let recorded = Recorded {
        state: State::Degraded,
        since: at(0),
        reasons: Vec::new(),
        checked: at(0),
        last_accepted: None,
    };
    let change = Change {
        seq: 0,
        id: Uuid::new_v4(),
        tenant: "default".into(),
        previous: Some(State::Healthy),
        state: State::Degraded,
        at: at(0),
        reasons: Vec::new(),
    };
    assert!(
        f.store
            .record_health(t, None, &recorded, Some(&change))
            .await
            .unwrap()
    );
    let unfanned = f.store.unfanned(10).await.unwrap();
    assert_eq!(unfanned.len(), 1);
    assert_eq!((unfanned[0].tenant, unfanned[0].change.id), (t, change.id));
    let seq = unfanned[0].change.seq;
    let rows = [
        (Channel::Email, "ops@default.test".to_owned()),
        (Channel::Webhook, "https://ops.example/alerts".to_owned()),
    ];
    f.store.fan_out(seq, &rows, at(1)).await.unwrap();
    // again, and from another store on the same database: nothing more
    f.store.fan_out(seq, &rows, at(2)).await.unwrap();
    let replica = open_store(&f.db.url).await;
    replica.fan_out(seq, &rows, at(2)).await.unwrap();
    assert!(f.store.unfanned(10).await.unwrap().is_empty());
    assert_eq!(f.store.pending_notifications().await.unwrap(), 2);

    let leased = f
        .store
        .claim_notifications("a", at(5), at(65), 10)
        .await
        .unwrap();
    assert_eq!(leased.len(), 2);
    assert!(
        leased
            .iter()
            .all(|n| n.change.id == change.id && n.attempts == 0)
    );
    assert!(
        replica
            .claim_notifications("b", at(6), at(66), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let (mail, hook) = match leased[0].channel {
        Channel::Email => (&leased[0], &leased[1]),
        Channel::Webhook => (&leased[1], &leased[0]),
    };
    assert_eq!(mail.recipient, "ops@default.test");
    // only the holder settles
    assert!(
        !replica
            .settle_notification(mail.id, "b", at(7), None)
            .await
            .unwrap()
    );
    assert!(
        f.store
            .settle_notification(mail.id, "a", at(7), None)
            .await
            .unwrap()
    );
    let failed = Some(("HTTP 503", Some(at(100))));
    assert!(
        f.store
            .settle_notification(hook.id, "a", at(8), failed)
            .await
            .unwrap()
    );
    assert_eq!(f.store.pending_notifications().await.unwrap(), 1);
    // not due before its retry; then leased, and its lease taken over once it lapsed
    assert!(
        replica
            .claim_notifications("b", at(99), at(159), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        replica
            .claim_notifications("b", at(100), at(160), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        f.store
            .claim_notifications("a", at(150), at(210), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let taken = f
        .store
        .claim_notifications("a", at(161), at(221), 10)
        .await
        .unwrap();
    assert_eq!((taken.len(), taken[0].attempts), (1, 1));
    assert!(
        !replica
            .settle_notification(hook.id, "b", at(162), None)
            .await
            .unwrap()
    );
    let given_up = Some(("HTTP 503 again", None));
    assert!(
        f.store
            .settle_notification(hook.id, "a", at(163), given_up)
            .await
            .unwrap()
    );

    let kept = f.store.notifications(t, 10).await.unwrap();
    assert_eq!(kept.len(), 2);
    let sent = kept.iter().find(|n| n.channel == Channel::Email).unwrap();
    assert_eq!(
        (sent.state, sent.attempts, sent.sent_at),
        (Delivery::Sent, 1, Some(at(7)))
    );
    let gone = kept.iter().find(|n| n.channel == Channel::Webhook).unwrap();
    assert_eq!((gone.state, gone.attempts), (Delivery::GivenUp, 2));
    assert_eq!(gone.last_error.as_deref(), Some("HTTP 503 again"));
    assert_eq!(f.store.pending_notifications().await.unwrap(), 0);
}

async fn notification_addresses_are_kept_in_order_and_admins_opt_in(backend: Backend) {
    let f = Fixture::new(backend).await;
    let t = f.tenant.id;
    let list = ["b@default.test".to_owned(), "a@default.test".to_owned()];
    f.store.set_notify_addresses(t, &list).await.unwrap();
    assert_eq!(f.store.notify_addresses(t).await.unwrap(), list);
    f.store.set_notify_addresses(t, &[]).await.unwrap();
    assert!(f.store.notify_addresses(t).await.unwrap().is_empty());
    use scimd::store::OAuthStore;
    f.store.add_admin(t, "Alice", "hash", true).await.unwrap();
    f.store
        .set_admin_notify(t, "alice", Some("alice@default.test"))
        .await
        .unwrap();
    assert_eq!(
        f.store.admin_notify(t).await.unwrap(),
        [("Alice".to_owned(), "alice@default.test".to_owned(), true)]
    );
    assert!(f.store.set_admin_notify(t, "nobody", None).await.is_err());
    f.store.set_admin_notify(t, "ALICE", None).await.unwrap();
    assert!(f.store.admin_notify(t).await.unwrap().is_empty());
}

crate::on_both_stores!(
    a_change_is_fanned_out_once_and_each_row_sent_by_the_holder_of_its_lease,
    notification_addresses_are_kept_in_order_and_admins_opt_in,
);
