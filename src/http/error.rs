//! The one place where errors become responses: a SCIM error body (RFC 7644 §3.12) with
//! `application/scim+json`, `WWW-Authenticate` on 401 (RFC 6750 §3). A 5xx is logged here,
//! once, with its cause chain, and answered with a generic detail.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::response::SCIM_JSON;
use crate::scim;
use crate::service;
use crate::store::StoreError;

/// What a handler can fail with.
#[derive(Debug)]
pub enum ApiError {
    Scim(scim::Error),
    Store(StoreError),
}

impl From<scim::Error> for ApiError {
    fn from(e: scim::Error) -> Self {
        ApiError::Scim(e)
    }
}

impl From<service::Error> for ApiError {
    fn from(e: service::Error) -> Self {
        match e {
            service::Error::Scim(e) => ApiError::Scim(e),
            service::Error::Store(e) => ApiError::Store(e),
        }
    }
}

/// The cause chain of an error, for the log.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = match self {
            ApiError::Scim(e) => e,
            ApiError::Store(e @ StoreError::Unavailable(_)) => {
                tracing::error!(error = %chain(&e), "database unavailable");
                scim::Error::unavailable()
            }
            ApiError::Store(e) => {
                tracing::error!(error = %chain(&e), "request failed");
                scim::Error::internal()
            }
        };
        scim_error_response(&error)
    }
}

/// The HTTP response for a SCIM error.
pub fn scim_error_response(error: &scim::Error) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&error.to_body()).unwrap_or_default();
    let mut response = (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON))],
        body,
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"scimd\""),
        );
    }
    response
}
