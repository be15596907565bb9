//! Writes a client may retry safely: a `POST`, `PATCH` or `DELETE` at `/api/v1` sent with an
//! `Idempotency-Key` header is served once per operator key and key; a retry within 24 hours
//! gets the first answer again (with `Idempotent-Replayed: true`) and changes nothing. A retry
//! while the first is still being served gets 409; the same key on a different request, 422.
//! An answer that held a secret (a token, a client secret) is kept without it: its retry gets
//! 409 `secret-not-repeated` with what was created, so that the client can revoke it and make
//! another. An answer of the server's failure (5xx) is not kept: the retry is served anew.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::problem::{Kind, PROBLEM_JSON, Problem};
use crate::domain::operator::OperatorKey;
use crate::http::AppState;
use crate::service::operators::Claim;

/// The header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on an answer repeated for a retry.
pub const REPLAYED: &str = "idempotent-replayed";
/// The largest answer kept for retries (answers are a resource or two).
const MAX_KEPT_BYTES: usize = 1 << 20;

/// Marks an answer whose top-level fields `0` are secrets, shown once and never kept.
#[derive(Debug, Clone, Copy)]
pub struct Secrets(pub &'static [&'static str]);

/// Serves a write with an Idempotency-Key once; see the module's documentation.
pub async fn repeat(State(app): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let Some(value) = req.headers().get(IDEMPOTENCY_KEY) else {
        return next.run(req).await;
    };
    let Ok(idempotency_key) = value.to_str().map(str::to_owned) else {
        return Problem::invalid(
            "Idempotency-Key",
            "Idempotency-Key: must be visible ASCII (a UUID is best)",
        )
        .into_response();
    };
    let Some(operator) = req.extensions().get::<OperatorKey>().map(|k| k.id) else {
        return Problem::new(Kind::Unauthorized, "no operator key").into_response();
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, app.max_body_bytes).await else {
        return Problem::new(
            Kind::PayloadTooLarge,
            "the request body is larger than this server accepts (SCIMD_MAX_BODY_BYTES)",
        )
        .into_response();
    };
    let mut hash = Sha256::new();
    hash.update(parts.method.as_str().as_bytes());
    hash.update(b"\n");
    hash.update(
        parts
            .uri
            .path_and_query()
            .map_or("", |p| p.as_str())
            .as_bytes(),
    );
    hash.update(b"\n");
    hash.update(&bytes);
    let hash = hash.finalize();
    let directory = &app.directory;
    let claim = match directory
        .claim_idempotency_key(operator, &idempotency_key, &hash)
        .await
    {
        Ok(claim) => claim,
        Err(e) => return Problem::from(e).into_response(),
    };
    match claim {
        Claim::Mismatch => Problem::new(
            Kind::IdempotencyKeyReused,
            "Idempotency-Key: this key was sent with a different request (method, path or \
             body) in the last 24 hours; use a new key for a new request",
        )
        .at("Idempotency-Key")
        .into_response(),
        Claim::InProgress => {
            let mut response = Problem::new(
                Kind::IdempotencyKeyInUse,
                "a request with this Idempotency-Key is being served; retry in a moment to get \
                 its answer",
            )
            .at("Idempotency-Key")
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(1));
            response
        }
        Claim::Replay(answer) if answer.withheld => {
            let resource = serde_json::from_str::<Value>(&answer.body).unwrap_or(Value::Null);
            Problem::new(
                Kind::SecretNotRepeated,
                "this Idempotency-Key's request was served, and its answer held a secret, which \
                 scimd shows once and does not keep; `resource` is what it made: remove or \
                 rotate it, then make a new request with a new key",
            )
            .at("Idempotency-Key")
            .with_resource(resource)
            .into_response()
        }
        Claim::Replay(answer) => replay(answer.status, answer.body),
        Claim::Proceed => {
            let req = Request::from_parts(parts, Body::from(bytes));
            let response = next.run(req).await;
            keep(&app, operator, &idempotency_key, response).await
        }
    }
}

/// The answer kept for a retry, as first given.
fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = if status == StatusCode::NO_CONTENT || body.is_empty() {
        status.into_response()
    } else {
        let media = if status.is_success() {
            "application/json"
        } else {
            PROBLEM_JSON
        };
        (status, [(header::CONTENT_TYPE, media)], body).into_response()
    };
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// Keeps `response` for the retries of `idempotency_key`, its secrets left out, and gives it
/// back; an answer of the server's failure lets the key go.
async fn keep(
    app: &AppState,
    operator: uuid::Uuid,
    idempotency_key: &str,
    response: Response,
) -> Response {
    let directory = &app.directory;
    let status = response.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        if let Err(e) = directory
            .release_idempotency_key(operator, idempotency_key)
            .await
        {
            tracing::warn!(error = %crate::telemetry::chain(&e), "an Idempotency-Key not released");
        }
        return response;
    }
    let secrets = response.extensions().get::<Secrets>().copied();
    let (parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_KEPT_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "an answer too large to keep for its retries");
            let _ = directory
                .release_idempotency_key(operator, idempotency_key)
                .await;
            return Problem::new(Kind::Internal, "the answer could not be kept").into_response();
        }
    };
    let (kept, withheld) = match secrets {
        Some(Secrets(fields)) => {
            let mut value = serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut value {
                for field in fields {
                    map.remove(*field);
                }
            }
            (value.to_string(), true)
        }
        None => (String::from_utf8_lossy(&bytes).into_owned(), false),
    };
    if let Err(e) = directory
        .settle_idempotency_key(operator, idempotency_key, status.as_u16(), kept, withheld)
        .await
    {
        tracing::warn!(error = %crate::telemetry::chain(&e), "an idempotent answer not kept");
    }
    Response::from_parts(parts, Body::from(bytes))
}
