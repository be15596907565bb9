//! The one place where errors become responses: a SCIM error body (RFC 7644 §3.12) with
//! `application/scim+json`, `WWW-Authenticate` on 401 (RFC 6750 §3), `Retry-After` on 503.
//! A server-side failure is logged here, once, with its cause chain, and answered with a
//! generic detail that points at the log. The error goes out on the response too, for the
//! activity log (`http::auth`), which keeps its note and never its detail.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::response::SCIM_JSON;
use crate::scim;
use crate::service::{Error, Unavailable};
use crate::telemetry::chain;

/// Seconds a client is asked to wait before retrying when the database is unavailable.
pub const RETRY_AFTER_SECONDS: u32 = 5;

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::Scim(e) => scim_error_response(&e),
            Error::Unavailable(why) => {
                let error = match &why {
                    Unavailable::Database(cause) => {
                        metrics::counter!("scimd_store_errors_total", "kind" => "unavailable")
                            .increment(1);
                        tracing::error!(error = %chain(cause), "database unavailable");
                        scim::Error::unavailable()
                    }
                    Unavailable::EntraKeys(cause) => {
                        // the metadata URL and the network error stay in the log: a client
                        // learns only that it may retry
                        tracing::warn!(error = %cause, "Entra's signing keys cannot be fetched");
                        scim::Error::new(503, None, format!("{why}; retry later"))
                    }
                    other => {
                        tracing::warn!(reason = %other, "request not served");
                        scim::Error::new(503, None, format!("{other}; retry later"))
                    }
                };
                let mut response = scim_error_response(&error);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
                response
            }
            Error::Internal(cause) => {
                metrics::counter!("scimd_internal_errors_total").increment(1);
                tracing::error!(error = %chain(cause.as_ref()), "request failed");
                scim_error_response(&scim::Error::internal())
            }
        }
    }
}

/// The HTTP response for a SCIM error. The error rides on the response as an extension, so
/// that the activity log records its note (never its detail, which may quote values).
fn scim_error_response(error: &scim::Error) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&error.to_body()).unwrap_or_default();
    let mut response = (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON))],
        body,
    )
        .into_response();
    response.extensions_mut().insert(error.clone());
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"scimd\""),
        );
    }
    response
}
