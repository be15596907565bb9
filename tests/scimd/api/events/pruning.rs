//! Pruning the outbox and parking paused queues, with time driven by the arguments (`now`) and
//! by events written with old timestamps, never by waiting: events older than
//! `SCIMD_EVENTS_RETENTION` go unless a delivery row still refers to that very event, so a
//! paused webhook of one tenant keeps none of another tenant's events; a paused webhook's
//! events that waited longer than `SCIMD_EVENTS_RETRY_FOR` are parked like those of a failing
//! receiver, then pruned after the retention, and `webhook retry` sends them once resumed.

use chrono::{TimeDelta, Utc};
use scimd::domain::events::Kinds;
use scimd::store::EventStore;

use super::{Events, WAIT};
use crate::api::extensions::{call_as, tenant_with_token};
use crate::support::receiver::Receiver;
use crate::support::{Backend, TestApp, TestDb, entra_user, execute_sql, open_store};

/// `SCIMD_EVENTS_RETENTION` and `SCIMD_EVENTS_RETRY_FOR` by default.
const RETENTION: TimeDelta = TimeDelta::days(7);
const RETRY_FOR: TimeDelta = TimeDelta::days(3);

/// The `last_error` of a delivery parked because its subscription stayed paused.
const PAUSED_TOO_LONG: &str = "events waited longer than SCIMD_EVENTS_RETRY_FOR (3d) in a paused \
     webhook or an unread pull consumer: resume the webhook and retry the parked events, or read \
     the consumer's events, which acknowledges them";

/// Moves every event of the outbox `days` days into the past, behind scimd's back.
async fn backdate_events(db: &TestDb, days: i64) {
    let shift = match db.backend {
        Backend::Postgres => format!("at - interval '{days} days'"),
        Backend::Sqlite => format!("at - {}", days * 86_400_000),
    };
    execute_sql(db, &[format!("update events set at = {shift}")]).await;
}

/// Creates user `name` in tenant `default`.
async fn create(app: &TestApp, name: &str) {
    let r = app.post("/scim/v2/Users", entra_user(name)).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
}

