//! `/api/v1/tenants/{name}/tokens`: a token issued over the API works at `/scim/v2` at once,
//! on every replica; its secret is shown once; revoking it refuses it at once.

use axum::http::Method;
use serde_json::{Value, json};

use super::{Api, assert_problem};
use crate::support::{Backend, TestApp, stored_token_hashes};

crate::on_both_stores!(
    a_new_operator_key_creates_a_tenant_and_its_token_and_scim_accepts_the_token_at_once,
    tokens_are_listed_in_pages_without_secrets_and_a_revoked_token_is_refused_at_once,
    another_tenants_token_id_is_not_found_and_the_token_stays_valid,
    a_retried_issue_makes_one_token_and_never_shows_its_secret_again,
    a_token_label_is_checked_and_the_body_may_be_left_out,
);

/// A SCIM request with `token`: its status.
async fn scim_status(app: &TestApp, token: &str) -> u16 {
    let req = axum::http::Request::builder()
        .uri("/scim/v2/Users")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    app.send(req).await.status.as_u16()
}

async fn a_new_operator_key_creates_a_tenant_and_its_token_and_scim_accepts_the_token_at_once(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    // a second replica on the same database, which has never seen the tenant or the token
    let replica = TestApp::on(api.app.db.replica()).await;
    // a key made by `scimd operator-key add` on the database, as an operator would
    let key = api
        .app
        .state
        .directory
        .add_operator_key("provisioning-button", false)
        .await
        .unwrap()
        .key;
    assert!(key.starts_with("scimd_op_"), "{key}");
    let tenant = api
        .call_with(
            Method::POST,
            "/api/v1/tenants",
            Some(json!({ "name": "contoso" })),
            &key,
            &[],
        )
        .await;
    assert_eq!(tenant.status, 201, "{}", tenant.body);
    let issued = api
        .call_with(
            Method::POST,
            "/api/v1/tenants/contoso/tokens",
            Some(json!({ "label": "entra" })),
            &key,
            &[],
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let token = issued.body["token"].as_str().unwrap().to_owned();
    let id = issued.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        issued.header("location"),
        Some(format!("/api/v1/tenants/contoso/tokens/{id}").as_str())
    );
    assert_eq!(
        issued.body,
        json!({
            "id": id,
            "token": token,
            "label": "entra",
            "created": issued.body["created"],
            "revoked": null
        })
    );
    assert_eq!(scim_status(&api.app, &token).await, 200);
    assert_eq!(scim_status(&replica, &token).await, 200);
    // the secret itself is not stored: only its SHA-256
    let hashes = stored_token_hashes(&api.app.db).await;
    let digest = scimd::service::hash_token(&token).to_vec();
    assert!(hashes.contains(&digest));
    assert!(!hashes.iter().any(|h| h == token.as_bytes()));
    // the user the token creates lands in the new tenant, not in default
    let created = api
        .call_with(
            Method::POST,
            "/scim/v2/Users",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "ada@contoso.example"
            })),
            &token,
            &[],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let default = api.app.get("/scim/v2/Users").await;
    assert_eq!(default.body["totalResults"], 0);
}

