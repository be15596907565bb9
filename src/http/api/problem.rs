//! Errors at `/api/v1` as RFC 9457 problem details (`application/problem+json`): a `type` URI
//! that names the kind of problem (`urn:scimd:problem:validation`), its `title`, the `status`,
//! a `detail` a developer can act on, and the `field` at fault when there is one. The use
//! cases' errors are mapped here, once; a server-side failure is logged here with its cause
//! and answered with a generic detail.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::http::error::RETRY_AFTER_SECONDS;
use crate::scim::{self, ScimType};
use crate::service::{Error, Unavailable};
use crate::telemetry::chain;

/// The media type of a problem (RFC 9457 §3).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The kinds of problem `/api/v1` answers with, each a `type` of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 400: the request is not the message the operation takes (JSON that does not parse).
    Malformed,
    /// 401: no operator key, or not a valid one.
    Unauthorized,
    /// 403: the key may not do this (a read-only key writing).
    Forbidden,
    /// 404: nothing of this kind with this name or id.
    NotFound,
    /// 405.
    MethodNotAllowed,
    /// 409: the request conflicts with what is stored (a name taken, undelivered events).
    Conflict,
    /// 410: what the request reads from is no longer kept (an events cursor past retention).
    Gone,
    /// 409: a request with this Idempotency-Key is being served now.
    IdempotencyKeyInUse,
    /// 409: a retry of a request whose answer held a secret, which is shown only once.
    SecretNotRepeated,
    /// 412.
    PreconditionFailed,
    /// 413.
    PayloadTooLarge,
    /// 415.
    UnsupportedMediaType,
    /// 422: a field's value is not valid; `field` names it.
    Validation,
    /// 422: the Idempotency-Key was used by a different request.
    IdempotencyKeyReused,
    /// 429: the key sent more requests than `SCIMD_API_RATE_LIMIT` allows.
    RateLimited,
    /// 500.
    Internal,
    /// 503: the database is unavailable or scimd is at its limit; retry.
    Unavailable,
}

impl Kind {
    /// Every kind, for the API document and the book.
    pub const ALL: [Kind; 17] = [
        Kind::Malformed,
        Kind::Unauthorized,
        Kind::Forbidden,
        Kind::NotFound,
        Kind::MethodNotAllowed,
        Kind::Conflict,
        Kind::Gone,
        Kind::IdempotencyKeyInUse,
        Kind::SecretNotRepeated,
        Kind::PreconditionFailed,
        Kind::PayloadTooLarge,
        Kind::UnsupportedMediaType,
        Kind::Validation,
        Kind::IdempotencyKeyReused,
        Kind::RateLimited,
        Kind::Internal,
        Kind::Unavailable,
    ];

    /// The last part of the `type` URI.
    pub fn slug(self) -> &'static str {
        match self {
            Kind::Malformed => "malformed-request",
            Kind::Unauthorized => "unauthorized",
            Kind::Forbidden => "forbidden",
            Kind::NotFound => "not-found",
            Kind::MethodNotAllowed => "method-not-allowed",
            Kind::Conflict => "conflict",
            Kind::Gone => "gone",
            Kind::IdempotencyKeyInUse => "idempotency-key-in-use",
            Kind::SecretNotRepeated => "secret-not-repeated",
            Kind::PreconditionFailed => "precondition-failed",
            Kind::PayloadTooLarge => "payload-too-large",
            Kind::UnsupportedMediaType => "unsupported-media-type",
            Kind::Validation => "validation",
            Kind::IdempotencyKeyReused => "idempotency-key-reused",
            Kind::RateLimited => "rate-limited",
            Kind::Internal => "internal",
            Kind::Unavailable => "unavailable",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::Malformed => "The request is malformed",
            Kind::Unauthorized => "An operator key is required",
            Kind::Forbidden => "The operator key may not do this",
            Kind::NotFound => "Not found",
            Kind::MethodNotAllowed => "Method not allowed",
            Kind::Conflict => "The request conflicts with the current state",
            Kind::Gone => "No longer kept",
            Kind::IdempotencyKeyInUse => "A request with this Idempotency-Key is in progress",
            Kind::SecretNotRepeated => "The answer held a secret, which is shown only once",
            Kind::PreconditionFailed => "Precondition failed",
            Kind::PayloadTooLarge => "The request body is too large",
            Kind::UnsupportedMediaType => "The request body must be JSON",
            Kind::Validation => "A field is not valid",
            Kind::IdempotencyKeyReused => "The Idempotency-Key was used by another request",
            Kind::RateLimited => "Too many requests",
            Kind::Internal => "Internal error",
            Kind::Unavailable => "Unavailable; retry later",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Kind::Malformed => StatusCode::BAD_REQUEST,
            Kind::Unauthorized => StatusCode::UNAUTHORIZED,
            Kind::Forbidden => StatusCode::FORBIDDEN,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Kind::Conflict | Kind::IdempotencyKeyInUse | Kind::SecretNotRepeated => {
                StatusCode::CONFLICT
            }
            Kind::Gone => StatusCode::GONE,
            Kind::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Kind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Kind::Validation | Kind::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Kind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `type` URI.
    pub fn uri(self) -> String {
        format!("urn:scimd:problem:{}", self.slug())
    }
}

/// A problem detail (RFC 9457 §3.1), boxed: it is the error of most functions here, and small
/// errors keep their results small.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem(Box<ProblemBody>);

impl std::ops::Deref for Problem {
    type Target = ProblemBody;
    fn deref(&self) -> &ProblemBody {
        &self.0
    }
}

impl Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl utoipa::PartialSchema for Problem {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        ProblemBody::schema()
    }
}