async fn events_past_the_retention_are_pruned_unless_a_delivery_still_needs_them(backend: Backend) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;

    // an event before any subscription: no delivery needs it
    create(&app, "early@contoso.com").await;
    let hook = dir
        .add_webhook("default", "http://127.0.0.1:9/events", Kinds::ALL, false)
        .await
        .unwrap();
    let id = hook.subscription.id.to_string();
    dir.pause_webhook(&id, true).await.unwrap();
    for name in ["queued1@contoso.com", "queued2@contoso.com"] {
        create(&app, name).await;
    }
    let all = dir.events_after("default", 0, 100).await.unwrap();
    assert_eq!(all.len(), 3);

    // within the retention nothing goes
    let now = Utc::now();
    assert_eq!(dir.prune_events(now).await.unwrap(), 0);
    // past it, only the event no delivery needs
    let later = now + RETENTION + TimeDelta::seconds(1);
    assert_eq!(dir.prune_events(later).await.unwrap(), 1);
    let kept = dir.events_after("default", 0, 100).await.unwrap();
    assert_eq!(
        kept.iter().map(|e| e.seq).collect::<Vec<_>>(),
        all[1..].iter().map(|e| e.seq).collect::<Vec<_>>()
    );
    assert_eq!(dir.webhook(&id).await.unwrap().backlog, 2);

    // once the subscription (and its queue) is gone, so are they
    dir.remove_webhook(&id).await.unwrap();
    assert_eq!(dir.prune_events(later).await.unwrap(), 2);
    assert!(
        dir.events_after("default", 0, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_paused_webhook_of_another_tenant_keeps_none_of_a_tenants_delivered_events(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    // tenant fabrikam's paused webhook queues the oldest events of the outbox
    let token = tenant_with_token(&app, "fabrikam").await;
    let paused = dir
        .add_webhook("fabrikam", "http://127.0.0.1:9/paused", Kinds::ALL, true)
        .await
        .unwrap();
    let paused_id = paused.subscription.id.to_string();
    dir.pause_webhook(&paused_id, true).await.unwrap();
    for name in ["f1@fabrikam.com", "f2@fabrikam.com"] {
        let body = Some(entra_user(name));
        let r = call_as(
            &app,
            &token,
            axum::http::Method::POST,
            "/scim/v2/Users",
            body,
        )
        .await;
        assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    }
    // tenant default's events come after them, and are delivered
    let hook = dir
        .add_webhook("default", "http://127.0.0.1:9/events", Kinds::ALL, true)
        .await
        .unwrap();
    for name in ["d1@contoso.com", "d2@contoso.com"] {
        create(&app, name).await;
    }
    let delivered: Vec<i64> = dir
        .events_after("default", 0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    let theirs = dir.events_after("fabrikam", 0, 100).await.unwrap();
    assert!(theirs.iter().all(|e| delivered.iter().all(|d| e.seq < *d)));
    let store = open_store(&app.db.url).await;
    let id = hook.subscription.id;
    store.delivered(id, &delivered, Utc::now()).await.unwrap();
    assert_eq!(dir.webhook(&id.to_string()).await.unwrap().backlog, 0);

    let later = Utc::now() + RETENTION + TimeDelta::seconds(1);
    assert_eq!(dir.prune_events(later).await.unwrap(), 2);
    assert!(
        dir.events_after("default", 0, 100)
            .await
            .unwrap()
            .is_empty(),
        "tenant default's delivered events are pruned"
    );
    let kept = dir.events_after("fabrikam", 0, 100).await.unwrap();
    assert_eq!(
        kept.iter().map(|e| e.seq).collect::<Vec<_>>(),
        theirs.iter().map(|e| e.seq).collect::<Vec<_>>(),
        "the paused queue keeps its own events"
    );
    let queue = dir.webhook(&paused_id).await.unwrap();
    assert_eq!((queue.backlog, queue.failed), (2, 0));
}

async fn a_paused_webhooks_old_events_are_parked_after_retry_for_then_pruned_after_the_retention(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    let hook = dir
        .add_webhook("default", "http://127.0.0.1:9/events", Kinds::ALL, true)
        .await
        .unwrap();
    let id = hook.subscription.id.to_string();
    dir.pause_webhook(&id, true).await.unwrap();
    for name in ["old1@contoso.com", "old2@contoso.com"] {
        create(&app, name).await;
    }
    backdate_events(&app.db, RETRY_FOR.num_days() + 1).await;
    create(&app, "recent@contoso.com").await;
    let all = dir.events_after("default", 0, 100).await.unwrap();
    assert_eq!(all.len(), 3);

    let now = scimd::service::now();
    assert_eq!(dir.park_paused(now).await.unwrap(), 2);
    assert_eq!(dir.park_paused(now).await.unwrap(), 0, "parked once");
    let s = dir.webhook(&id).await.unwrap();
    assert_eq!((s.backlog, s.failed, s.delivered), (1, 2, 0));
    assert_eq!(s.last_error.as_deref(), Some(PAUSED_TOO_LONG));
    assert_eq!(s.last_error_at, Some(now));
    assert!(s.paused, "still paused: parking is no resume");
    let mut parked = dir.webhook_failures(&id, 100).await.unwrap();
    parked.sort_by_key(|f| f.seq);
    assert_eq!(
        parked.iter().map(|f| f.seq).collect::<Vec<_>>(),
        [all[0].seq, all[1].seq]
    );
    for f in &parked {
        assert_eq!(f.state, "parked");
        assert_eq!(f.failed_at, Some(now));
        assert_eq!(f.last_error.as_deref(), Some(PAUSED_TOO_LONG));
    }

    // parked rows are kept for the retention, then go with their events; the recent event
    // stays, still pending
    assert_eq!(dir.prune_events(now + RETENTION).await.unwrap(), 0);
    let later = now + RETENTION + TimeDelta::seconds(1);
    assert_eq!(dir.prune_events(later).await.unwrap(), 4);
    let kept = dir.events_after("default", 0, 100).await.unwrap();
    assert_eq!(kept.iter().map(|e| e.seq).collect::<Vec<_>>(), [all[2].seq]);
    assert!(dir.webhook_failures(&id, 100).await.unwrap().is_empty());
    assert_eq!(dir.webhook(&id).await.unwrap().backlog, 1);
}

async fn a_resumed_webhook_gets_its_parked_events_when_they_are_retried(backend: Backend) {
    let scimd = Events::start(backend).await;
    let dir = &scimd.state.directory;
    let receiver = Receiver::start().await;
    let hook = scimd.subscribe(&receiver, Kinds::ALL, false).await;
    dir.pause_webhook(&hook.id, true).await.unwrap();
    let mut ids = Vec::new();
    for name in ["p1@contoso.com", "p2@contoso.com"] {
        ids.push(scimd.create_user(name).await.0);
    }
    backdate_events(&scimd.db, RETRY_FOR.num_days() + 1).await;
    assert_eq!(dir.park_paused(scimd::service::now()).await.unwrap(), 2);

    // resumed, nothing is pending; retried, the parked events go, in order
    let resumed = dir.pause_webhook(&hook.id, false).await.unwrap();
    assert_eq!((resumed.backlog, resumed.failed), (0, 2));
    assert_eq!(dir.retry_parked(&hook.id).await.unwrap(), 2);
    let got = receiver.wait_for_delivered(2, WAIT).await;
    let order: Vec<String> = got
        .iter()
        .map(|r| {
            r.claims(&hook.secret)["sub_id"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(order, ids);
    crate::support::receiver::eventually("both recorded as delivered", WAIT, async || {
        let s = scimd.webhook(&hook).await;
        s.delivered == 2 && s.backlog == 0
    })
    .await;
    assert!(scimd.failures(&hook).await.is_empty());
}

crate::on_both_stores!(
    events_past_the_retention_are_pruned_unless_a_delivery_still_needs_them,
    a_paused_webhook_of_another_tenant_keeps_none_of_a_tenants_delivered_events,
    a_paused_webhooks_old_events_are_parked_after_retry_for_then_pruned_after_the_retention,
    a_resumed_webhook_gets_its_parked_events_when_they_are_retried,
);