async fn tokens_are_listed_in_pages_without_secrets_and_a_revoked_token_is_refused_at_once(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    let replica = TestApp::on(api.app.db.replica()).await;
    api.tenant("contoso").await;
    let mut issued = Vec::new();
    for label in ["one", "two", "three", "four", "five"] {
        let t = api
            .post("/api/v1/tenants/contoso/tokens", json!({ "label": label }))
            .await;
        issued.push(t.body);
        // a millisecond apart: tokens issued within one are listed by id
        let clock = api.app.state.directory.clock();
        clock.advance(std::time::Duration::from_millis(1));
    }
    let listed = api.all("/api/v1/tenants/contoso/tokens", 2).await;
    let labels: Vec<&str> = listed
        .iter()
        .map(|t| t["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["one", "two", "three", "four", "five"]);
    for (shown, made) in listed.iter().zip(&issued) {
        let mut without = made.clone();
        without.as_object_mut().unwrap().remove("token");
        assert_eq!(shown, &without);
        assert!(!shown.to_string().contains("scimd_"), "{shown}");
    }
    let victim = &issued[1];
    let token = victim["token"].as_str().unwrap();
    assert_eq!(scim_status(&replica, token).await, 200);
    let path = format!(
        "/api/v1/tenants/contoso/tokens/{}",
        victim["id"].as_str().unwrap()
    );
    let revoked = api.delete(&path).await;
    assert_eq!(
        (revoked.status.as_u16(), &revoked.body),
        (204, &Value::Null)
    );
    assert_eq!(scim_status(&api.app, token).await, 401);
    // the other replica's token cache hears of it through the database's change feed, within
    // moments (tests/scimd/api/auth.rs)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while scim_status(&replica, token).await != 401 {
        assert!(
            std::time::Instant::now() < deadline,
            "still valid on the replica after 10 s"
        );
        tokio::task::yield_now().await;
    }
    // again: nothing changes, the answer is the same
    assert_eq!(api.delete(&path).await.status, 204);
    let listed = api.get("/api/v1/tenants/contoso/tokens").await;
    assert!(
        listed.body["items"][1]["revoked"].is_string(),
        "{}",
        listed.body
    );
    assert_eq!(listed.body["items"][0]["revoked"], Value::Null);
    assert_eq!(
        scim_status(&api.app, issued[0]["token"].as_str().unwrap()).await,
        200
    );
}

async fn another_tenants_token_id_is_not_found_and_the_token_stays_valid(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    api.tenant("fabrikam").await;
    let theirs = api.post("/api/v1/tenants/fabrikam/tokens", json!({})).await;
    let id = theirs.body["id"].as_str().unwrap();
    let refused = api
        .delete(&format!("/api/v1/tenants/contoso/tokens/{id}"))
        .await;
    let detail = assert_problem(&refused, 404, "not-found", None);
    assert!(detail.contains("contoso"), "{detail}");
    assert_eq!(
        scim_status(&api.app, theirs.body["token"].as_str().unwrap()).await,
        200
    );
    for bad in ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "%00"] {
        let response = api
            .delete(&format!("/api/v1/tenants/fabrikam/tokens/{bad}"))
            .await;
        assert_problem(&response, 404, "not-found", None);
    }
}

async fn a_retried_issue_makes_one_token_and_never_shows_its_secret_again(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let key = [("idempotency-key", "6f1c3a52-issue-1")];
    let body = Some(json!({ "label": "entra" }));
    let path = "/api/v1/tenants/contoso/tokens";
    let first = api
        .call_with(Method::POST, path, body.clone(), &api.key.clone(), &key)
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let secret = first.body["token"].as_str().unwrap().to_owned();
    let retry = api
        .call_with(Method::POST, path, body, &api.key.clone(), &key)
        .await;
    let detail = assert_problem(&retry, 409, "secret-not-repeated", Some("Idempotency-Key"));
    assert!(detail.contains("shows once"), "{detail}");
    assert_eq!(retry.body["resource"]["id"], first.body["id"]);
    assert_eq!(retry.body["resource"]["label"], "entra");
    assert!(retry.body["resource"].get("token").is_none());
    assert!(!retry.body.to_string().contains(&secret));
    let listed = api.get(path).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
}

async fn a_token_label_is_checked_and_the_body_may_be_left_out(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let path = "/api/v1/tenants/contoso/tokens";
    let bare = api.call(Method::POST, path, None).await;
    assert_eq!(bare.status, 201, "{}", bare.body);
    assert_eq!(bare.body["label"], Value::Null);
    for label in ["bootstrap", "Setup Page"] {
        let reserved = api.post(path, json!({ "label": label })).await;
        assert_problem(&reserved, 422, "validation", Some("label"));
    }
    let nul = api.post(path, json!({ "label": "a\u{0}b" })).await;
    assert_problem(&nul, 422, "validation", Some("label"));
    let long = api.post(path, json!({ "label": "x".repeat(1025) })).await;
    assert_problem(&long, 422, "validation", Some("label"));
    let not_json = api
        .call_with(
            Method::POST,
            path,
            None,
            &api.key.clone(),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(
        not_json.status, 201,
        "an empty JSON body is no body: {}",
        not_json.body
    );
    let broken = api
        .call_with(Method::POST, path, Some(json!("{")), &api.key.clone(), &[])
        .await;
    assert_problem(&broken, 422, "validation", None);
    let listed = api.get(path).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
}
