//! Pruning the outbox: events older than `SCIMD_EVENTS_RETENTION` go, except those a
//! delivery still needs (a paused subscription's queue), which stay until it is gone.

use scimd::domain::events::Kinds;

use crate::support::{Backend, TestApp, TestDb, cli, entra_user};

async fn events_past_the_retention_are_pruned_unless_a_delivery_still_needs_them(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut config = cli(&db.url).config;
    config.events_retention = std::time::Duration::from_secs(1);
    let app = TestApp::configured(db, config).await;
    let dir = &app.state.directory;

    // an event before any subscription: no delivery needs it
    let early = app
        .post("/scim/v2/Users", entra_user("early@contoso.com"))
        .await;
    assert_eq!(early.status.as_u16(), 201, "{}", early.body);
    let hook = dir
        .add_webhook("default", "http://127.0.0.1:9/events", Kinds::ALL, false)
        .await
        .unwrap();
    let id = hook.subscription.id.to_string();
    dir.pause_webhook(&id, true).await.unwrap();
    for name in ["queued1@contoso.com", "queued2@contoso.com"] {
        let r = app.post("/scim/v2/Users", entra_user(name)).await;
        assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    }
    let all = dir.events_after("default", 0, 100).await.unwrap();
    assert_eq!(all.len(), 3);

    // within the retention nothing goes
    assert_eq!(dir.prune_events().await.unwrap(), 0);
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    // past it, only the event no delivery needs
    assert_eq!(dir.prune_events().await.unwrap(), 1);
    let kept = dir.events_after("default", 0, 100).await.unwrap();
    assert_eq!(
        kept.iter().map(|e| e.seq).collect::<Vec<_>>(),
        all[1..].iter().map(|e| e.seq).collect::<Vec<_>>()
    );
    assert_eq!(dir.webhook(&id).await.unwrap().backlog, 2);

    // once the subscription (and its queue) is gone, so are they
    dir.remove_webhook(&id).await.unwrap();
    assert_eq!(dir.prune_events().await.unwrap(), 2);
    assert!(
        dir.events_after("default", 0, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

crate::on_both_stores!(events_past_the_retention_are_pruned_unless_a_delivery_still_needs_them);
