//! SCIM events (RFC 9967) pushed to real HTTP receivers (RFC 8935), with scimd in the test's
//! process and its dispatcher running beside the router: what each change sends and what a
//! refused one does not (`sets`), what an operator does to a subscription (`subscriptions`),
//! how delivery copes with receivers that fail, refuse, throttle or hang (`delivery`), and
//! with answers that never end (`endless`).

mod delivery;
mod endless;
mod pruning;
mod sets;
mod subscriptions;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, header};
use scimd::config::Config;
use scimd::domain::events::{Event, FailedDelivery, Kinds, Subscription};
use serde_json::{Value, json};
use sqlx::Connection;

use crate::support::receiver::Receiver;
use crate::support::{Backend, TOKEN, TestApp, TestDb, TestResponse, entra_user, settings};

/// How long a test waits for what should come within a second or two.
pub const WAIT: Duration = Duration::from_secs(20);

/// A test app whose dispatcher runs (stopped with the test).
pub struct Events {
    pub app: TestApp,
    dispatcher: tokio::task::JoinHandle<()>,
}

impl Drop for Events {
    fn drop(&mut self) {
        self.dispatcher.abort();
    }
}

impl std::ops::Deref for Events {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

/// A subscription as `add_webhook` issued it.
#[derive(Debug, Clone)]
pub struct Hook {
    pub id: String,
    pub secret: String,
}

impl Events {
    /// scimd with the settings `scimd serve` reads by default, delivering events.
    pub async fn start(backend: Backend) -> Self {
        Self::configured(backend, |_| {}).await
    }

    /// The same, with `configure` applied to the settings first.
    pub async fn configured(backend: Backend, configure: impl FnOnce(&mut Config)) -> Self {
        let db = TestDb::new(backend).await;
        let mut config = settings(&db.url);
        configure(&mut config);
        let app = TestApp::configured(db, config).await;
        let dispatcher = tokio::spawn(app.state.directory.clone().dispatch_events());
        Self { app, dispatcher }
    }

    /// Subscribes `receiver` to tenant `default`'s events of `kinds`.
    pub async fn subscribe(&self, receiver: &Receiver, kinds: Kinds, full: bool) -> Hook {
        let issued = self
            .state
            .directory
            .add_webhook("default", &receiver.url(), kinds, full)
            .await
            .unwrap();
        assert!(issued.secret.starts_with("whsec_"), "{}", issued.secret);
        Hook {
            id: issued.subscription.id.to_string(),
            secret: issued.secret,
        }
    }

    /// A subscription's delivery state.
    pub async fn webhook(&self, hook: &Hook) -> Subscription {
        self.state.directory.webhook(&hook.id).await.unwrap()
    }

    /// A subscription's dropped and parked deliveries, newest first.
    pub async fn failures(&self, hook: &Hook) -> Vec<FailedDelivery> {
        self.state
            .directory
            .webhook_failures(&hook.id, 100)
            .await
            .unwrap()
    }

    /// Every event of tenant `default` in the outbox, in commit order.
    pub async fn outbox(&self) -> Vec<Event> {
        self.state
            .directory
            .events_after("default", 0, 1000)
            .await
            .unwrap()
    }

    /// Creates a user `name` (with an externalId of its own); its id and the response.
    pub async fn create_user(&self, name: &str) -> (String, TestResponse) {
        let mut body = entra_user(name);
        body["externalId"] = json!(format!("ext-{name}"));
        let created = self.post("/scim/v2/Users", body).await;
        assert_eq!(created.status, 201, "{}", created.body);
        (created.body["id"].as_str().unwrap().to_owned(), created)
    }

    /// A PATCH of `path` with `ops` and optional `If-Match`.
    pub async fn patch(&self, path: &str, ops: Value, if_match: Option<&str>) -> TestResponse {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
        self.send_json(Method::PATCH, path, Some(body), if_match)
            .await
    }

    /// Any request with the bootstrap token, a JSON body and optional `If-Match`.
    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> TestResponse {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(header::CONTENT_TYPE, "application/scim+json");
        if let Some(version) = if_match {
            req = req.header(header::IF_MATCH, version);
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        self.send(req.body(body).unwrap()).await
    }

    /// Counts rows with the backend's own driver, behind scimd's back.
    pub async fn count(&self, query: &str) -> i64 {
        let db = &self.app.db;
        match db.backend {
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
                sqlx::query_scalar(query)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
            }
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
                sqlx::query_scalar(query)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
            }
        }
    }
}

/// Entra's deactivation: `active` replaced by the string "False".
pub fn deactivation() -> Value {
    json!([{"op": "Replace", "path": "active", "value": "False"}])
}

/// The event URIs of a SET's claims, in order.
pub fn uris(claims: &Value) -> Vec<String> {
    claims["events"]
        .as_object()
        .map(|events| events.keys().cloned().collect())
        .unwrap_or_default()
}

/// The URI of a provisioning event (RFC 9967 §2.4).
pub fn prov(name: &str) -> String {
    format!("urn:ietf:params:scim:event:prov:{name}")
}
