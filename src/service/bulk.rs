//! Bulk (RFC 7644 §3.7): the operations of one `BulkRequest`, run in dependency order
//! (`order`) — an operation that names `bulkId:<id>` (in its path or anywhere in its data:
//! members, manager) runs after the POST that defines that bulkId, with the new id put in its
//! place. Operations in a cycle are answered 409 (§3.7.1). Each operation is atomic on its
//! own, as the RFC says; the request is not. `failOnErrors` stops after that many errors.

mod order;

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use self::order::{Node, Step, order};
use super::view::{Answer, Condition, Context};
use super::{Directory, Error};
use crate::scim;
use crate::scim::resource::Version;
use crate::scim::schema::ResourceKind;

/// The most operations one request may hold (advertised as `bulk.maxOperations`).
pub const MAX_OPERATIONS: usize = 1000;
const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/// One operation as sent.
struct Op<'a> {
    method: String,
    path: String,
    bulk_id: Option<&'a str>,
    data: Option<&'a Value>,
    version: Option<&'a str>,
    /// The bulkIds it names, each once, in the order they first appear.
    needs: Vec<&'a str>,
}

impl Directory {
    /// Runs a BulkRequest; the BulkResponse.
    pub async fn bulk(&self, ctx: &Context<'_>, base: &str, body: &Value) -> Result<Value, Error> {
        let request = body
            .as_object()
            .ok_or_else(|| scim::Error::invalid_syntax("a BulkRequest must be a JSON object"))?;
        let field = |name: &str| {
            request
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        let declared = field("schemas").and_then(Value::as_array).is_some_and(|s| {
            s.iter().any(|v| {
                v.as_str()
                    .is_some_and(|v| v.eq_ignore_ascii_case(BULK_REQUEST))
            })
        });
        if !declared {
            return Err(scim::Error::invalid_syntax(format!(
                "schemas: a BulkRequest lists {BULK_REQUEST}"
            ))
            .into());
        }
        let operations = field("Operations")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                scim::Error::invalid_syntax(
                    "Operations: a BulkRequest needs an array of operations",
                )
            })?;
        if operations.len() > MAX_OPERATIONS {
            return Err(scim::Error::payload_too_large(format!(
                "Operations: {} operations; at most {MAX_OPERATIONS} per request (maxOperations)",
                operations.len()
            ))
            .into());
        }
        let fail_on_errors =
            match field("failOnErrors") {
                None | Some(Value::Null) => None,
                Some(v) => Some(v.as_u64().filter(|n| *n > 0).ok_or_else(|| {
                    scim::Error::invalid_value("failOnErrors: a positive integer")
                })?),
            };
        let ops: Vec<Result<Op<'_>, scim::Error>> = operations
            .iter()
            .enumerate()
            .map(|(i, o)| parse(i, o))
            .collect();
        let nodes: Vec<Node<'_>> = ops.iter().map(node).collect();
        let mut created: HashMap<&str, String> = HashMap::new();
        let mut failed: HashSet<&str> = HashSet::new();
        let mut results: Vec<(usize, Value)> = Vec::new();
        let mut errors = 0u64;
        for step in order(&nodes) {
            if fail_on_errors.is_some_and(|n| errors >= n) {
                break;
            }
            let (i, outcome) = match step {
                Step::Run(i) => (i, self.run(ctx, base, &ops[i], &created, &failed).await),
                Step::Circular(i) => (
                    i,
                    Err(scim::Error::new(
                        409,
                        None,
                        "the operation is part of a circular bulkId reference (RFC 7644 §3.7.1)",
                    )
                    .into()),
                ),
            };
            let op = ops[i].as_ref().ok();
            let mut result = Map::new();
            if let Some(op) = op {
                result.insert("method".into(), json!(op.method));
                if let Some(id) = op.bulk_id {
                    result.insert("bulkId".into(), json!(id));
                }
            }
            match outcome {
                Ok((status, location, version, id)) => {
                    if let (Some(op), Some(id)) = (op, id) {
                        if let Some(bulk_id) = op.bulk_id {
                            created.insert(bulk_id, id);
                        }
                    }
                    if let Some(location) = location {
                        result.insert("location".into(), json!(location));
                    }
                    if let Some(version) = version {
                        result.insert("version".into(), json!(version.etag()));
                    }
                    result.insert("status".into(), json!(status.to_string()));
                }
                Err(e) => {
                    errors += 1;
                    if let Some(id) = op.and_then(|o| o.bulk_id) {
                        failed.insert(id);
                    }
                    let error = match e {
                        Error::Scim(s) => s,
                        Error::Unavailable(why) => {
                            scim::Error::new(503, None, format!("{why}; retry the operation"))
                        }
                        Error::Internal(cause) => {
                            tracing::error!(error = %cause, "a bulk operation failed");
                            scim::Error::internal()
                        }
                    };
                    result.insert("status".into(), json!(error.status.to_string()));
                    result.insert("response".into(), error.to_body());
                }
            }
            results.push((i, Value::Object(result)));
        }
        results.sort_by_key(|(i, _)| *i);
        Ok(json!({
            "schemas": [BULK_RESPONSE],
            "Operations": results.into_iter().map(|(_, r)| r).collect::<Vec<_>>(),
        }))
    }

    /// One operation, its references resolved: status, location, version, and the id it made.
    async fn run(
        &self,
        ctx: &Context<'_>,
        base: &str,
        op: &Result<Op<'_>, scim::Error>,
        created: &HashMap<&str, String>,
        failed: &HashSet<&str>,
    ) -> Result<(u16, Option<String>, Option<Version>, Option<String>), Error> {
        let op = op.as_ref().map_err(|e| Error::Scim(e.clone()))?;
        if let Some(id) = op.needs.iter().find(|id| failed.contains(*id)) {
            return Err(scim::Error::new(
                409,
                None,
                format!("bulkId '{id}', which this operation names, failed"),
            )
            .into());
        }
        if let Some(id) = op.needs.iter().find(|id| !created.contains_key(*id)) {
            return Err(scim::Error::invalid_value(format!(
                "bulkId '{id}' is not defined by a POST of this request"
            ))
            .into());
        }
        let path = resolve_text(&op.path, created);
        let data = op.data.map(|d| resolve(d, created));
        let (kind, id) = target(&path)?;
        let condition = match op.version {
            Some(v) => Some(Condition::Tags(vec![parse_version(v)?])),
            None => None,
        };
        let ctx = Context {
            if_match: condition.as_ref().or(ctx.if_match),
            ..*ctx
        };
        let body = || {
            data.clone().ok_or_else(|| {
                Error::from(scim::Error::invalid_syntax(
                    "data: this method needs the resource or PatchOp in 'data'",
                ))
            })
        };
        let need_id = || {
            id.clone().ok_or_else(|| {
                Error::from(scim::Error::new(
                    400,
                    Some(scim::ScimType::InvalidPath),
                    format!("path '{path}' names no resource id"),
                ))
            })
        };
        let no_id = |id: &Option<String>| match id {
            Some(_) => Err(Error::from(scim::Error::new(
                400,
                Some(scim::ScimType::InvalidPath),
                format!("POST goes to '/{}s', not to a resource", kind.as_str()),
            ))),
            None => Ok(()),
        };
        match op.method.as_str() {
            "POST" => {
                no_id(&id)?;
                let shown = self.create(&ctx, kind, &body()?).await?;
                let new = shown.resource.id.to_string();
                Ok((
                    201,
                    Some(shown.location(base)),
                    Some(shown.version()),
                    Some(new),
                ))
            }
            "PUT" => {
                let shown = self.replace(&ctx, kind, &need_id()?, &body()?).await?;
                Ok((200, Some(shown.location(base)), Some(shown.version()), None))
            }
            "PATCH" => match self.patch(&ctx, kind, &need_id()?, &body()?).await? {
                Answer::Resource(shown) => {
                    Ok((200, Some(shown.location(base)), Some(shown.version()), None))
                }
                Answer::VersionOnly(v) => Ok((
                    204,
                    Some(format!(
                        "{base}/{}/{}",
                        kind.endpoint().trim_start_matches('/'),
                        need_id()?
                    )),
                    Some(v),
                    None,
                )),
            },
            "DELETE" => {
                self.delete(&ctx, kind, &need_id()?).await?;
                Ok((204, None, None, None))
            }
            other => Err(scim::Error::bad_request(format!(
                "method '{other}': use POST, PUT, PATCH or DELETE"
            ))
            .into()),
        }
    }
}

