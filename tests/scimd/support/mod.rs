//! The test application: a fresh database per test, the router driven with `oneshot`.

pub mod acme;
pub mod endless;
pub mod jwks;
pub mod pebble;
pub mod pg;
pub mod ports;
pub mod process;
pub mod proxy;
pub mod receiver;
pub mod served;
pub mod smtp;
pub mod tls;
pub mod wire;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use clap::Parser;
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tower::ServiceExt;

use scimd::AppState;
use scimd::config::Config;
use scimd::store::{AnyStore, Options};

/// The bootstrap token every test app accepts for tenant `default`.
pub const TOKEN: &str = "test-token-0123456789abcdef";
/// The token that reads `/metrics` on a test app's main address.
pub const METRICS_TOKEN: &str = "test-metrics-token-0123456789";

/// The store a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A database of its own, dropped when the test ends: a fresh PostgreSQL database, or a fresh
/// SQLite file.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    pub name: String,
    /// Dropped with this value; a replica's view of another test's database is not.
    owned: bool,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        let name = format!("scimd_test_{}", uuid::Uuid::new_v4().simple());
        let url = match backend {
            Backend::Postgres => {
                // scimd creates the database itself when it is missing (as `serve` does).
                pg::database_url(pg::server_url().await, &name)
            }
            Backend::Sqlite => format!("sqlite://{}", sqlite_path(&name).display()),
        };
        Self {
            url,
            backend,
            name,
            owned: true,
        }
    }

    /// The same database, as a second replica opens it; dropping it leaves the database.
    pub fn replica(&self) -> Self {
        Self {
            url: self.url.clone(),
            backend: self.backend,
            name: self.name.clone(),
            owned: false,
        }
    }
}

fn sqlite_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("{name}.db"))
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        let name = self.name.clone();
        if self.backend == Backend::Sqlite {
            let path = sqlite_path(&name);
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            return;
        }
        // Drop is synchronous; a thread of its own keeps the runtime out of it.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let server = pg::server_url().await;
                if let Ok(mut conn) = PgConnection::connect(server).await {
                    let _ = sqlx::query(&format!("drop database if exists {name} with (force)"))
                        .execute(&mut conn)
                        .await;
                }
            });
            Ok::<(), std::io::Error>(())
        })
        .join();
    }
}

/// A second store on a test database, as the store tests drive it directly.
pub async fn open_store(url: &str) -> AnyStore {
    AnyStore::open(url, Options::with_connections(4))
        .await
        .expect("open the store")
}

/// The token hashes stored in a test database, read with the backend's own driver.
pub async fn stored_token_hashes(db: &TestDb) -> Vec<Vec<u8>> {
    let query = "select token_hash from tokens";
    match db.backend {
        Backend::Postgres => {
            let mut conn = PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar(query)
                .fetch_all(&mut conn)
                .await
                .unwrap()
        }
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar(query)
                .fetch_all(&mut conn)
                .await
                .unwrap()
        }
    }
}

/// Runs statements on a test database with the backend's own driver, behind scimd's back.
pub async fn execute_sql(db: &TestDb, statements: &[String]) {
    match db.backend {
        Backend::Postgres => {
            let mut conn = PgConnection::connect(&db.url).await.unwrap();
            for statement in statements {
                sqlx::raw_sql(statement).execute(&mut conn).await.unwrap();
            }
        }
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            for statement in statements {
                sqlx::raw_sql(statement).execute(&mut conn).await.unwrap();
            }
        }
    }
}

/// A response with its body parsed as JSON (`Value::Null` when empty).
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a SCIM error response (RFC 7644 §3.12) and returns its detail.
    #[track_caller]
    pub fn assert_scim_error(&self, status: u16, scim_type: Option<&str>) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.header("content-type"), Some("application/scim+json"));
        assert_eq!(
            self.body["schemas"],
            serde_json::json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
        );
        assert_eq!(self.body["status"], Value::String(status.to_string()));
        assert_eq!(
            self.body.get("scimType").and_then(Value::as_str),
            scim_type,
            "body: {}",
            self.body
        );
        let detail = self.body["detail"].as_str().expect("detail").to_owned();
        assert!(!detail.is_empty());
        detail
    }
}

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub db: TestDb,
}

/// The settings `scimd serve` would read with these flags.
pub fn settings(db_url: &str) -> Config {
    Config::parse_from([
        "scimd",
        "--database-url",
        db_url,
        "--bootstrap-token",
        TOKEN,
        "--database-max-connections",
        "4",
        "--public-url",
        "http://scimd.test",
        "--metrics-token",
        METRICS_TOKEN,
    ])
}

impl TestApp {
    pub async fn new(backend: Backend) -> Self {
        Self::on(TestDb::new(backend).await).await
    }

    /// An app on an existing database, as after a restart.
    pub async fn on(db: TestDb) -> Self {
        let config = settings(&db.url);
        Self::configured(db, config).await
    }

    /// An app on an existing database, started with `config`.
    pub async fn configured(db: TestDb, config: Config) -> Self {
        let state = scimd::build_state(&config).await.expect("start scimd");
        Self {
            router: scimd::app(state.clone()),
            state,
            db,
        }
    }

    /// A request with the bootstrap token.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> TestResponse {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/scim+json");
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        self.send(req.body(body).unwrap()).await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> TestResponse {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> TestResponse {
        self.call(Method::DELETE, path, None).await
    }

    /// Any request, as built by the test.
    pub async fn send(&self, req: Request<Body>) -> TestResponse {
        send(&self.router, req).await
    }
}

pub async fn send(router: &Router, req: Request<Body>) -> TestResponse {
    let response = router.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    TestResponse {
        status,
        headers,
        body,
    }
}

/// A user body as Entra sends it on create (Microsoft's "Tutorial: Develop and plan
/// provisioning for a SCIM endpoint in Microsoft Entra ID", "Create User" request,
/// https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups).
pub fn entra_user(user_name: &str) -> Value {
    serde_json::json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": user_name,
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": format!("{user_name}@example.com")}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Barbara Jensen", "familyName": "Jensen", "givenName": "Barbara"},
        "roles": [],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984",
            "department": "Tour Operations"
        }
    })
}

/// The `name=value` pair of a `Set-Cookie` header, as a browser sends it back.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_owned()
}

/// Percent-encodes everything but unreserved characters (a query parameter's value).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
