//! Entra-signed tokens (Secret Token left blank) at the SCIM API: Test Connection passes with a
//! token of the Entra tenant the scimd tenant names, and every other token is 401 with one
//! answer whatever the reason (the reason goes to the log) — including one minted for another
//! Entra tenant, whose audience is the same: the answer tells nobody which Entra tenants are
//! customers. Keys come from a
//! local key server (`support::jwks`).

use axum::body::Body;
use axum::http::{Request, header};
use scimd::service::PolicyChange;
use serde_json::{Value, json};
use uuid::{Uuid, uuid};

use crate::support::jwks::{KeyServer, TestKey, entra_claims, sign};
use crate::support::{Backend, TestApp, TestDb, TestResponse, encode, settings};

const TID: Uuid = uuid!("5b2c1ea0-7c62-4a1b-9d5e-3f1c2d4e5f60");
const OTHER_TID: Uuid = uuid!("0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a");

/// A test app that fetches keys from `server`, whose tenant `default` accepts Entra tenant TID.
async fn app(backend: Backend, server: &KeyServer) -> TestApp {
    let db = TestDb::new(backend).await;
    let mut config = settings(&db.url);
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

/// The one answer to every refused Entra-signed token.
const REFUSED: &str = "the Entra-signed token is refused: it is not a valid provisioning token \
    of an Entra tenant that scimd accepts; scimd's log says why under this request's \
    x-request-id. Check the Entra tenant id configured for the scimd tenant, or use a Secret Token";

async fn refused(app: &TestApp, claims: &Value, key: TestKey) -> String {
    let [user, group] = probes(app, &sign(claims, key)).await;
    assert_eq!(group.status, 401);
    assert_eq!(
        group.header("www-authenticate"),
        Some("Bearer realm=\"scimd\"")
    );
    user.assert_scim_error(401, None)
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

async fn every_refused_entra_token_gets_one_answer_so_none_tells_which_entra_tenants_are_customers(
    backend: Backend,
) {
    let server = KeyServer::start(&[TestKey::A]).await;
    let app = app(backend, &server).await;
    // a token of an Entra tenant no scimd tenant accepts (its audience is the same)
    let unknown_tenant = refused(&app, &entra_claims(OTHER_TID), TestKey::A).await;
    // tokens that claim the customer's Entra tenant and fail for a reason of their own
    let mut forged = entra_claims(TID);
    forged["iss"] = json!(format!("https://sts.windows.net/{OTHER_TID}/"));
    let mut audience = entra_claims(TID);
    audience["aud"] = json!("api://someone-else");
    let mut expired = entra_claims(TID);
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    let mut details = vec![unknown_tenant];
    for (claims, key) in [
        (forged, TestKey::A),
        (audience, TestKey::A),
        (expired, TestKey::A),
        (entra_claims(TID), TestKey::Rogue),
    ] {
        details.push(refused(&app, &claims, key).await);
    }
    for detail in &details {
        assert_eq!(detail, REFUSED);
        assert!(!detail.contains(&TID.to_string()) && !detail.contains(&OTHER_TID.to_string()));
    }
}

async fn unreachable_keys_are_503_with_retry_after_not_401(backend: Backend) {
    let server = KeyServer::start(&[TestKey::A]).await;
    let app = app(backend, &server).await;
    server.fail(true);
    let [user, _] = probes(&app, &sign(&entra_claims(TID), TestKey::A)).await;
    let detail = user.assert_scim_error(503, None);
    assert_eq!(
        detail, "Entra's signing keys cannot be fetched now; retry later",
        "neither the metadata URL nor the network error is told"
    );
    assert_eq!(user.header("retry-after"), Some("5"));
}

crate::on_both_stores!(
    a_token_of_the_named_entra_tenant_passes_test_connection,
    every_refused_entra_token_gets_one_answer_so_none_tells_which_entra_tenants_are_customers,
    unreachable_keys_are_503_with_retry_after_not_401,
);
