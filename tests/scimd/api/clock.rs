//! What time changes, moved by the directory's clock instead of by sleeping: a console session
//! idle too long or open too long, an OAuth access token and an authorization code past their
//! lifetimes, the sign-in throttle's window, the activity log's retention, and cycles cut by a
//! quiet gap.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, header};
use chrono::TimeDelta;
use serde_json::json;

use super::oauth::{ENTRA, OAuthApp, PASSWORD, assert_oauth_error, text};
use super::security::console_sign_in;
use crate::support::{Backend, cookie_pair};

const MINUTE: Duration = Duration::from_secs(60);

/// An OAuth app whose clock stands still at the present until the test moves it.
async fn stopped(backend: Backend) -> OAuthApp {
    let oauth = OAuthApp::new(backend).await;
    let clock = oauth.app.state.directory.clock();
    clock.set(clock.now());
    oauth
}

async fn signed_in(oauth: &OAuthApp, cookie: &str) -> bool {
    let req = Request::get("/admin")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    !text(&oauth.app.send(req).await).contains("type=\"password\"")
}

async fn a_console_session_ends_after_30_idle_minutes_or_12_hours_whatever_its_use(
    backend: Backend,
) {
    let oauth = stopped(backend).await;
    let clock = oauth.app.state.directory.clock();
    let sign_in = async || {
        let answer = console_sign_in(&oauth.app, "192.0.2.1", ("default", "alice", PASSWORD)).await;
        cookie_pair(answer.header("set-cookie").unwrap())
    };
    let idle = sign_in().await;
    clock.advance(29 * MINUTE);
    assert!(signed_in(&oauth, &idle).await, "29 minutes idle");
    clock.advance(31 * MINUTE);
    assert!(!signed_in(&oauth, &idle).await, "31 minutes idle");
    let busy = sign_in().await;
    for _ in 0..24 {
        clock.advance(29 * MINUTE);
        assert!(signed_in(&oauth, &busy).await, "in use within 12 hours");
    }
    clock.advance(29 * MINUTE);
    assert!(
        !signed_in(&oauth, &busy).await,
        "12 hours after sign-in, in use or not"
    );
}

async fn access_tokens_and_codes_expire_with_their_lifetimes(backend: Backend) {
    let oauth = stopped(backend).await;
    let clock = oauth.app.state.directory.clock();
    let (access, _) = oauth.authorized().await;
    clock.advance(59 * MINUTE);
    assert_eq!(oauth.probe(&access).await.status, 200);
    clock.advance(MINUTE);
    let expired = oauth.probe(&access).await;
    assert!(
        expired
            .assert_scim_error(401, None)
            .starts_with("the access token has expired")
    );
    let code = oauth.code("").await;
    clock.advance(5 * MINUTE);
    let late = oauth
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", ENTRA),
        ])
        .await;
    assert_eq!(
        assert_oauth_error(&late, 400, "invalid_grant"),
        "the code has expired"
    );
}

async fn the_sign_in_throttle_forgets_an_address_when_its_window_ends(backend: Backend) {
    let oauth = stopped(backend).await;
    let clock = oauth.app.state.directory.clock();
    for _ in 0..5 {
        oauth.sign_in("", "alice", "wrong password!!").await;
    }
    assert_eq!(oauth.sign_in("", "alice", PASSWORD).await.status, 429);
    clock.advance(14 * MINUTE);
    assert_eq!(oauth.sign_in("", "alice", PASSWORD).await.status, 429);
    clock.advance(MINUTE);
    assert_eq!(oauth.sign_in("", "alice", PASSWORD).await.status, 303);
}

async fn the_activity_log_keeps_its_retention_and_a_quiet_gap_starts_a_cycle(backend: Backend) {
    let oauth = stopped(backend).await;
    let (app, dir) = (&oauth.app, &oauth.app.state.directory);
    let clock = dir.clock();
    let started = clock.now();
    app.post("/scim/v2/Users", json!({"userName": "first"}))
        .await;
    clock.advance(9 * MINUTE);
    app.post("/scim/v2/Users", json!({"userName": "same cycle"}))
        .await;
    clock.advance(11 * MINUTE);
    app.post("/scim/v2/Users", json!({"userName": "next cycle"}))
        .await;
    let since = started - TimeDelta::hours(1);
    let cycles = dir
        .cycles("default", since, TimeDelta::minutes(10))
        .await
        .unwrap();
    let created: Vec<u64> = cycles.iter().map(|c| c.created.users).collect();
    assert_eq!(created, [2, 1]);
    let all = scimd::domain::activity::ActivityFilter {
        limit: 100,
        ..Default::default()
    };
    let rows = dir.activity("default", &all).await.unwrap();
    assert_eq!(rows.len(), 3);
    clock.advance(Duration::from_secs(30 * 24 * 3600) - 19 * MINUTE);
    let pruned = dir
        .prune_activity(Duration::from_secs(30 * 24 * 3600))
        .await
        .unwrap();
    assert_eq!(pruned, 1, "only the first row is 30 days old: {rows:?}");
    let kept = dir.activity("default", &all).await.unwrap();
    assert_eq!(kept.len(), 2);
}

crate::on_both_stores!(
    a_console_session_ends_after_30_idle_minutes_or_12_hours_whatever_its_use,
    access_tokens_and_codes_expire_with_their_lifetimes,
    the_sign_in_throttle_forgets_an_address_when_its_window_ends,
    the_activity_log_keeps_its_retention_and_a_quiet_gap_starts_a_cycle,
);
