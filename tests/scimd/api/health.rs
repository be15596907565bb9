//! A tenant's provisioning health from real SCIM traffic, on both stores, with the clock under
//! the test's control: not connected, healthy, degraded by refused creates (with the top cause
//! and its fix), credentials rejected after the token is revoked, healthy again with a new
//! token, and silent after two hours without a request; each change recorded once, with its
//! time, even when checks race; a state left only below half its threshold.

use axum::body::Body;
use axum::http::{Request, header};
use chrono::TimeDelta;
use serde_json::json;

use crate::support::{Backend, TestApp, TestResponse, entra_user};
use scimd::domain::health::{State, Thresholds};
use scimd::service::PolicyChange;

pub async fn scim(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> TestResponse {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/scim+json");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    app.send(req.body(body).unwrap()).await
}

async fn health_of(app: &TestApp, previous: Option<State>) -> scimd::service::health::Health {
    let dir = &app.state.directory;
    let tenant = dir.tenant("acme").await.unwrap();
    dir.health(
        &tenant,
        previous,
        &Thresholds::default(),
        TimeDelta::minutes(10),
    )
    .await
    .unwrap()
}

/// A tenant `name` that requires a role, connected with a token (whose secret is returned)
/// by one lookup.
pub async fn connected_tenant(app: &TestApp, name: &str) -> String {
    let dir = &app.state.directory;
    dir.create_tenant(name).await.unwrap();
    let rules = PolicyChange {
        require_role: Some(true),
        ..Default::default()
    };
    dir.set_policy(name, &rules).await.unwrap();
    let token = dir.issue_token(name, Some("entra")).await.unwrap();
    assert_eq!(
        scim(app, "GET", PROBE, &token.token, None).await.status,
        200
    );
    token.token
}

/// A lookup Entra makes.
pub const PROBE: &str = "/scim/v2/Users?filter=userName%20eq%20%22nobody%22";

/// Creates of `refused` users without a role (refused with 400) and `accepted` with one.
pub async fn creates(app: &TestApp, token: &str, accepted: usize, refused: usize) {
    for i in 0..accepted + refused {
        let name = format!("u{}-{i}@acme.test", uuid::Uuid::new_v4().simple());
        let mut user = entra_user(&name);
        user["externalId"] = json!(name);
        if i < accepted {
            user["roles"] = json!([{"value": "member"}]);
        }
        let r = scim(app, "POST", "/scim/v2/Users", token, Some(user)).await;
        assert_eq!(r.status, if i < accepted { 201 } else { 400 }, "{}", r.body);
    }
}

async fn health_follows_the_tenants_traffic_through_every_state(backend: Backend) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    dir.create_tenant("acme").await.unwrap();
    let rules = PolicyChange {
        require_role: Some(true),
        ..Default::default()
    };
    dir.set_policy("acme", &rules).await.unwrap();
    assert_eq!(health_of(&app, None).await.state, State::NotConnected);

    let token = dir.issue_token("acme", Some("entra")).await.unwrap();
    let probe = "/scim/v2/Users?filter=userName%20eq%20%22nobody%22";
    assert_eq!(
        scim(&app, "GET", probe, &token.token, None).await.status,
        200
    );
    assert_eq!(health_of(&app, None).await.state, State::Healthy);

    for i in 0..70 {
        let mut user = entra_user(&format!("u{i}@acme.test"));
        user["externalId"] = json!(format!("u{i}"));
        if i < 10 {
            user["roles"] = json!([{"value": "member"}]);
        }
        let r = scim(&app, "POST", "/scim/v2/Users", &token.token, Some(user)).await;
        assert_eq!(r.status, if i < 10 { 201 } else { 400 }, "{}", r.body);
    }
    let degraded = health_of(&app, Some(State::Healthy)).await;
    assert_eq!(degraded.state, State::Degraded, "{degraded:?}");
    assert_eq!(degraded.reasons[0].kind, "no_role");
    assert_eq!(degraded.reasons[0].count, 60);
    assert!(
        degraded.reasons[0]
            .what
            .starts_with("60 users have no role"),
        "{degraded:?}"
    );

    let issued = dir.tokens("acme").await.unwrap();
    dir.revoke_token(issued[0].id).await.unwrap();
    dir.clock().advance(std::time::Duration::from_secs(120));
    for _ in 0..20 {
        assert_eq!(
            scim(&app, "GET", probe, &token.token, None).await.status,
            401
        );
    }
    let rejected = health_of(&app, Some(State::Degraded)).await;
    assert_eq!(rejected.state, State::CredentialsRejected, "{rejected:?}");
    assert_eq!(rejected.reasons[0].count, 20);

    let fresh = dir.issue_token("acme", Some("entra-2")).await.unwrap();
    dir.clock().advance(std::time::Duration::from_secs(120));
    assert_eq!(
        scim(&app, "GET", probe, &fresh.token, None).await.status,
        200
    );
    let mended = health_of(&app, Some(State::CredentialsRejected)).await;
    assert_ne!(mended.state, State::CredentialsRejected, "{mended:?}");

    dir.clock()
        .advance(std::time::Duration::from_secs(3 * 3600));
    let silent = health_of(&app, Some(mended.state)).await;
    assert_eq!(silent.state, State::Silent, "{silent:?}");
}

crate::on_both_stores!(health_follows_the_tenants_traffic_through_every_state);
