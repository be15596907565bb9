//! Entra-signed tokens (Secret Token left blank) at the SCIM API: Test Connection passes with a
//! token of the Entra tenant the scimd tenant names, and every other token is 401 saying why —
//! including one minted for another Entra tenant, whose audience is the same. Keys come from a
//! local key server (`support::jwks`).

use axum::body::Body;
use axum::http::{Request, header};
use scimd::service::PolicyChange;
use serde_json::{Value, json};
use uuid::{Uuid, uuid};

use crate::support::jwks::{KeyServer, TestKey, entra_claims, sign};
use crate::support::{Backend, TestApp, TestDb, TestResponse, cli, encode};

const TID: Uuid = uuid!("5b2c1ea0-7c62-4a1b-9d5e-3f1c2d4e5f60");
const OTHER_TID: Uuid = uuid!("0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a");

/// A test app that fetches keys from `server`, whose tenant `default` accepts Entra tenant TID.
async fn app(backend: Backend, server: &KeyServer) -> TestApp {
    let db = TestDb::new(backend).await;
    let mut config = cli(&db.url).config;
    config.entra_metadata_url = server.metadata_url();
    let app = TestApp::configured(db, config).await;
    let change = PolicyChange {
        entra_tenant: Some(Some(TID)),
        ..Default::default()
    };
    app.state
        .directory
        .set_policy("default", &change)
        .await
        .unwrap();
    app
}

/// Entra's Test Connection probes (a user and a group by a random name) with `token`.
async fn probes(app: &TestApp, token: &str) -> [TestResponse; 2] {
    let user = format!(
        "/scim/v2/Users?filter={}",
        encode("userName eq \"3f1e4b1a-probe\"")
    );
    let group = format!(
        "/scim/v2/Groups?filter={}",
        encode("displayName eq \"3f1e4b1a-probe\"")
    );
    let mut answers = Vec::new();
    for path in [user, group] {
        let req = Request::builder()
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        answers.push(app.send(req).await);
    }
    answers.try_into().unwrap()
}

async fn refused(app: &TestApp, claims: &Value, key: TestKey) -> String {
    let [user, group] = probes(app, &sign(claims, key)).await;
    assert_eq!(group.status, 401);
    let detail = user.assert_scim_error(401, None);
    assert!(
        detail.starts_with("the Entra-signed token is refused: "),
        "{detail}"
    );
    detail
}

async fn a_token_of_the_named_entra_tenant_passes_test_connection(backend: Backend) {
    let server = KeyServer::start(&[TestKey::A]).await;
    let app = app(backend, &server).await;
    let [user, group] = probes(&app, &sign(&entra_claims(TID), TestKey::A)).await;
    for answer in [user, group] {
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["totalResults"], 0);
    }
    assert_eq!(
        server.key_fetches(),
        1,
        "keys are fetched once, then cached"
    );
}

async fn a_token_of_another_entra_tenant_is_refused_even_with_the_same_audience(backend: Backend) {
    let server = KeyServer::start(&[TestKey::A]).await;
    let app = app(backend, &server).await;
    let detail = refused(&app, &entra_claims(OTHER_TID), TestKey::A).await;
    assert!(
        detail.contains(&format!(
            "no tenant accepts the tokens of Entra tenant {OTHER_TID}"
        )),
        "{detail}"
    );
    // a token that claims the trusted tenant but was issued by the other one
    let mut forged = entra_claims(TID);
    forged["iss"] = json!(format!("https://sts.windows.net/{OTHER_TID}/"));
    let detail = refused(&app, &forged, TestKey::A).await;
    assert!(
        detail.contains("issued for another Entra tenant"),
        "{detail}"
    );
}

async fn wrong_audience_expired_and_unknown_key_tokens_are_refused_saying_why(backend: Backend) {
    let server = KeyServer::start(&[TestKey::A]).await;
    let app = app(backend, &server).await;
    let mut audience = entra_claims(TID);
    audience["aud"] = json!("api://someone-else");
    assert!(
        refused(&app, &audience, TestKey::A)
            .await
            .contains("audience")
    );
    let mut expired = entra_claims(TID);
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    assert!(
        refused(&app, &expired, TestKey::A)
            .await
            .contains("has expired")
    );
    let unknown = refused(&app, &entra_claims(TID), TestKey::Rogue).await;
    assert!(unknown.contains("does not publish"), "{unknown}");
}

async fn unreachable_keys_are_503_with_retry_after_not_401(backend: Backend) {
    let server = KeyServer::start(&[TestKey::A]).await;
    let app = app(backend, &server).await;
    server.fail(true);
    let [user, _] = probes(&app, &sign(&entra_claims(TID), TestKey::A)).await;
    user.assert_scim_error(503, None);
    assert!(user.header("retry-after").is_some());
}

crate::on_both_stores!(
    a_token_of_the_named_entra_tenant_passes_test_connection,
    a_token_of_another_entra_tenant_is_refused_even_with_the_same_audience,
    wrong_audience_expired_and_unknown_key_tokens_are_refused_saying_why,
    unreachable_keys_are_503_with_retry_after_not_401,
);