impl ToSchema for Problem {
    fn name() -> std::borrow::Cow<'static, str> {
        "Problem".into()
    }
}

/// A problem detail's members (RFC 9457 §3.1), with scimd's extension members `field` and
/// `resource`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:scimd:problem:validation",
    "title": "A field is not valid",
    "status": 422,
    "detail": "name: 'Contoso Ltd' is not a tenant name: use lower-case letters, digits and '-', \
               1 to 63 of them, starting and ending with a letter or digit",
    "field": "name"
}))]
pub struct ProblemBody {
    /// A URI naming the kind of problem: `urn:scimd:problem:<kind>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The kind of problem, for people; the same for every problem of the kind.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, and what to do.
    pub detail: String,
    /// The field (of the body, the query, the path or a header) at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What the request changed, for a retry whose answer held a secret (without the secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub resource: Option<Value>,
}

impl Problem {
    pub fn new(kind: Kind, detail: impl Into<String>) -> Self {
        Problem(Box::new(ProblemBody {
            kind: kind.uri(),
            title: kind.title().to_owned(),
            status: kind.status().as_u16(),
            detail: detail.into(),
            field: None,
            resource: None,
        }))
    }

    /// The problem is about `field`.
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.0.field = Some(field.into());
        self
    }

    /// A field's value that is not valid.
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        Problem::new(Kind::Validation, detail).at(field)
    }

    pub fn with_resource(mut self, resource: Value) -> Self {
        self.0.resource = Some(resource);
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
            body,
        )
            .into_response();
        let headers = response.headers_mut();
        match status {
            StatusCode::UNAUTHORIZED => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"scimd-api\""),
                );
            }
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            }
            _ => {}
        }
        response
    }
}

/// The problem a SCIM error of the use cases is at `/api/v1`.
impl From<scim::Error> for Problem {
    fn from(e: scim::Error) -> Self {
        let kind = match (e.status, e.scim_type) {
            (400, Some(ScimType::InvalidSyntax)) => Kind::Malformed,
            (400, _) => Kind::Validation,
            (401, _) => Kind::Unauthorized,
            (403, _) => Kind::Forbidden,
            (404, _) => Kind::NotFound,
            (405, _) => Kind::MethodNotAllowed,
            (409, _) => Kind::Conflict,
            (412, _) => Kind::PreconditionFailed,
            (413, _) => Kind::PayloadTooLarge,
            (415, _) => Kind::UnsupportedMediaType,
            (429, _) => Kind::RateLimited,
            (503, _) => Kind::Unavailable,
            (500.., _) => Kind::Internal,
            _ => Kind::Validation,
        };
        let field = e.attribute().map(str::to_owned);
        let problem = Problem::new(kind, e.detail);
        match field {
            Some(field) => problem.at(field),
            None => problem,
        }
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Self {
        match e {
            Error::Scim(e) => e.into(),
            Error::Unavailable(why) => {
                match &why {
                    Unavailable::Database(cause) => {
                        metrics::counter!("scimd_store_errors_total", "kind" => "unavailable")
                            .increment(1);
                        tracing::error!(error = %chain(cause), "database unavailable");
                    }
                    other => tracing::warn!(reason = %other, "request not served"),
                }
                let detail = match why {
                    Unavailable::Database(_) => "the database is unavailable; retry later".into(),
                    other => format!("{other}; retry later"),
                };
                Problem::new(Kind::Unavailable, detail)
            }
            Error::Internal(cause) => {
                metrics::counter!("scimd_internal_errors_total").increment(1);
                tracing::error!(error = %chain(cause.as_ref()), "request failed");
                Problem::new(
                    Kind::Internal,
                    "scimd could not serve the request; its log says why under this request's \
                     x-request-id",
                )
            }
        }
    }
}

impl From<crate::store::StoreError> for Problem {
    fn from(e: crate::store::StoreError) -> Self {
        Error::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_type_and_the_status_its_title_says() {
        let mut uris: Vec<String> = Kind::ALL.iter().map(|k| k.uri()).collect();
        uris.sort();
        uris.dedup();
        assert_eq!(uris.len(), Kind::ALL.len());
        assert_eq!(Kind::Validation.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(Kind::Validation.uri(), "urn:scimd:problem:validation");
    }

    #[test]
    fn a_scim_error_about_an_attribute_is_a_validation_problem_naming_the_field() {
        let e = scim::Error::invalid_value("name: may not be empty")
            .at("name")
            .because("may not be empty");
        let problem = Problem::from(e);
        assert_eq!(
            serde_json::to_value(&problem).unwrap(),
            serde_json::json!({
                "type": "urn:scimd:problem:validation",
                "title": "A field is not valid",
                "status": 422,
                "detail": "name: may not be empty",
                "field": "name"
            })
        );
    }
}
