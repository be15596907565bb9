//! Logs and request spans. Every request gets a span with method, matched route, request id
//! (taken from `x-request-id` or generated, and echoed back), tenant, status and latency.
//! Bodies, tokens and personal data are never logged: SCIM payloads are personal data.

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, Request, Response};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use tracing::{Span, field};
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Installs the global subscriber, writing to stderr. `filter` uses `RUST_LOG` syntax
/// (`info,scimd=debug`).
pub fn init(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|e| {
        eprintln!("SCIMD_LOG '{filter}' is not a valid filter ({e}); using 'info'");
        EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // stdout belongs to the commands' output (`scimd token issue` prints the token there)
        .with_writer(std::io::stderr);
    // A second init (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}

/// An error with its causes, `a: b: c`, for the log and for operators.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps the router in request-id and tracing layers.
pub fn instrument(router: Router) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request<_>| {
            let request_id = req
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            tracing::info_span!(
                "request",
                method = %req.method(),
                route = field::Empty,
                request_id,
                tenant = field::Empty,
                status = field::Empty,
                latency_ms = field::Empty,
            )
        })
        .on_request(())
        .on_response(|res: &Response<_>, latency: Duration, span: &Span| {
            span.record("status", res.status().as_u16());
            span.record("latency_ms", latency.as_secs_f64() * 1000.0);
            tracing::info!("request finished");
        })
        .on_failure(());
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(trace)
        .layer(SetRequestIdLayer::new(REQUEST_ID, RequestIds::new()))
}

/// Request ids for requests that bring none: UUIDs made of a random number drawn once per
/// process and a counter, unique without a system call per request (a random UUID each time
/// reads the operating system's randomness).
#[derive(Debug, Clone)]
struct RequestIds {
    process: u64,
    next: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl RequestIds {
    fn new() -> Self {
        let mut seed = [0u8; 8];
        // without randomness the ids are still unique within the process
        let _ = getrandom::fill(&mut seed);
        Self {
            process: u64::from_le_bytes(seed),
            next: std::sync::Arc::default(),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = uuid::Uuid::from_u64_pair(self.process, n);
        axum::http::HeaderValue::from_str(&id.hyphenated().to_string())
            .ok()
            .map(RequestId::new)
    }
}
