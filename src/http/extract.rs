//! Extractors whose rejections are SCIM errors: the JSON body (either `application/scim+json`
//! or `application/json`, RFC 7644 §3.8), query parameters, path parameters, the base URL and
//! the ETag preconditions. axum's own 400/415/422 bodies never reach a client.

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::Value;

use crate::domain::Tenant;
use crate::domain::activity::Origin;
use crate::http::AppState;
use crate::http::client::Client;
use crate::scim;
use crate::scim::query::SearchParams;
use crate::scim::resource::Version;
use crate::service::{Condition, Context, Error};

/// A request body parsed as JSON, whatever resource it will become.
#[derive(Debug)]
pub struct ScimJson(pub Value);

impl<S: Send + Sync> FromRequest<S> for ScimJson {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        check_content_type(req.headers())?;
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                scim::Error::payload_too_large(
                    "the request body is larger than this server accepts (SCIMD_MAX_BODY_BYTES)",
                )
            } else {
                scim::Error::invalid_syntax(format!("the request body could not be read: {e}"))
            }
        })?;
        serde_json::from_slice(&bytes).map(ScimJson).map_err(|e| {
            scim::Error::invalid_syntax(format!("the request body is not valid JSON: {e}")).into()
        })
    }
}

/// A `Content-Type` as the SCIM endpoints and the application's API read it: its essence (the
/// type without parameters, in lower case), and whether it is JSON (`application/json` or any
/// `application/…+json`). `None` when the request has no content type.
pub(crate) fn json_content_type(headers: &HeaderMap) -> Option<(String, bool)> {
    let value = headers.get(header::CONTENT_TYPE)?;
    let essence = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let json = essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    Some((essence, json))
}

/// `application/scim+json` and `application/json` (any `+json` type) are accepted, and so is
/// a body sent without a content type; anything else is 415.
fn check_content_type(headers: &HeaderMap) -> Result<(), Error> {
    match json_content_type(headers) {
        None | Some((_, true)) => Ok(()),
        Some((essence, false)) => Err(scim::Error::unsupported_media_type(format!(
            "content type '{essence}' is not supported; send application/scim+json or application/json"
        ))
        .into()),
    }
}

/// Query parameters, looked up by name case-insensitively; unknown ones (Entra's
/// `aadOptscim062020`) are ignored. Decoded with form rules: `+` is a space, as
/// Entra encodes spaces in its filters.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Params {
    /// The RFC 7644 §3.4.2 query parameters (names case-insensitive).
    pub fn search(&self) -> SearchParams {
        let get = |name: &str| self.get(name).map(str::to_owned);
        SearchParams {
            filter: get("filter"),
            sort_by: get("sortBy"),
            sort_order: get("sortOrder"),
            start_index: get("startIndex"),
            count: get("count"),
            cursor: get("cursor"),
            attributes: get("attributes"),
            excluded_attributes: get("excludedAttributes"),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                scim::Error::bad_request(format!("the query string could not be parsed: {e}"))
            })?;
        Ok(Params(pairs))
    }
}

/// A path parameter (a resource's or a schema's id); one that cannot be read (bytes that are
/// not UTF-8 once decoded) is a SCIM error rather than axum's plain text.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(e) => Err(scim::Error::bad_request(format!(
                "the path could not be read: {}",
                e.body_text()
            ))
            .into()),
        }
    }
}

/// The base URL of the SCIM API as the client reaches it, for `Location` and `meta.location`:
/// `SCIMD_PUBLIC_URL` when set, else derived from the request: its `Host` and TLS, or what a
/// trusted proxy reports of them (`X-Forwarded-Host`, `X-Forwarded-Proto`; see
/// [`crate::http::client`]).
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

impl<S> FromRequestParts<S> for BaseUrl
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppState::from_ref(state);
        let root = match &app.public_url {
            Some(url) => url.clone(),
            None => {
                let client = parts
                    .extensions
                    .get::<Client>()
                    .cloned()
                    .unwrap_or_default();
                let scheme = if client.tls { "https" } else { "http" };
                let host = client
                    .forwarded_host
                    .as_deref()
                    .or_else(|| parts.headers.get("host").and_then(|v| v.to_str().ok()))
                    .or_else(|| parts.uri.authority().map(|a| a.as_str()))
                    .unwrap_or("localhost");
                format!("{scheme}://{host}")
            }
        };
        Ok(BaseUrl(format!(
            "{}{}",
            root.trim_end_matches('/'),
            crate::http::SCIM_BASE
        )))
    }
}

