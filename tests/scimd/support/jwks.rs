//! A stand-in for Entra's key endpoints, and tokens signed as Entra signs them: a key server on
//! 127.0.0.1 (plain HTTP) serving each Entra tenant's OpenID configuration and the key set it
//! names, with the test keys a test publishes — counting fetches, and failing or answering
//! late on demand — and `sign`, which makes RS256 tokens with those keys.
//!
//! The keys are fixtures (tests/fixtures/entra_jwt/, made by its generate.sh with openssl):
//! generating 2048-bit RSA keys in a debug build takes seconds per key, and fixed keys keep
//! every run the same.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::AbortHandle;
use uuid::Uuid;

/// An RSA key of the fixtures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKey {
    /// Published from the start.
    A,
    /// Published when a test says so: a key Entra rolls over to.
    B,
    /// Never published: a forger's key.
    Rogue,
}

impl TestKey {
    /// The `kid` tokens signed with it carry, and the key set lists it under.
    pub fn kid(self) -> &'static str {
        match self {
            TestKey::A => "test-key-a",
            TestKey::B => "test-key-b",
            TestKey::Rogue => "test-key-rogue",
        }
    }

    fn private_pem(self) -> &'static str {
        match self {
            TestKey::A => include_str!("../../fixtures/entra_jwt/key-a.pem"),
            TestKey::B => include_str!("../../fixtures/entra_jwt/key-b.pem"),
            TestKey::Rogue => include_str!("../../fixtures/entra_jwt/key-rogue.pem"),
        }
    }

    /// The public key as Entra's key set gives it (`kty`, `use`, `kid`, `n`, `e`).
    fn jwk(self) -> Value {
        let text = match self {
            TestKey::A => include_str!("../../fixtures/entra_jwt/key-a.jwk.json"),
            TestKey::B => include_str!("../../fixtures/entra_jwt/key-b.jwk.json"),
            TestKey::Rogue => panic!("the rogue key is never published"),
        };
        let mut jwk: Value = serde_json::from_str(text).unwrap();
        jwk["kid"] = json!(self.kid());
        jwk["x5t"] = json!(self.kid());
        jwk
    }
}

/// `claims` signed RS256 with `key`, its header naming `key`'s kid, as Entra's tokens do.
pub fn sign(claims: &Value, key: TestKey) -> String {
    sign_as(claims, key, key.kid())
}

/// `claims` signed RS256 with `key`, its header naming `kid` (another key's, or none known).
pub fn sign_as(claims: &Value, key: TestKey, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    header.x5t = Some(kid.to_owned());
    let key = EncodingKey::from_rsa_pem(key.private_pem().as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// The claims of a token Entra's provisioning service sends a custom app of Entra tenant
/// `tid` (a v1 token), valid from a minute ago for an hour.
pub fn entra_claims(tid: Uuid) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "aud": "8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
        "iss": format!("https://sts.windows.net/{tid}/"),
        "iat": now - 60,
        "nbf": now - 60,
        "exp": now + 3600,
        "aio": "E2RgYJj5mPXbrt1l/Ux6Ty+v4zpGAA==",
        "appid": "00000014-0000-0000-c000-000000000000",
        "appidacr": "2",
        "idp": format!("https://sts.windows.net/{tid}/"),
        "oid": "6e3b3d0a-63b8-4a3b-9e63-0f0c0d1b0a9e",
        "rh": "0.AAAA.",
        "sub": "6e3b3d0a-63b8-4a3b-9e63-0f0c0d1b0a9e",
        "tid": tid.to_string(),
        "uti": "Tk1dGVnW2kS1Pj2CEMsGAA",
        "ver": "1.0"
    })
}

/// The key server. Stops when dropped.
pub struct KeyServer {
    pub address: SocketAddr,
    state: Arc<ServerState>,
    task: AbortHandle,
}

#[derive(Default)]
struct ServerState {
    published: Mutex<Vec<TestKey>>,
    metadata_fetches: AtomicUsize,
    key_fetches: AtomicUsize,
    /// Answer 503 to everything.
    failing: AtomicBool,
    /// Milliseconds to wait before answering.
    delay_ms: AtomicU64,
}

impl KeyServer {
    /// A key server publishing `keys` for every Entra tenant.
    pub async fn start(keys: &[TestKey]) -> Self {
        let state = Arc::new(ServerState::default());
        state.published.lock().unwrap().extend_from_slice(keys);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = Router::new()
            .route("/{tenant}/.well-known/openid-configuration", get(metadata))
            .route("/{tenant}/discovery/keys", get(key_set))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        })
        .abort_handle();
        Self {
            address,
            state,
            task,
        }
    }

    /// `SCIMD_ENTRA_METADATA_URL` for this server.
    pub fn metadata_url(&self) -> String {
        format!(
            "http://{}/{{tenant}}/.well-known/openid-configuration",
            self.address
        )
    }

    /// Adds `key` to the key set, as Entra does before rolling over to it.
    pub fn publish(&self, key: TestKey) {
        self.state.published.lock().unwrap().push(key);
    }

    /// How many times the key set was fetched.
    pub fn key_fetches(&self) -> usize {
        self.state.key_fetches.load(Ordering::SeqCst)
    }

    /// How many times an OpenID configuration was fetched.
    pub fn metadata_fetches(&self) -> usize {
        self.state.metadata_fetches.load(Ordering::SeqCst)
    }

    /// From now on answers 503 (`true`) or serves again (`false`).
    pub fn fail(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }

    /// From now on waits `delay` before answering.
    pub fn answer_after(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap();
        self.state.delay_ms.store(ms, Ordering::SeqCst);
    }
}

impl Drop for KeyServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Waits as told, then says whether to answer 503.
async fn unavailable(state: &ServerState) -> bool {
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    state.failing.load(Ordering::SeqCst)
}

async fn metadata(
    State(state): State<Arc<ServerState>>,
    Path(tenant): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    state.metadata_fetches.fetch_add(1, Ordering::SeqCst);
    if unavailable(&state).await {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    // Entra's v1 configuration, shortened to what a verifier reads.
    axum::Json(json!({
        "issuer": format!("https://sts.windows.net/{tenant}/"),
        "jwks_uri": format!("http://{host}/{tenant}/discovery/keys"),
        "id_token_signing_alg_values_supported": ["RS256"]
    }))
    .into_response()
}

async fn key_set(State(state): State<Arc<ServerState>>) -> Response {
    state.key_fetches.fetch_add(1, Ordering::SeqCst);
    if unavailable(&state).await {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let keys: Vec<Value> = state
        .published
        .lock()
        .unwrap()
        .iter()
        .map(|k| k.jwk())
        .collect();
    axum::Json(json!({ "keys": keys })).into_response()
}
