//! Responses: every body is `application/scim+json`; resources carry `ETag` and, when created,
//! `Location` (RFC 7644 §3.1, §3.14).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::http::extract::BaseUrl;
use crate::scim::resource::Version;
use crate::service::Shown;

pub const SCIM_JSON: &str = "application/scim+json";

/// A SCIM JSON response with its headers.
#[derive(Debug)]
pub struct Scim {
    status: StatusCode,
    body: Value,
    etag: Option<Version>,
    location: Option<String>,
}

impl Scim {
    pub fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            body,
            etag: None,
            location: None,
        }
    }

    /// A resource as the request asked to see it, with its `ETag`.
    pub fn shown(shown: &Shown, base: &BaseUrl) -> Self {
        Self::ok(shown.render(&base.0)).etag(shown.version())
    }

    /// Turns this into 201 with `Location` (RFC 7644 §3.3).
    pub fn created(mut self, location: String) -> Self {
        self.status = StatusCode::CREATED;
        self.location = Some(location);
        self
    }

    pub fn etag(mut self, version: Version) -> Self {
        self.etag = Some(version);
        self
    }
}

impl IntoResponse for Scim {
    fn into_response(self) -> Response {
        // a resource is rarely smaller: one allocation where growing would make several
        let mut body = Vec::with_capacity(1024);
        if serde_json::to_writer(&mut body, &self.body).is_err() {
            body.clear();
        }
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON))],
            body,
        )
            .into_response();
        let headers = response.headers_mut();
        if let Some(tag) = self
            .etag
            .and_then(|v| HeaderValue::from_str(&v.etag()).ok())
        {
            headers.insert(header::ETAG, tag);
        }
        if let Some(location) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(header::LOCATION, location);
        }
        response
    }
}

/// 304 for a GET whose `If-None-Match` names the current version (RFC 7644 §3.14).
pub fn not_modified(version: Version) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(tag) = HeaderValue::from_str(&version.etag()) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    response
}

/// 204 with the new `ETag` (a group PATCH).
pub fn no_content(version: Version) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(tag) = HeaderValue::from_str(&version.etag()) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    response
}
