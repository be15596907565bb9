//! `/api/v1/tenants/{name}/oauth-clients`: a client registered over the API is stored with
//! the SHA-256 of its secret only, shown once; rotating gives a new secret; another tenant's
//! client id is not found and nothing changes; the audit trail names no secret.

use axum::http::Method;
use serde_json::{Value, json};

use super::{Api, assert_problem};
use crate::support::Backend;

crate::on_both_stores!(
    a_client_is_registered_shown_listed_rotated_and_removed_with_its_secret_stored_as_a_hash,
    another_tenants_client_id_is_not_found_and_the_client_is_unchanged,
    a_retried_registration_makes_one_client_and_never_shows_its_secret_again,
    redirect_uris_are_checked_and_hostile_input_changes_nothing,
    oauth_clients_need_a_key_that_may_write_and_the_audit_trail_holds_no_secret,
    the_document_names_each_operation_of_admins_and_clients_once,
);

const ENTRA: &str = "https://portal.azure.com/TokenAuthorize";

/// The SHA-256 the store keeps of the client's secret.
async fn stored_hash(api: &Api, tenant: &str, client_id: &str) -> Option<Vec<u8>> {
    let clients = api.app.state.directory.clients(tenant).await.unwrap();
    clients
        .into_iter()
        .find(|c| c.client_id == client_id)
        .map(|c| c.secret_hash)
}

