//! Prometheus metrics (the `metrics` facade with `metrics-exporter-prometheus`): the recorder
//! is installed once per process, requests and their latency are counted by route, and the
//! store's pool, cache and activity log report what operators graph. `GET /metrics` renders
//! them in the text format: on `SCIMD_METRICS_LISTEN` for anyone who reaches that address, on
//! the main address only to bearers of `SCIMD_METRICS_TOKEN`.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Config;

/// Request latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed on first use (`None` if another recorder was installed).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("scimd_http_request_duration_seconds".into()),
                    &BUCKETS,
                )
                .ok()?
                .set_buckets_for_metric(
                    Matcher::Full("scimd_admission_wait_seconds".into()),
                    &BUCKETS,
                )
                .ok()?;
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// Who may read `/metrics` on the main address: nobody (they are served on
/// `SCIMD_METRICS_LISTEN`, or not configured to be served there), or bearers of
/// `SCIMD_METRICS_TOKEN`. The main address faces Entra and the internet; the metrics name every
/// tenant and the attribute names clients sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Served on their own address only.
    Apart,
    /// Served on the main address to bearers of this token (its SHA-256).
    Token([u8; 32]),
    /// Not served on the main address.
    Closed,
}

impl Access {
    pub fn of(config: &Config) -> Self {
        match (&config.metrics_listen, &config.metrics_token) {
            (Some(_), _) => Access::Apart,
            (None, Some(token)) => Access::Token(Sha256::digest(token.expose()).into()),
            (None, None) => Access::Closed,
        }
    }

    /// Whether a request with `authorization` (its `Authorization` header) may read the
    /// metrics here: `None` when they are not served here at all.
    pub fn allows(&self, authorization: Option<&str>) -> Option<bool> {
        let Access::Token(expected) = self else {
            return None;
        };
        let sent = authorization
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| Sha256::digest(token.trim()));
        Some(sent.is_some_and(|hash| bool::from(hash.as_slice().ct_eq(expected))))
    }
}

/// The methods scimd routes; any other is counted as `other`, so that made-up methods cannot
/// add label values without bound.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts every request by method, matched route and status, and times it by route; records
/// the matched route in the request span too (routing happens inside the span, after paths are
/// normalised). Applied to the router's routes, where `MatchedPath` is known: one layer for
/// both, as each layer of a route costs every request a clone and a boxed future.
pub async fn count_requests(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_owned();
    tracing::Span::current().record("route", route.as_str());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("scimd_http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("scimd_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`, unguarded (on `SCIMD_METRICS_LISTEN`).
pub async fn render() -> Response {
    match handle() {
        Some(handle) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4",
            )],
            handle.render(),
        )
            .into_response(),
        None => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "no metrics recorder in this process\n",
        )
            .into_response(),
    }
}

/// Periodic upkeep of the recorder (histogram buckets roll over).
pub fn upkeep() {
    if let Some(handle) = handle() {
        handle.run_upkeep();
    }
}
