//! A receiver of SCIM events (RFC 8935 push): a real HTTP server on 127.0.0.1:0 that records
//! every request (when it came, its headers, its body) and answers as the test's script says
//! at that moment — a status, a status with `Retry-After`, an RFC 8935 error, a slow answer or
//! none at all — and the verification of the SETs it received (HS256 with the subscription's
//! secret).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// How the receiver answers the next requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Script {
    /// This status, empty body (202 to begin with).
    Status(u16),
    /// This status with `Retry-After: <value>`.
    RetryAfter(u16, String),
    /// 400 with an RFC 8935 §2.3 error body `{"err": …, "description": …}`.
    Refuse { err: String, description: String },
    /// This status after holding the request this long (a slow receiver).
    Delay(Duration, u16),
    /// No answer: the request is held for an hour.
    Hang,
}

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
    /// The status it was answered with; none when it was held.
    pub answered: Option<u16>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The SET's claims, verified with `secret` (see [`verify`]).
    #[track_caller]
    pub fn claims(&self, secret: &str) -> Value {
        verify(&self.body, secret)
    }

    /// The SET's `jti`, read without verifying.
    pub fn jti(&self) -> String {
        unverified(&self.body)["jti"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

struct Shared {
    script: Mutex<Script>,
    received: Mutex<Vec<Received>>,
    arrived: Notify,
}

/// A running receiver, stopped when dropped.
pub struct Receiver {
    address: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Receiver {
    /// A receiver answering 202 until told otherwise.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            script: Mutex::new(Script::Status(202)),
            received: Mutex::new(Vec::new()),
            arrived: Notify::new(),
        });
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            address,
            shared,
            server,
        }
    }

    /// Where scimd is to POST events.
    pub fn url(&self) -> String {
        format!("http://{}/events", self.address)
    }

    /// Answers the next requests as `script` says.
    pub fn answer(&self, script: Script) {
        *self.shared.script.lock().unwrap() = script;
    }

    /// Every request so far, in the order they came.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The requests so far, once there are at least `n`; fails the test after `deadline`.
    #[track_caller]
    pub fn wait_for(
        &self,
        n: usize,
        deadline: Duration,
    ) -> impl Future<Output = Vec<Received>> + '_ {
        let caller = std::panic::Location::caller();
        self.wait_until(deadline, move |r| r.len() >= n, move |r| {
            format!(
                "{caller}: the receiver got {} request(s) in {deadline:?}, expected at least {n}",
                r.len()
            )
        })
    }

    /// The SETs delivered so far (the first request answered 2xx of each `jti`, in the order
    /// they came), once there are at least `n`; fails the test after `deadline`.
    #[track_caller]
    pub fn wait_for_delivered(
        &self,
        n: usize,
        deadline: Duration,
    ) -> impl Future<Output = Vec<Received>> + '_ {
        let caller = std::panic::Location::caller();
        let waited = self.wait_until(
            deadline,
            move |r| delivered(r).len() >= n,
            move |r| {
                format!(
                    "{caller}: {} event(s) delivered in {deadline:?}, expected {n}; requests: {:?}",
                    delivered(r).len(),
                    r.iter().map(|r| (r.jti(), r.answered)).collect::<Vec<_>>()
                )
            },
        );
        async move { delivered(&waited.await) }
    }

    async fn wait_until(
        &self,
        deadline: Duration,
        done: impl Fn(&[Received]) -> bool,
        failure: impl Fn(&[Received]) -> String,
    ) -> Vec<Received> {
        let end = tokio::time::Instant::now() + deadline;
        loop {
            let arrived = self.shared.arrived.notified();
            let now = self.received();
            if done(&now) {
                return now;
            }
            if tokio::time::timeout_at(end, arrived).await.is_err() {
                let now = self.received();
                assert!(done(&now), "{}", failure(&now));
                return now;
            }
        }
    }
}

/// The requests answered 2xx, the first of each `jti`, in the order they came.
pub fn delivered(received: &[Received]) -> Vec<Received> {
    let mut seen = std::collections::HashSet::new();
    received
        .iter()
        .filter(|r| r.answered.is_some_and(|s| (200..300).contains(&s)))
        .filter(|r| seen.insert(r.jti()))
        .cloned()
        .collect()
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let script = shared.script.lock().unwrap().clone();
    let answered = match &script {
        Script::Status(s) | Script::RetryAfter(s, _) | Script::Delay(_, s) => Some(*s),
        Script::Refuse { .. } => Some(400),
        Script::Hang => None,
    };
    shared.received.lock().unwrap().push(Received {
        at,
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        answered,
    });
    shared.arrived.notify_waiters();
    let status = |s: u16| StatusCode::from_u16(s).unwrap();
    match script {
        Script::Status(s) => status(s).into_response(),
        Script::RetryAfter(s, after) => (status(s), [(header::RETRY_AFTER, after)]).into_response(),
        Script::Refuse { err, description } => (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            json!({"err": err, "description": description}).to_string(),
        )
            .into_response(),
        Script::Delay(wait, s) => {
            tokio::time::sleep(wait).await;
            status(s).into_response()
        }
        Script::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
    }
}

/// The claims of the SET `token` once its HS256 signature checks out with `secret` (its UTF-8
/// bytes are the key), and its header is a SET's: `typ` `secevent+jwt`, a `kid`. SETs have no
/// `exp`; their `aud` is checked by the tests themselves.
#[track_caller]
pub fn verify(token: &str, secret: &str) -> Value {
    try_verify(token, secret).unwrap_or_else(|e| panic!("the SET does not verify: {e}: {token}"))
}

/// [`verify`], as a result.
pub fn try_verify(token: &str, secret: &str) -> Result<Value, String> {
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    if header.alg != Algorithm::HS256 {
        return Err(format!("alg is {:?}, not HS256", header.alg));
    }
    if header.typ.as_deref() != Some("secevent+jwt") {
        return Err(format!("typ is {:?}, not secevent+jwt", header.typ));
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let key = DecodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

/// The JOSE header of a SET, as JSON.
pub fn set_header(token: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    serde_json::to_value(header).unwrap()
}

/// The claims of a SET read without verifying its signature (to tell requests apart).
pub fn unverified(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .map(|data| data.claims)
        .unwrap_or(Value::Null)
}

/// Polls `check` until it holds; fails the test, saying `what`, after `deadline`.
pub async fn eventually(what: &str, deadline: Duration, check: impl AsyncFn() -> bool) {
    let end = tokio::time::Instant::now() + deadline;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < end,
            "{what}: still not so after {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
