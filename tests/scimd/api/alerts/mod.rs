//! Alerts of tenants' changes of health, sent by the notifier to a real SMTP server (aiosmtpd,
//! `support::smtp`) and a real HTTP receiver (the operator webhook), on both stores, with the
//! tenant driven through its states by real SCIM traffic and the clock under the test's
//! control: who receives what (`delivery`), a mail server that is down or hangs (`outage`), two
//! replicas notifying at once (`replicas`), and the operator webhook's answers (`webhook`).

mod delivery;
mod outage;
mod replicas;
mod webhook;

use axum::body::Body;
use axum::http::{Request, header};
use clap::Parser;
use serde_json::json;

use crate::support::{METRICS_TOKEN, TOKEN, TestApp, TestDb, TestResponse, entra_user};
use scimd::config::Config;
use scimd::domain::health::State;
use scimd::service::PolicyChange;

/// The query that proves a token works without changing anything.
pub const PROBE: &str = "/scim/v2/Users?filter=userName%20eq%20%22nobody%22";

/// A test app with the SMTP server on `smtp_port` and `more` flags.
pub async fn app(db: TestDb, smtp_port: u16, more: &[&str]) -> TestApp {
    let smtp = format!("smtp://127.0.0.1:{smtp_port}");
    let mut args = vec![
        "scimd",
        "--database-url",
        db.url.as_str(),
        "--bootstrap-token",
        TOKEN,
        "--database-max-connections",
        "4",
        "--public-url",
        "http://scimd.test",
        "--metrics-token",
        METRICS_TOKEN,
        "--smtp-url",
        smtp.as_str(),
        "--smtp-from",
        "scimd <scimd@scimd.test>",
    ];
    args.extend_from_slice(more);
    let config = Config::parse_from(args);
    TestApp::configured(db, config).await
}

pub async fn scim(app: &TestApp, method: &str, path: &str, token: &str) -> TestResponse {
    scim_with(app, method, path, token, None).await
}

pub use crate::api::health::scim as scim_with;

/// The state the health check records for `acme` now.
pub async fn check(app: &TestApp) -> State {
    app.state.directory.check_all_health().await.unwrap();
    app.state
        .directory
        .tenant_health("acme")
        .await
        .unwrap()
        .recorded
        .unwrap()
        .state
}

/// Tenant `acme`, requiring a role, connected with a token that a first lookup proved (its
/// first record: `healthy`); the token.
pub async fn connected_acme(app: &TestApp) -> String {
    let dir = &app.state.directory;
    dir.create_tenant("acme").await.unwrap();
    let rules = PolicyChange {
        require_role: Some(true),
        ..Default::default()
    };
    dir.set_policy("acme", &rules).await.unwrap();
    let token = dir.issue_token("acme", Some("entra")).await.unwrap().token;
    assert_eq!(scim(app, "GET", PROBE, &token).await.status, 200);
    assert_eq!(check(app).await, State::Healthy);
    token
}

/// 60 creates refused for a missing role and 10 accepted: `degraded`.
pub async fn degrade(app: &TestApp, token: &str) {
    for i in 0..70 {
        let mut user = entra_user(&format!("u{i}@acme.test"));
        user["externalId"] = json!(format!("u{i}"));
        if i < 10 {
            user["roles"] = json!([{"value": "member"}]);
        }
        let r = scim_with(app, "POST", "/scim/v2/Users", token, Some(user)).await;
        assert_eq!(r.status, if i < 10 { 201 } else { 400 }, "{}", r.body);
    }
    assert_eq!(check(app).await, State::Degraded);
}

/// The token revoked, then 20 requests with it refused: `credentials_rejected`.
pub async fn reject_credentials(app: &TestApp, token: &str) {
    let dir = &app.state.directory;
    for issued in dir.tokens("acme").await.unwrap() {
        dir.revoke_token(issued.id).await.unwrap();
    }
    dir.clock().advance(std::time::Duration::from_secs(120));
    for _ in 0..20 {
        assert_eq!(scim(app, "GET", PROBE, token).await.status, 401);
    }
    assert_eq!(check(app).await, State::CredentialsRejected);
}

/// The value of the series `name` whose labels include every one of `labels`, summed.
pub async fn metric(app: &TestApp, name: &str, labels: &[&str]) -> f64 {
    let answer = app
        .send(
            Request::get("/metrics")
                .header(header::AUTHORIZATION, format!("Bearer {METRICS_TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, 200);
    let text = answer.body.as_str().unwrap_or_default().to_owned();
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