fn parse(i: usize, op: &Value) -> Result<Op<'_>, scim::Error> {
    let Value::Object(op) = op else {
        return Err(scim::Error::invalid_syntax(format!(
            "Operations[{i}]: an operation is a JSON object"
        )));
    };
    let text = |name: &str| {
        op.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
    };
    let method = text("method").map(str::to_ascii_uppercase).ok_or_else(|| {
        scim::Error::invalid_syntax(format!("Operations[{i}].method is required"))
    })?;
    let path = text("path")
        .ok_or_else(|| scim::Error::invalid_syntax(format!("Operations[{i}].path is required")))?;
    let bulk_id = text("bulkId");
    if method == "POST" && bulk_id.is_none() {
        return Err(scim::Error::invalid_syntax(format!(
            "Operations[{i}].bulkId is required for POST (RFC 7644 §3.7)"
        )));
    }
    let data = op
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("data"))
        .map(|(_, v)| v);
    let mut needs = References::default();
    needs.in_text(path);
    if let Some(data) = data {
        needs.in_value(data);
    }
    Ok(Op {
        method,
        path: path.to_owned(),
        bulk_id,
        data,
        version: text("version"),
        needs: needs.ordered,
    })
}

/// An operation as [`order`] sees it; one that could not be read needs nothing.
fn node<'a>(op: &'a Result<Op<'_>, scim::Error>) -> Node<'a> {
    match op {
        Ok(op) => Node {
            defines: op.bulk_id.filter(|_| op.method == "POST"),
            needs: &op.needs,
        },
        Err(_) => Node::default(),
    }
}

