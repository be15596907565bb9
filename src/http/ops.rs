//! Health endpoints for orchestrators, outside `/scim/v2` and without authentication.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

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
