//! The health check records each tenant's state on both stores: a change once, with its time
//! and reasons, in the order of all changes; nothing new, no write; checks racing on two
//! replicas record one change; a state entered at its threshold is left only below half of it;
//! the gauges of `/metrics` follow the recorded state.

use std::time::Duration;

use chrono::TimeDelta;

use super::health::{PROBE, connected_tenant, creates, scim};
use super::metrics::{scrape, value};
use crate::support::{Backend, TestApp, TestDb};
use scimd::domain::health::{State, Thresholds};

crate::on_both_stores!(
    each_change_of_state_is_recorded_once_with_its_time_and_reasons,
    checks_racing_on_two_replicas_record_one_change,
    a_state_entered_at_its_threshold_is_left_only_below_half_of_it,
    the_metrics_show_each_tenant_s_recorded_state_and_the_counts_behind_it,
);

async fn each_change_of_state_is_recorded_once_with_its_time_and_reasons(backend: Backend) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    dir.clock().advance(Duration::ZERO);
    dir.create_tenant("quiet").await.unwrap();
    let first = dir
        .check_health(&dir.tenant("quiet").await.unwrap())
        .await
        .unwrap();
    assert_eq!(first.state, State::NotConnected);
    assert!(
        dir.health_changes(0, 10).await.unwrap().is_empty(),
        "a tenant never reached starts as not connected: no change"
    );

    let token = connected_tenant(&app, "acme").await;
    let acme = dir.tenant("acme").await.unwrap();
    let healthy = dir.check_health(&acme).await.unwrap();
    assert_eq!(healthy.state, State::Healthy);
    assert_eq!(healthy.since, dir.now());
    dir.clock().advance(Duration::from_secs(30));
    let again = dir.check_health(&acme).await.unwrap();
    assert_eq!(
        again, healthy,
        "nothing new: the record stands, its time too"
    );

    creates(&app, &token, 10, 60).await;
    dir.clock().advance(Duration::from_secs(30));
    let degraded = dir.check_health(&acme).await.unwrap();
    assert_eq!(degraded.state, State::Degraded, "{degraded:?}");
    assert_eq!(degraded.since, dir.now());
    assert_eq!(
        (degraded.reasons[0].kind.as_str(), degraded.reasons[0].count),
        ("no_role", 60)
    );
    let listed = dir.all_health().await.unwrap();
    let acme_listed = listed.iter().find(|t| t.tenant == "acme").unwrap();
    assert_eq!(acme_listed.recorded, Some(degraded.clone()));
    assert_eq!(listed[0].tenant, "acme", "worst first");

    let changes = dir.health_changes(0, 10).await.unwrap();
    let seen: Vec<_> = changes
        .iter()
        .map(|c| (c.tenant.as_str(), c.previous, c.state))
        .collect();
    assert_eq!(
        seen,
        [
            ("acme", None, State::Healthy),
            ("acme", Some(State::Healthy), State::Degraded)
        ]
    );
    assert_eq!(changes[1].at, degraded.since);
    assert_eq!(changes[1].reasons, degraded.reasons);
    assert!(changes[0].seq < changes[1].seq);
    assert_eq!(
        dir.health_changes(changes[0].seq, 10).await.unwrap(),
        changes[1..]
    );
    let history = dir.health_history("acme", 10).await.unwrap();
    assert_eq!(
        history.iter().map(|c| c.state).collect::<Vec<_>>(),
        [State::Degraded, State::Healthy]
    );
}

async fn checks_racing_on_two_replicas_record_one_change(backend: Backend) {
    let db = TestDb::new(backend).await;
    let one = TestApp::on(db.replica()).await;
    let two = TestApp::on(db.replica()).await;
    connected_tenant(&one, "acme").await;
    let t1 = one.state.directory.tenant("acme").await.unwrap();
    let t2 = t1.clone();
    let (d1, d2) = (&one.state.directory, &two.state.directory);
    for _ in 0..5 {
        let (a, b) = tokio::join!(d1.check_health(&t1), d2.check_health(&t2));
        assert_eq!(a.unwrap().state, State::Healthy);
        assert_eq!(b.unwrap().state, State::Healthy);
    }
    let changes = d1.health_changes(0, 10).await.unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
}

async fn a_state_entered_at_its_threshold_is_left_only_below_half_of_it(backend: Backend) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    let token = connected_tenant(&app, "acme").await;
    let acme = dir.tenant("acme").await.unwrap();
    // 10 refused of 70 changes: 14 %, under a 20 % threshold, over half of it
    creates(&app, &token, 60, 10).await;
    let strict = Thresholds {
        failure_ratio: 0.2,
        ..Thresholds::default()
    };
    let gap = TimeDelta::minutes(10);
    let fresh = dir.health(&acme, Some(State::Healthy), &strict, gap).await;
    assert_eq!(fresh.unwrap().state, State::Healthy, "not entered at 14 %");
    let kept = dir.health(&acme, Some(State::Degraded), &strict, gap).await;
    assert_eq!(kept.unwrap().state, State::Degraded, "kept at 14 %");
    // 10 of 110: 9 %, below half of 20 %
    creates(&app, &token, 40, 0).await;
    let left = dir.health(&acme, Some(State::Degraded), &strict, gap).await;
    assert_eq!(left.unwrap().state, State::Healthy, "left at 9 %");
}

async fn the_metrics_show_each_tenant_s_recorded_state_and_the_counts_behind_it(backend: Backend) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    // the recorder is shared by the tests running at once: a tenant of this test's own
    let tenant = format!("metered-{}", uuid::Uuid::new_v4().simple());
    let token = connected_tenant(&app, &tenant).await;
    creates(&app, &token, 10, 60).await;
    dir.check_all_health().await.unwrap();
    let text = scrape(&app).await;
    let t = format!("tenant=\"{tenant}\"");
    let of = |name: &str, labels: &[&str]| {
        let mut all = vec![t.as_str()];
        all.extend_from_slice(labels);
        value(&text, name, &all)
    };
    assert_eq!(of("scimd_tenant_health", &["state=\"degraded\""]), 1.0);
    for other in [
        "not_connected",
        "healthy",
        "silent",
        "at_risk",
        "credentials_rejected",
    ] {
        let label = format!("state=\"{other}\"");
        assert_eq!(of("scimd_tenant_health", &[&label]), 0.0, "{other}");
    }
    assert_eq!(of("scimd_tenant_cycle_refused", &[]), 60.0);
    assert_eq!(of("scimd_tenant_cycle_operations", &[]), 70.0);
    assert_eq!(of("scimd_tenant_credentials_refused", &[]), 0.0);
    assert!(
        text.contains(&format!("scimd_tenant_quiet_seconds{{{t}}}")),
        "{text}"
    );

    // the token revoked: 3 refused requests make the tenant's credentials rejected
    let issued = dir.tokens(&tenant).await.unwrap();
    dir.revoke_token(issued[0].id).await.unwrap();
    dir.clock().advance(Duration::from_secs(120));
    for _ in 0..3 {
        assert_eq!(scim(&app, "GET", PROBE, &token, None).await.status, 401);
    }
    dir.check_all_health().await.unwrap();
    let text = scrape(&app).await;
    let t = format!("tenant=\"{tenant}\"");
    let rejected = ["state=\"credentials_rejected\"", t.as_str()];
    assert_eq!(value(&text, "scimd_tenant_health", &rejected), 1.0);
    assert_eq!(value(&text, "scimd_tenant_credentials_refused", &[&t]), 3.0);
}
