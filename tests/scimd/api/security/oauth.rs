//! OAuth as RFC 9700 and RFC 8414 ask: PKCE with S256 only, an issuer that no request can
//! choose, and refresh families that end at an absolute age however often they rotate.

use axum::body::Body;
use axum::http::Request;

use super::{PROXY, from_peer};
use crate::api::oauth::{ENTRA, OAuthApp, assert_oauth_error, get, query_param};
use crate::support::{Backend, TestApp, TestDb, execute_sql, settings};

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

async fn pkce_is_s256_only_and_a_challenge_without_a_method_is_refused(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    for extra in [
        format!("&code_challenge={CHALLENGE}&code_challenge_method=plain"),
        format!("&code_challenge={CHALLENGE}"),
    ] {
        let answer = oauth.app.send(get(&oauth.authorize_url(&extra))).await;
        assert_eq!(answer.status, 303, "{extra}");
        let location = answer.header("location").unwrap();
        assert!(location.starts_with(ENTRA));
        assert_eq!(
            query_param(location, "error").as_deref(),
            Some("invalid_request")
        );
        assert_eq!(
            query_param(location, "error_description").as_deref(),
            Some("code_challenge_method must be S256 (plain is not accepted: RFC 9700 §2.1.1)")
        );
    }
    let s256 = format!("&code_challenge={CHALLENGE}&code_challenge_method=S256");
    assert_eq!(
        oauth
            .app
            .send(get(&oauth.authorize_url(&s256)))
            .await
            .status,
        200
    );
}

async fn the_issuer_is_configured_and_never_taken_from_forwarding_headers(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut config = settings(&db.url);
    config.address.public_url = None;
    config.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    let listen = config.address.listen;
    let app = TestApp::configured(db, config).await;
    for peer in [PROXY, "198.51.100.1:1234"] {
        let req = Request::get("/.well-known/oauth-authorization-server")
            .header("host", "evil.example")
            .header("x-forwarded-host", "evil.example")
            .header("x-forwarded-proto", "https")
            .body(Body::empty())
            .unwrap();
        let metadata = app.send(from_peer(req, peer)).await;
        assert_eq!(metadata.status, 200);
        let root = format!("http://{listen}");
        assert_eq!(metadata.body["issuer"], root.as_str());
        assert_eq!(
            metadata.body["authorization_endpoint"],
            format!("{root}/oauth/authorize")
        );
        assert_eq!(
            metadata.body["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
    }
}

/// SQL for the instant `days` days before now, in the backend's column type.
fn days_ago(backend: Backend, days: i64) -> String {
    match backend {
        Backend::Postgres => format!("now() - interval '{days} days'"),
        Backend::Sqlite => (chrono::Utc::now() - chrono::TimeDelta::days(days))
            .timestamp_millis()
            .to_string(),
    }
}

async fn a_refresh_family_ends_at_its_absolute_age_however_often_it_rotated(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let (_, refresh) = oauth.authorized().await;
    let rotated = oauth
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let latest = rotated.body["refresh_token"].as_str().unwrap().to_owned();
    // the family was authorized 91 days ago; its latest token was issued a moment ago
    execute_sql(
        &oauth.app.db,
        &[format!(
            "update refresh_tokens set family_started = {}",
            days_ago(backend, 91)
        )],
    )
    .await;
    let refused = oauth
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &latest)])
        .await;
    let description = assert_oauth_error(&refused, 400, "invalid_grant");
    assert_eq!(description, "the refresh token has expired");
}

crate::on_both_stores!(
    pkce_is_s256_only_and_a_challenge_without_a_method_is_refused,
    the_issuer_is_configured_and_never_taken_from_forwarding_headers,
    a_refresh_family_ends_at_its_absolute_age_however_often_it_rotated,
);
