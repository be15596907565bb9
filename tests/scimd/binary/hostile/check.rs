//! What every answer of the run must be: below 500, and of its kind — a SCIM error body for a
//! refused SCIM request, RFC 6749 JSON from the token endpoint, HTML or a redirect from a
//! page — and a request on another tenant's resource refused. The tally of answers, and the
//! ids the successful requests created (the directory may hold nothing else).

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use super::plan::{Expect, Request};
use crate::support::wire::Answer;

/// The RFC 6749 §5.2 error codes.
const TOKEN_ERRORS: [&str; 6] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
];

/// Counts of the run.
#[derive(Debug, Default)]
pub struct Tally {
    pub requests: u64,
    /// By status class (2, 3, 4, 5).
    pub classes: BTreeMap<u16, u64>,
    pub families: BTreeMap<&'static str, u64>,
    pub connections: u64,
    pub reused: u64,
    /// Sign-ins with a valid CSRF pair, by status.
    pub sign_ins: BTreeMap<u16, u64>,
    /// Ids the successful requests created.
    pub created: HashSet<String>,
}

impl Tally {
    pub fn add(&mut self, other: Tally) {
        self.requests += other.requests;
        for (k, v) in other.classes {
            *self.classes.entry(k).or_default() += v;
        }
        for (k, v) in other.families {
            *self.families.entry(k).or_default() += v;
        }
        self.connections += other.connections;
        self.reused += other.reused;
        for (k, v) in other.sign_ins {
            *self.sign_ins.entry(k).or_default() += v;
        }
        self.created.extend(other.created);
    }

    /// Counts `answer` to `request`.
    pub fn count(&mut self, request: &Request, answer: &Answer) {
        self.requests += 1;
        *self.classes.entry(answer.status / 100).or_default() += 1;
        *self.families.entry(request.family).or_default() += 1;
        if request.sign_in {
            *self.sign_ins.entry(answer.status).or_default() += 1;
        }
        self.created.extend(created(request, answer));
    }
}

/// Why `answer` is not an acceptable answer to `request`, if it is not.
pub fn check(request: &Request, answer: &Answer) -> Result<(), String> {
    let status = answer.status;
    if status >= 500 {
        return Err(format!("status {status}"));
    }
    if request.foreign && status < 400 {
        return Err(format!("another tenant's resource was served: {status}"));
    }
    // refused by HTTP itself before any route (hyper's limits on the URI and the headers):
    // an answer of no kind, on a connection it closes saying so
    if matches!(status, 414 | 431) && answer.header("connection") == Some("close") {
        return Ok(());
    }
    let content_type = answer.header("content-type").unwrap_or_default();
    match request.expect {
        Expect::Any => Ok(()),
        Expect::Refused if (400..500).contains(&status) => Ok(()),
        Expect::Refused => Err(format!("HTTP accepted it: {status}")),
        Expect::Scim => scim(answer, content_type, request.method == "HEAD"),
        Expect::Token if status == 200 => token(answer, content_type),
        // a request that did not reach the handler (another method) is refused as SCIM is
        Expect::Token if status == 405 => scim(answer, content_type, false),
        Expect::Token => token_error(answer, content_type),
        Expect::Page => page(answer, content_type, request.method == "HEAD"),
        Expect::Fragment => match answer.text().trim_start().starts_with("<section") {
            true if content_type.starts_with("text/html") => Ok(()),
            true => Err(format!("a section of type {content_type:?}")),
            false => page(answer, content_type, request.method == "HEAD"),
        },
        Expect::Api => operator_api(answer, content_type),
    }
}

/// An answer of `/api/v1`: JSON; a refusal, an RFC 9457 problem with its status.
fn operator_api(answer: &Answer, content_type: &str) -> Result<(), String> {
    let status = answer.status;
    if status == 204 {
        return Ok(());
    }
    let body = json(answer)?;
    if status < 400 {
        return match content_type.starts_with("application/json") {
            true => Ok(()),
            false => Err(format!("an API answer of type {content_type:?}")),
        };
    }
    let kind = body["type"].as_str().unwrap_or_default();
    if !content_type.starts_with("application/problem+json")
        || !kind.starts_with("urn:scimd:problem:")
        || body["status"] != status
        || !body["detail"].is_string()
    {
        return Err(format!("not a problem (type {content_type:?})"));
    }
    Ok(())
}

fn json(answer: &Answer) -> Result<Value, String> {
    serde_json::from_slice(&answer.body).map_err(|e| format!("not JSON ({e})"))
}

fn scim(answer: &Answer, content_type: &str, head: bool) -> Result<(), String> {
    let status = answer.status;
    if head || status == 204 || status == 304 || (300..400).contains(&status) {
        return Ok(());
    }
    if !content_type.starts_with("application/scim+json") {
        return Err(format!("a SCIM answer of type {content_type:?}"));
    }
    let body = json(answer)?;
    if status >= 400 {
        let schemas = &body["schemas"];
        if schemas != &serde_json::json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
            || body["status"] != Value::String(status.to_string())
            || !body["detail"].is_string()
        {
            return Err("not a SCIM error body".into());
        }
    }
    Ok(())
}

fn token(answer: &Answer, content_type: &str) -> Result<(), String> {
    let body = json(answer)?;
    match content_type.starts_with("application/json") && body["access_token"].is_string() {
        true => Ok(()),
        false => Err("a token answer without a token".into()),
    }
}

fn token_error(answer: &Answer, content_type: &str) -> Result<(), String> {
    let body = json(answer)?;
    let error = body["error"].as_str().unwrap_or_default();
    let known = TOKEN_ERRORS.contains(&error);
    match content_type.starts_with("application/json") && known {
        true => Ok(()),
        false => Err(format!("not an RFC 6749 error (type {content_type:?})")),
    }
}

fn page(answer: &Answer, content_type: &str, head: bool) -> Result<(), String> {
    let status = answer.status;
    if (300..400).contains(&status) {
        return match answer.header("location") {
            Some(_) => Ok(()),
            None => Err("a redirect without a Location".into()),
        };
    }
    if status == 405 {
        return scim(answer, content_type, head);
    }
    if !content_type.starts_with("text/html") {
        return Err(format!("a page of type {content_type:?}"));
    }
    match head || answer.text().contains("<html") {
        true => Ok(()),
        false => Err("a page without <html".into()),
    }
}

/// The ids a successful SCIM request created: a 201's, and a Bulk's created operations'.
fn created(request: &Request, answer: &Answer) -> Vec<String> {
    if request.expect != Expect::Scim || request.method != "POST" {
        return Vec::new();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&answer.body) else {
        return Vec::new();
    };
    if answer.status == 201 {
        return body["id"].as_str().map(str::to_owned).into_iter().collect();
    }
    let operations = body["Operations"].as_array().cloned().unwrap_or_default();
    operations
        .iter()
        .filter(|op| op["status"] == "201")
        .filter_map(|op| {
            op["location"]
                .as_str()?
                .rsplit('/')
                .next()
                .map(str::to_owned)
        })
        .collect()
}
