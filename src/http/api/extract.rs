//! Extractors of `/api/v1` whose rejections are problems: the operator the request acts for,
//! the JSON body (field-level errors: the path of the field at fault), query parameters and
//! path segments. axum's own rejection bodies never reach a client.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::problem::{Kind, Problem};
use crate::domain::audit::{Actor, ActorKind};
use crate::domain::operator::OperatorKey;
use crate::http::AppState;
use crate::http::client::Client;
use crate::http::extract::BaseUrl;
use crate::service::Directory;

/// The directory acting for the request's operator key (the audit trail names it, with the
/// client's address), the key, and the SCIM base URL as the client reaches scimd.
#[derive(Debug, Clone)]
pub struct Acting {
    pub directory: Directory,
    pub key: OperatorKey,
    pub scim_url: String,
}

impl FromRequestParts<AppState> for Acting {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Problem> {
        let key = parts
            .extensions
            .get::<OperatorKey>()
            .cloned()
            .ok_or_else(|| Problem::new(Kind::Unauthorized, "no operator key"))?;
        let address = parts
            .extensions
            .get::<Client>()
            .and_then(|c| c.address)
            .map(|a| a.to_string());
        let BaseUrl(scim_url) = BaseUrl::from_request_parts(parts, app)
            .await
            .map_err(Problem::from)?;
        let actor = Actor {
            kind: ActorKind::OperatorKey,
            name: key.name.clone(),
            address,
        };
        Ok(Acting {
            directory: app.directory.acting(actor),
            key,
            scim_url,
        })
    }
}

/// A JSON body read into `T`: 415 unless it is JSON, 413 past `SCIMD_MAX_BODY_BYTES`, 400
/// when it does not parse, 422 naming the field when a field is missing, unknown or of the
/// wrong type, and 422 for an array (every body of the API is an object, but serde reads a
/// struct from an array too: `[null, null]` as `{"a": null, "b": null}`).
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let bytes = read(req, state).await?;
        object(&bytes)?;
        parse(&bytes).map(Body)
    }
}

/// A JSON body that may be left out (an empty body or `null` is `None`), read as [`Body`] is.
#[derive(Debug)]
pub struct MaybeBody<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for MaybeBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let bytes = read(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(MaybeBody(None));
        }
        object(&bytes)?;
        parse::<Option<T>>(&bytes).map(MaybeBody)
    }
}

/// Refuses a body that is a JSON array: 400 if it is not even JSON, like any body.
fn object(bytes: &[u8]) -> Result<(), Problem> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'[') {
        return Ok(());
    }
    parse::<serde_json::Value>(bytes)?;
    Err(Problem::new(
        Kind::Validation,
        "the body: send a JSON object ({…}), not an array",
    ))
}

/// The body's bytes, if it is JSON (or has no content type) and within the limit.
async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, Problem> {
    if let Some((essence, false)) = crate::http::extract::json_content_type(req.headers()) {
        return Err(Problem::new(
            Kind::UnsupportedMediaType,
            format!("the body is {essence}; send application/json"),
        ));
    }
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(
                Kind::PayloadTooLarge,
                "the request body is larger than this server accepts (SCIMD_MAX_BODY_BYTES)",
            )
        } else {
            Problem::new(
                Kind::Malformed,
                format!("the request body could not be read: {e}"),
            )
        }
    })
}

/// `bytes` read as JSON into `T`.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let mut field = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            // a missing field is reported at its parent: the field is the one named
            if let Some(name) = missing_field(&inner.to_string()) {
                field = if field == "." {
                    name.to_owned()
                } else {
                    format!("{field}.{name}")
                };
            }
            let problem = Problem::new(Kind::Validation, message(&field, &inner.to_string()));
            if field == "." {
                problem
            } else {
                problem.at(field)
            }
        } else {
            Problem::new(
                Kind::Malformed,
                format!("the request body is not valid JSON: {inner}"),
            )
        }
    })?;
    de.end().map_err(|e| {
        Problem::new(
            Kind::Malformed,
            format!("the request body has more after its JSON value: {e}"),
        )
    })?;
    Ok(value)
}

/// The field serde's "missing field `name`" names.
fn missing_field(error: &str) -> Option<&str> {
    let rest = error.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// The message of a field's error, naming the field (serde's says where in the text it was,
/// which is of no use to a developer reading the problem).
fn message(field: &str, error: &str) -> String {
    let error = match error.rfind(" at line ") {
        Some(at) => &error[..at],
        None => error,
    };
    if field == "." {
        format!("the body: {error}")
    } else {
        format!("{field}: {error}")
    }
}

/// Query parameters read into `T`: 422 naming the parameter when one is unknown, missing or
/// of the wrong type.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Params)
            .map_err(|e| {
                let field = e.path().to_string();
                let detail = format!("query parameter {field}: {}", e.inner());
                let problem = Problem::new(Kind::Validation, detail);
                if field == "." {
                    problem
                } else {
                    problem.at(field)
                }
            })
    }
}

/// Path segments read into `T`; a segment that does not decode is not found.
#[derive(Debug)]
pub struct Segments<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Segments<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(t)| Segments(t))
            .map_err(|e| Problem::new(Kind::NotFound, format!("no such resource: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Shape {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    #[test]
    fn a_field_of_the_wrong_type_is_a_validation_problem_naming_its_path() {
        let problem = parse::<Shape>(br#"{"name": "a", "inner": {"count": "x"}}"#).unwrap_err();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.field.as_deref(), Some("inner.count"));
        assert!(
            problem.detail.starts_with("inner.count: invalid type"),
            "{}",
            problem.detail
        );
        assert!(!problem.detail.contains("line"), "{}", problem.detail);
    }

    #[test]
    fn an_unknown_or_missing_field_is_named() {
        let unknown = parse::<Shape>(br#"{"name": "a", "nmae": 1}"#).unwrap_err();
        assert_eq!(unknown.field.as_deref(), Some("nmae"));
        let missing = parse::<Shape>(br#"{}"#).unwrap_err();
        assert_eq!(missing.status, 422);
        assert_eq!(missing.field.as_deref(), Some("name"));
        assert!(
            missing.detail.starts_with("name: missing field `name`"),
            "{}",
            missing.detail
        );
    }

    #[test]
    fn text_that_is_not_json_or_has_more_after_it_is_malformed() {
        for body in [&b"{"[..], b"{\"name\": \"a\"} x", b"", b"\0"] {
            let problem = parse::<Shape>(body).unwrap_err();
            assert_eq!(problem.status, 400, "{body:?}");
            assert_eq!(problem.kind, "urn:scimd:problem:malformed-request");
        }
    }

    #[test]
    fn deeply_nested_json_is_refused_not_overflowed() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let problem = parse::<serde_json::Value>(deep.as_bytes()).unwrap_err();
        assert_eq!(problem.status, 400);
    }
}
