//! Health endpoints for orchestrators, outside `/scim/v2` and without authentication, and
//! `/metrics` on the main address for bearers of the metrics token.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::AppState;

/// The process is up.
pub async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok\n")
}

/// The database answers; 503 otherwise.
pub async fn readyz(State(app): State<AppState>) -> impl IntoResponse {
    match app.directory.ready().await {
        Ok(()) => (StatusCode::OK, "ready\n"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}

/// `GET /metrics` on the main address: for bearers of `SCIMD_METRICS_TOKEN` only (see
/// [`crate::meter::Access`]).
pub async fn metrics(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let refusal = |status: StatusCode, message: &'static str| {
        let mut response = (status, message).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"scimd metrics\""),
            );
        }
        response
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match app.metrics.allows(authorization) {
        Some(true) => crate::meter::render().await,
        Some(false) => refusal(
            StatusCode::UNAUTHORIZED,
            "send Authorization: Bearer <SCIMD_METRICS_TOKEN> to read the metrics\n",
        ),
        None => refusal(
            StatusCode::NOT_FOUND,
            "metrics are not served on this address: set SCIMD_METRICS_LISTEN to serve them \
             on an address of their own, or SCIMD_METRICS_TOKEN to serve them here to \
             bearers of that token\n",
        ),
    }
}
