//! Positions of pulled events: stamped on a tenant's committed events in commit order, read
//! after a position by kind, and a pull consumer's acknowledgement, which takes its delivery
//! rows up to a position and nothing after it. On PostgreSQL, an event whose transaction
//! commits after a later event's is stamped after it, so a reader past the later one still
//! gets it.

use scimd::domain::events::{Kinds, NewSubscription};
use scimd::store::{EventStore, Tenants};
use sqlx::{Connection, PgConnection};

use super::super::{Fixture, at};
use crate::support::Backend;

crate::on_both_stores!(stamps_follow_commits_and_reads_and_acknowledgements_go_by_them);

async fn stamps_follow_commits_and_reads_and_acknowledgements_go_by_them(backend: Backend) {
    let f = Fixture::new(backend).await;
    let new = NewSubscription {
        tenant: f.tenant.id,
        url: String::new(),
        kinds: Kinds::ALL,
        full: false,
        secret: "whsec-0123456789abcdef0123456789abcdef".into(),
        pull: true,
    };
    let consumer = f.store.add_subscription(&new, at(0)).await.unwrap();
    assert!(consumer.pull);
    let ada = f.created(f.tenant.id, "ada", 1).await;
    let bob = f.created(f.tenant.id, "bob", 2).await;
    f.replaced(f.tenant.id, &ada, true, 3).await;
    // nothing is read before it is stamped; stamping takes the committed ones, at most a batch
    let read = |after| f.store.stamped_events(f.tenant.id, Kinds::ALL, after, 10);
    assert!(read(0).await.unwrap().is_empty());
    assert_eq!(f.store.stamp_events(f.tenant.id, 2).await.unwrap(), 2);
    assert_eq!(f.store.stamp_events(f.tenant.id, 2).await.unwrap(), 1);
    assert_eq!(f.store.stamp_events(f.tenant.id, 2).await.unwrap(), 0);
    let all = read(0).await.unwrap();
    let positions: Vec<i64> = all.iter().map(|(p, _)| *p).collect();
    assert_eq!(positions, [1, 2, 3]);
    let users: Vec<_> = all.iter().map(|(_, e)| e.resource_id).collect();
    assert_eq!(
        users,
        [ada.resource.id.0, bob.resource.id.0, ada.resource.id.0]
    );
    // by kind, and after a position
    let creates = f
        .store
        .stamped_events(f.tenant.id, Kinds::CREATE, 0, 10)
        .await
        .unwrap();
    assert_eq!(creates.len(), 2);
    assert_eq!(read(2).await.unwrap().len(), 1);
    // another tenant's events are stamped and read apart
    let acme = f.store.create_tenant("acme").await.unwrap();
    f.created(acme.id, "eve", 4).await;
    assert_eq!(f.store.stamp_events(acme.id, 10).await.unwrap(), 1);
    let theirs = f
        .store
        .stamped_events(acme.id, Kinds::ALL, 0, 10)
        .await
        .unwrap();
    assert_eq!(theirs[0].0, 1);
    // acknowledging up to 2 takes the consumer's first two deliveries, counted as delivered
    assert_eq!(f.store.subscription(consumer.id).await.unwrap().backlog, 3);
    assert_eq!(f.store.acknowledge(consumer.id, 2, at(5)).await.unwrap(), 2);
    let after = f.store.subscription(consumer.id).await.unwrap();
    assert_eq!(
        (after.backlog, after.delivered, after.acknowledged),
        (1, 2, 2)
    );
    assert_eq!(after.last_success, Some(at(5)));
    let read = f.store.receiver(consumer.id).await.unwrap();
    assert_eq!(
        (read.pull, read.acknowledged),
        (true, 2),
        "the consumer as a read reads it"
    );
    // an older position acknowledges nothing more
    assert_eq!(f.store.acknowledge(consumer.id, 1, at(6)).await.unwrap(), 0);
    assert_eq!(
        f.store
            .subscription(consumer.id)
            .await
            .unwrap()
            .acknowledged,
        2
    );
    // the dispatcher never claims a pull consumer, though it has a delivery pending
    let claimed = f.store.claim("me", at(7), at(37), 10).await.unwrap();
    assert!(claimed.iter().all(|r| r.id != consumer.id), "{claimed:?}");
}

/// PostgreSQL only: on SQLite a transaction holds the one writer's lock until it commits, so
/// no event can commit after a later one (the test above stands for it there).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_committed_late_is_stamped_after_those_committed_before_it_on_postgres() {
    let f = Fixture::new(Backend::Postgres).await;
    // a transaction that wrote its event first, and commits last
    let mut slow = PgConnection::connect(&f.db.url).await.unwrap();
    let mut tx = slow.begin().await.unwrap();
    sqlx::query(
        "insert into events (id, tenant_id, at, txn, resource_type, resource_id, kinds)
         values (gen_random_uuid(), $1, now(), 'req-slow', 'User', gen_random_uuid(), 1)",
    )
    .bind(f.tenant.id.0)
    .execute(&mut *tx)
    .await
    .unwrap();
    let quick = f.created(f.tenant.id, "quick", 1).await;
    assert_eq!(f.store.stamp_events(f.tenant.id, 100).await.unwrap(), 1);
    let first = f
        .store
        .stamped_events(f.tenant.id, Kinds::ALL, 0, 10)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].0, first[0].1.resource_id),
        (1, quick.resource.id.0)
    );
    tx.commit().await.unwrap();
    // the reader past position 1 gets the late one, though its seq is lower
    assert_eq!(f.store.stamp_events(f.tenant.id, 100).await.unwrap(), 1);
    let late = f
        .store
        .stamped_events(f.tenant.id, Kinds::ALL, 1, 10)
        .await
        .unwrap();
    assert_eq!(late.len(), 1, "{late:?}");
    assert_eq!((late[0].0, late[0].1.txn.as_str()), (2, "req-slow"));
    assert!(late[0].1.seq < first[0].1.seq);
}