/// The `bulkId:<id>` values of an operation, each once, in the order they first appear (an
/// error names the first one missing). Seen ones are kept in a hash set, not searched for in
/// the list: one operation may name tens of thousands within the body limit, and this runs
/// before any `.await`, where the request's timeout cannot interrupt it.
#[derive(Default)]
struct References<'a> {
    seen: HashSet<&'a str>,
    ordered: Vec<&'a str>,
}

impl<'a> References<'a> {
    /// Those anywhere in `value`.
    fn in_value(&mut self, value: &'a Value) {
        match value {
            Value::String(s) => self.in_text(s),
            Value::Array(items) => items.iter().for_each(|v| self.in_value(v)),
            Value::Object(members) => members.values().for_each(|v| self.in_value(v)),
            _ => {}
        }
    }

    /// The one `text` ends with, if its last path segment is `bulkId:<id>`.
    fn in_text(&mut self, text: &'a str) {
        let last = text.rsplit('/').next().unwrap_or(text);
        if let Some(id) = last.strip_prefix("bulkId:") {
            if self.seen.insert(id) {
                self.ordered.push(id);
            }
        }
    }
}

fn resolve(value: &Value, created: &HashMap<&str, String>) -> Value {
    match value {
        Value::String(s) => Value::String(resolve_text(s, created)),
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(v, created)).collect()),
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(k, v)| (k.clone(), resolve(v, created)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn resolve_text(text: &str, created: &HashMap<&str, String>) -> String {
    match text.rsplit_once("bulkId:") {
        Some((head, id)) if head.is_empty() || head.ends_with('/') => match created.get(id) {
            Some(new) => format!("{head}{new}"),
            None => text.to_owned(),
        },
        _ => text.to_owned(),
    }
}

/// `/Users`, `/Groups`, `/Users/{id}`: the resource type and the id.
fn target(path: &str) -> Result<(ResourceKind, Option<String>), Error> {
    let trimmed = path.trim_start_matches('/');
    let (collection, id) = match trimmed.split_once('/') {
        Some((c, id)) => (c, Some(id.to_owned()).filter(|i| !i.is_empty())),
        None => (trimmed, None),
    };
    let kind = match collection.to_ascii_lowercase().as_str() {
        "users" => ResourceKind::User,
        "groups" => ResourceKind::Group,
        _ => {
            return Err(scim::Error::new(
                400,
                Some(scim::ScimType::InvalidPath),
                format!("path '{path}': bulk operations go to /Users or /Groups"),
            )
            .into());
        }
    };
    Ok((kind, id))
}

/// `W/"3"` (or `"3"`, `3`) → version 3.
fn parse_version(text: &str) -> Result<Version, Error> {
    let bare = text.trim().trim_start_matches("W/").trim_matches('"');
    bare.parse::<i64>().map(Version).map_err(|_| {
        scim::Error::invalid_value(format!(
            "version '{text}': use the ETag the resource was read with, such as W/\"3\""
        ))
        .into()
    })
}