/// `If-Match` and `If-None-Match` (RFC 7644 §3.14, RFC 7232 §3.1, §3.2).
#[derive(Debug, Default, Clone)]
pub struct Preconditions {
    pub if_match: Option<Condition>,
    pub if_none_match: Option<Condition>,
}

impl<S: Send + Sync> FromRequestParts<S> for Preconditions {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            if_match: condition(&parts.headers, header::IF_MATCH)?,
            if_none_match: condition(&parts.headers, header::IF_NONE_MATCH)?,
        })
    }
}

/// A precondition header: `*` or a comma-separated list of entity tags (RFC 7232 §2.3,
/// `[W/]"…"`). Tags that are not scimd's versions are kept as matching nothing, so that a
/// stale or foreign tag in `If-Match` is 412, not 400; only a header that is no entity-tag
/// list at all is 400.
fn condition(headers: &HeaderMap, name: header::HeaderName) -> Result<Option<Condition>, Error> {
    let values: Vec<&str> = headers
        .get_all(&name)
        .iter()
        .map(|v| v.to_str())
        .collect::<Result<_, _>>()
        .map_err(|_| malformed(&name))?;
    if values.is_empty() {
        return Ok(None);
    }
    let text = values.join(",");
    if text.trim() == "*" {
        return Ok(Some(Condition::Any));
    }
    let tags = entity_tags(&text).ok_or_else(|| malformed(&name))?;
    Ok(Some(Condition::Tags(
        tags.into_iter().filter_map(Version::from_etag).collect(),
    )))
}

/// The entity tags of a list, each as written (`W/"3"`, `"x"`); `None` when the text is not
/// such a list.
fn entity_tags(text: &str) -> Option<Vec<&str>> {
    let mut tags = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let quoted = rest.strip_prefix("W/").unwrap_or(rest);
        let inner = quoted.strip_prefix('"')?;
        let end = inner.find('"')?;
        let tag_len = rest.len() - inner.len() + end + 1;
        tags.push(&rest[..tag_len]);
        rest = &rest[tag_len..];
        if !rest.is_empty() && !rest.starts_with([' ', '\t', ',']) {
            return None;
        }
    }
    (!tags.is_empty()).then_some(tags)
}

fn malformed(name: &header::HeaderName) -> Error {
    scim::Error::bad_request(format!(
        "header {name} must be * or entity tags as sent in ETag, such as W/\"3\""
    ))
    .into()
}

/// Everything a resource handler needs from the request head: the tenant (set by the auth
/// layer), the base URL, the query parameters and the preconditions.
#[derive(Debug)]
pub struct Ctx {
    pub tenant: Tenant,
    pub base: BaseUrl,
    pub params: Params,
    pub pre: Preconditions,
    /// Set by the auth layer for the activity log.
    pub origin: Option<Origin>,
}

impl Ctx {
    /// The request as a use case sees it.
    pub fn context(&self) -> Context<'_> {
        Context {
            tenant: &self.tenant,
            if_match: self.pre.if_match.as_ref(),
            if_none_match: self.pre.if_none_match.as_ref(),
            attributes: self.params.get("attributes"),
            excluded_attributes: self.params.get("excludedAttributes"),
            origin: self.origin.as_ref(),
        }
    }
}

impl<S> FromRequestParts<S> for Ctx
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let tenant = parts.extensions.get::<Tenant>().cloned().ok_or_else(|| {
            scim::Error::unauthorized("authentication required: send Authorization: Bearer <token>")
        })?;
        Ok(Self {
            tenant,
            base: BaseUrl::from_request_parts(parts, state).await?,
            params: Params::from_request_parts(parts, state).await?,
            pre: Preconditions::from_request_parts(parts, state).await?,
            origin: parts.extensions.get::<Origin>().cloned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precondition_headers_are_star_or_lists_of_entity_tags() {
        let cases: [(&str, Option<Condition>); 8] = [
            ("*", Some(Condition::Any)),
            ("W/\"3\"", Some(Condition::Tags(vec![Version(3)]))),
            (
                "\"3\", W/\"4\",W/\"x,y\"",
                Some(Condition::Tags(vec![Version(3), Version(4)])),
            ),
            ("W/\"stale-1\"", Some(Condition::Tags(vec![]))),
            ("3", None),
            ("W/3", None),
            ("\"3", None),
            ("\"3\"x", None),
        ];
        for (text, expected) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_MATCH, text.parse().unwrap());
            let parsed = condition(&headers, header::IF_MATCH);
            match expected {
                Some(expected) => assert_eq!(parsed.unwrap(), Some(expected), "{text}"),
                None => assert!(parsed.is_err(), "{text}"),
            }
        }
        assert_eq!(
            condition(&HeaderMap::new(), header::IF_MATCH).unwrap(),
            None
        );
    }
}