async fn a_client_is_registered_shown_listed_rotated_and_removed_with_its_secret_stored_as_a_hash(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let path = "/api/v1/tenants/contoso/oauth-clients";
    let added = api
        .post(
            path,
            json!({ "redirect_uris": [ENTRA, "http://localhost:8080/cb"] }),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    let id = added.body["client_id"].as_str().unwrap().to_owned();
    let secret = added.body["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("scimd_cs_"), "{secret}");
    assert_eq!(
        added.header("location"),
        Some(format!("{path}/{id}").as_str())
    );
    assert_eq!(
        added.body,
        json!({
            "client_id": id,
            "client_secret": secret,
            "redirect_uris": [ENTRA, "http://localhost:8080/cb"],
            "created": added.body["created"]
        })
    );
    let digest = scimd::service::hash_token(&secret).to_vec();
    assert_eq!(
        stored_hash(&api, "contoso", &id).await,
        Some(digest.clone())
    );

    let shown = api.get(&format!("{path}/{id}")).await;
    assert_eq!(shown.status, 200);
    let mut without = added.body.clone();
    without.as_object_mut().unwrap().remove("client_secret");
    assert_eq!(shown.body, without);

    for _ in 0..4 {
        // a millisecond later: clients added within one are listed by client id
        let clock = api.app.state.directory.clock();
        clock.advance(std::time::Duration::from_millis(1));
        let more = api.post(path, json!({ "redirect_uris": [ENTRA] })).await;
        assert_eq!(more.status, 201);
    }
    let listed = api.all(path, 2).await;
    assert_eq!(listed.len(), 5);
    assert_eq!(listed[0], without);
    assert!(
        listed.iter().all(|c| c.get("client_secret").is_none()),
        "{listed:?}"
    );

    let rotated = api
        .call(Method::POST, &format!("{path}/{id}/rotate-secret"), None)
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_secret = rotated.body["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    assert_eq!(rotated.body["client_id"], id.as_str());
    let new_digest = scimd::service::hash_token(new_secret).to_vec();
    assert_eq!(stored_hash(&api, "contoso", &id).await, Some(new_digest));

    let removed = api.delete(&format!("{path}/{id}")).await;
    assert_eq!(
        (removed.status.as_u16(), &removed.body),
        (204, &Value::Null)
    );
    assert_eq!(stored_hash(&api, "contoso", &id).await, None);
    let gone = api.get(&format!("{path}/{id}")).await;
    assert_problem(&gone, 404, "not-found", None);
    assert_problem(
        &api.delete(&format!("{path}/{id}")).await,
        404,
        "not-found",
        None,
    );
    assert_eq!(api.all(path, 10).await.len(), 4);
}

async fn another_tenants_client_id_is_not_found_and_the_client_is_unchanged(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    api.tenant("fabrikam").await;
    let theirs = api
        .post(
            "/api/v1/tenants/fabrikam/oauth-clients",
            json!({ "redirect_uris": [ENTRA] }),
        )
        .await;
    let id = theirs.body["client_id"].as_str().unwrap().to_owned();
    let before = stored_hash(&api, "fabrikam", &id).await;
    assert!(before.is_some());
    let mine = format!("/api/v1/tenants/contoso/oauth-clients/{id}");
    let detail = assert_problem(&api.get(&mine).await, 404, "not-found", None);
    assert!(detail.contains("contoso"), "{detail}");
    let rotate = api
        .call(Method::POST, &format!("{mine}/rotate-secret"), None)
        .await;
    assert_problem(&rotate, 404, "not-found", None);
    assert_problem(&api.delete(&mine).await, 404, "not-found", None);
    assert_eq!(stored_hash(&api, "fabrikam", &id).await, before);
    let unknown_tenant = api
        .get(&format!("/api/v1/tenants/nowhere/oauth-clients/{id}"))
        .await;
    assert_problem(&unknown_tenant, 404, "not-found", None);
    let list = api.get("/api/v1/tenants/nowhere/oauth-clients").await;
    assert_problem(&list, 404, "not-found", None);
    let add = api
        .post(
            "/api/v1/tenants/nowhere/oauth-clients",
            json!({ "redirect_uris": [ENTRA] }),
        )
        .await;
    assert_problem(&add, 404, "not-found", None);
}

async fn a_retried_registration_makes_one_client_and_never_shows_its_secret_again(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let path = "/api/v1/tenants/contoso/oauth-clients";
    let key = [("idempotency-key", "client-add-1")];
    let body = Some(json!({ "redirect_uris": [ENTRA] }));
    let first = api
        .call_with(Method::POST, path, body.clone(), &api.key.clone(), &key)
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let secret = first.body["client_secret"].as_str().unwrap().to_owned();
    let retry = api
        .call_with(Method::POST, path, body, &api.key.clone(), &key)
        .await;
    assert_problem(&retry, 409, "secret-not-repeated", Some("Idempotency-Key"));
    assert_eq!(retry.body["resource"]["client_id"], first.body["client_id"]);
    assert!(!retry.body.to_string().contains(&secret));
    assert_eq!(api.all(path, 10).await.len(), 1);

    let rotate = format!(
        "{path}/{}/rotate-secret",
        first.body["client_id"].as_str().unwrap()
    );
    let key = [("idempotency-key", "client-rotate-1")];
    let rotated = api
        .call_with(Method::POST, &rotate, None, &api.key.clone(), &key)
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_secret = rotated.body["client_secret"].as_str().unwrap().to_owned();
    let again = api
        .call_with(Method::POST, &rotate, None, &api.key.clone(), &key)
        .await;
    assert_problem(&again, 409, "secret-not-repeated", Some("Idempotency-Key"));
    assert!(!again.body.to_string().contains(&new_secret));
    let id = first.body["client_id"].as_str().unwrap();
    let digest = scimd::service::hash_token(&new_secret).to_vec();
    assert_eq!(stored_hash(&api, "contoso", id).await, Some(digest));
}

async fn redirect_uris_are_checked_and_hostile_input_changes_nothing(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let path = "/api/v1/tenants/contoso/oauth-clients";
    let cases = [
        (json!({ "redirect_uris": [] }), Some("redirect_uris")),
        (
            json!({ "redirect_uris": ["http://example.com/cb"] }),
            Some("redirect_uris"),
        ),
        (
            json!({ "redirect_uris": ["not a url"] }),
            Some("redirect_uris"),
        ),
        (
            json!({ "redirect_uris": ["https://a.example/\u{0}"] }),
            Some("redirect_uris"),
        ),
        (
            json!({ "redirect_uris": vec![ENTRA; 17] }),
            Some("redirect_uris"),
        ),
        (
            json!({ "redirect_uris": [ENTRA], "secret": "mine" }),
            Some("secret"),
        ),
        (json!({}), Some("redirect_uris")),
        (json!({ "redirect_uris": [7] }), Some("redirect_uris[0]")),
    ];
    for (body, field) in cases {
        let refused = api.post(path, body.clone()).await;
        assert_problem(&refused, 422, "validation", field);
    }
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let nested = api
        .app
        .send(
            axum::http::Request::builder()
                .method(Method::POST)
                .uri(path)
                .header("authorization", format!("Bearer {}", api.key))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(deep))
                .unwrap(),
        )
        .await;
    assert_problem(&nested, 400, "malformed-request", None);
    let array = api.post(path, json!([[ENTRA]])).await;
    assert_problem(&array, 422, "validation", None);
    assert!(api.all(path, 10).await.is_empty());
}

async fn oauth_clients_need_a_key_that_may_write_and_the_audit_trail_holds_no_secret(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let path = "/api/v1/tenants/contoso/oauth-clients";
    let reader = api
        .app
        .state
        .directory
        .add_operator_key("dashboard", true)
        .await
        .unwrap()
        .key;
    let body = Some(json!({ "redirect_uris": [ENTRA] }));
    let nobody = api
        .call_with(Method::POST, path, body.clone(), "scimd_op_wrong", &[])
        .await;
    assert_problem(&nobody, 401, "unauthorized", None);
    let read_only = api
        .call_with(Method::POST, path, body.clone(), &reader, &[])
        .await;
    assert_problem(&read_only, 403, "forbidden", None);
    assert!(api.all(path, 10).await.is_empty());

    let added = api.post(path, json!({ "redirect_uris": [ENTRA] })).await;
    let id = added.body["client_id"].as_str().unwrap().to_owned();
    let first = added.body["client_secret"].as_str().unwrap().to_owned();
    let listed = api.call_with(Method::GET, path, None, &reader, &[]).await;
    assert_eq!(listed.status, 200);
    let rotated = api
        .call(Method::POST, &format!("{path}/{id}/rotate-secret"), None)
        .await;
    let second = rotated.body["client_secret"].as_str().unwrap().to_owned();
    api.delete(&format!("{path}/{id}")).await;

    let entries = api.all("/api/v1/audit?tenant=contoso", 100).await;
    let seen: Vec<(&str, &str, &str)> = entries
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("client."))
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"]["kind"].as_str().unwrap(),
                e["target"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("client.remove", "operator_key", id.as_str()),
            ("client.rotate", "operator_key", id.as_str()),
            ("client.add", "operator_key", id.as_str()),
        ]
    );
    let everything = Value::Array(api.all("/api/v1/audit", 1000).await).to_string();
    for secret in [&first, &second] {
        assert!(!everything.contains(secret.as_str()));
        assert!(!everything.contains(&secret["scimd_cs_".len()..]));
    }
}

async fn the_document_names_each_operation_of_admins_and_clients_once(backend: Backend) {
    let api = Api::new(backend).await;
    let document = api.get("/api/v1/openapi.json").await;
    assert_eq!(document.status, 200);
    let mut ids: Vec<(String, String)> = Vec::new();
    for (path, item) in document.body["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if let Some(id) = operation["operationId"].as_str() {
                ids.push((id.to_owned(), format!("{method} {path}")));
            }
        }
    }
    let ours: Vec<&(String, String)> = ids
        .iter()
        .filter(|(_, at)| at.contains("/admins") || at.contains("/oauth-clients"))
        .collect();
    assert_eq!(ours.len(), 11, "{ours:?}");
    for (id, at) in ours {
        let same: Vec<&String> = ids
            .iter()
            .filter(|(i, _)| i == id)
            .map(|(_, a)| a)
            .collect();
        assert_eq!(same, [at], "operationId {id} is not unique");
    }
}
