//! Bearer tokens: 401 with `WWW-Authenticate: Bearer` for a missing, wrong or revoked token;
//! tokens are scoped to their tenant.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::support::{Backend, TestApp, TestResponse, entra_user};

async fn get_with(app: &TestApp, authorization: Option<&str>, path: &str) -> TestResponse {
    let mut req = Request::get(path);
    if let Some(value) = authorization {
        req = req.header(header::AUTHORIZATION, value);
    }
    app.send(req.body(Body::empty()).unwrap()).await
}

#[track_caller]
fn assert_unauthorized(res: &TestResponse, detail: &str) {
    assert_eq!(res.assert_scim_error(401, None), detail);
    assert_eq!(
        res.header("www-authenticate"),
        Some("Bearer realm=\"scimd\"")
    );
}

async fn a_request_without_a_token_is_401_with_www_authenticate(backend: Backend) {
    let app = TestApp::new(backend).await;
    for path in [
        "/scim/v2/Users",
        "/scim/v2/ServiceProviderConfig",
        "/scim/v2/Schemas",
    ] {
        let res = get_with(&app, None, path).await;
        assert_unauthorized(
            &res,
            "authentication required: send Authorization: Bearer <token>",
        );
    }
    let basic = get_with(&app, Some("Basic dXNlcjpwYXNz"), "/scim/v2/Users").await;
    assert_unauthorized(
        &basic,
        "authentication required: send Authorization: Bearer <token>",
    );
}

async fn a_wrong_token_is_401(backend: Backend) {
    let app = TestApp::new(backend).await;
    let res = get_with(
        &app,
        Some("Bearer scimd_not-a-real-token"),
        "/scim/v2/Users",
    )
    .await;
    assert_unauthorized(
        &res,
        "the bearer token is unknown: check the Secret Token, or authorize again",
    );
}

async fn an_issued_token_works_until_it_is_revoked(backend: Backend) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    dir.create_tenant("contoso").await.unwrap();
    let issued = dir.issue_token("contoso", Some("entra")).await.unwrap();
    let bearer = format!("bearer {}", issued.token);

    let ok = get_with(&app, Some(&bearer), "/scim/v2/Users").await;
    assert_eq!(ok.status, StatusCode::OK);

    let revoked = dir.revoke_token(issued.info.id).await.unwrap();
    assert!(revoked.revoked.is_some());
    let res = get_with(&app, Some(&bearer), "/scim/v2/Users").await;
    assert_unauthorized(
        &res,
        "the bearer token was revoked: issue a new token, or authorize again",
    );
}

async fn tokens_are_stored_only_as_hashes_and_listed_without_secrets(backend: Backend) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    let tenant = dir.create_tenant("fabrikam").await.unwrap();
    let issued = dir.issue_token("fabrikam", Some("rotation")).await.unwrap();
    dir.issue_token("fabrikam", None).await.unwrap();
    let listed = dir.tokens(&tenant.name).await.unwrap();
    assert_eq!(
        listed.len(),
        2,
        "several tokens are valid at once for rotation"
    );
    assert_eq!(listed[0].label.as_deref(), Some("rotation"));
    assert_eq!(listed[0].id, issued.info.id);

    let hashes = crate::support::stored_token_hashes(&app.db).await;
    assert_eq!(hashes.len(), 3, "bootstrap and the two issued");
    for hash in hashes {
        assert_eq!(hash.len(), 32);
        assert!(!String::from_utf8_lossy(&hash).contains(&issued.token));
    }
}

async fn a_tenant_sees_only_its_own_users(backend: Backend) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    dir.create_tenant("other").await.unwrap();
    let other = format!(
        "Bearer {}",
        dir.issue_token("other", None).await.unwrap().token
    );

    let created = app.post("/scim/v2/Users", entra_user("shared-name")).await;
    let id = created.body["id"].as_str().unwrap();

    let listed = get_with(&app, Some(&other), "/scim/v2/Users").await;
    assert_eq!(listed.body["totalResults"], 0);
    let read = get_with(&app, Some(&other), &format!("/scim/v2/Users/{id}")).await;
    read.assert_scim_error(404, None);

    // the same userName is free in another tenant
    let req = Request::post("/scim/v2/Users")
        .header(header::AUTHORIZATION, &other)
        .header(header::CONTENT_TYPE, "application/scim+json")
        .body(Body::from(json!({"userName": "SHARED-NAME"}).to_string()))
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::CREATED);
}

async fn creating_a_tenant_twice_is_a_uniqueness_error(backend: Backend) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    dir.create_tenant("dup").await.unwrap();
    let err = dir.create_tenant("dup").await.unwrap_err();
    assert_eq!(err.to_string(), "tenant 'dup' already exists");
    let missing = dir.issue_token("nobody", None).await.unwrap_err();
    assert_eq!(missing.to_string(), "no tenant called 'nobody'");
}

async fn a_token_revoked_on_another_replica_stops_working_here_too(backend: Backend) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    dir.create_tenant("replicated").await.unwrap();
    let issued = dir.issue_token("replicated", None).await.unwrap();
    let bearer = format!("Bearer {}", issued.token);
    // a second replica on the same database: its own pool, its own token cache
    let other = scimd::build_state(&crate::support::settings(&app.db.url))
        .await
        .unwrap();
    // warm this replica's cache (PostgreSQL: once its invalidation feed listens; SQLite keeps
    // no cache, and the second pool on the same file stands in for the replica)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while backend == Backend::Postgres && !dir.caches_tokens() {
        assert!(
            std::time::Instant::now() < deadline,
            "the token cache never went live"
        );
        tokio::task::yield_now().await;
    }
    for _ in 0..3 {
        assert_eq!(
            get_with(&app, Some(&bearer), "/scim/v2/Users").await.status,
            StatusCode::OK
        );
    }
    other.directory.revoke_token(issued.info.id).await.unwrap();
    // the revocation reaches this replica through the database's change feed, within moments
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let res = get_with(&app, Some(&bearer), "/scim/v2/Users").await;
        if res.status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the revoked token still works after 10 s"
        );
        tokio::task::yield_now().await;
    }
}

crate::on_both_stores!(
    a_request_without_a_token_is_401_with_www_authenticate,
    a_wrong_token_is_401,
    an_issued_token_works_until_it_is_revoked,
    tokens_are_stored_only_as_hashes_and_listed_without_secrets,
    a_tenant_sees_only_its_own_users,
    creating_a_tenant_twice_is_a_uniqueness_error,
    a_token_revoked_on_another_replica_stops_working_here_too,
);
