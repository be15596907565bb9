//! The application's API at `/api/v1`, driven through the router (`oneshot`) with an operator
//! key, area by area; every test on both stores.

mod activity;
pub mod admins;
mod alerts;
mod audit;
mod health;
mod idempotency;
mod invitations;
mod oauth_clients;
mod pulled_events;
mod schemas;
pub mod separation;
mod setup_links;
mod setup_links_hostile;
mod tenant_limits;
mod tenants;
mod tokens;
mod webhook_refusals;
mod webhooks;

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::Value;

use crate::support::{Backend, TestApp, TestResponse};

/// An app and an operator key of it.
pub struct Api {
    pub app: TestApp,
    pub key: String,
}

impl Api {
    /// An app on a new database of `backend`, with a read-write operator key called `backend`.
    pub async fn new(backend: Backend) -> Self {
        let app = TestApp::new(backend).await;
        let issued = app
            .state
            .directory
            .add_operator_key("backend", false)
            .await
            .unwrap();
        Api {
            app,
            key: issued.key,
        }
    }

    /// A request with the operator key, and a JSON body if there is one.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> TestResponse {
        self.call_with(method, path, body, &self.key, &[]).await
    }

    /// A request with `secret` as the bearer and `headers`.
    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        secret: &str,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {secret}"));
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        self.app.send(req.body(body).unwrap()).await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> TestResponse {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> TestResponse {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates a tenant called `name` and returns its view.
    pub async fn tenant(&self, name: &str) -> Value {
        let created = self
            .post("/api/v1/tenants", serde_json::json!({ "name": name }))
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        created.body
    }

    /// Every item of a list, page after page of `limit`.
    pub async fn all(&self, path: &str, limit: u32) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let join = if path.contains('?') { '&' } else { '?' };
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}{join}limit={limit}&cursor={c}"),
                None => format!("{path}{join}limit={limit}"),
            };
            let page = self.get(&url).await;
            assert_eq!(page.status, 200, "{url}: {}", page.body);
            let got = page.body["items"].as_array().unwrap();
            assert!(got.len() <= limit as usize);
            items.extend(got.iter().cloned());
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }
}

/// Asserts an RFC 9457 problem of `kind` (`validation`) with `status`, about `field`, and
/// returns its detail.
#[track_caller]
pub fn assert_problem(
    response: &TestResponse,
    status: u16,
    kind: &str,
    field: Option<&str>,
) -> String {
    assert_eq!(response.status.as_u16(), status, "body: {}", response.body);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json"),
        "body: {}",
        response.body
    );
    let body = &response.body;
    assert_eq!(body["type"], format!("urn:scimd:problem:{kind}"), "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert_eq!(body.get("field").and_then(Value::as_str), field, "{body}");
    let detail = body["detail"].as_str().expect("detail").to_owned();
    assert!(!detail.is_empty());
    detail
}
