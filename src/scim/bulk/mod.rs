//! Bulk as a message (RFC 7644 §3.7): a `BulkRequest` read into its operations, each with the
//! `bulkId:<id>` references it names (in its path or anywhere in its data: members, manager),
//! the order they run in ([`order`]), and an operation's references resolved once the POSTs it
//! names have run. Running the operations is the service's; everything here is pure.

mod order;

use std::collections::{HashMap, HashSet};

use serde_json::Value;

pub use self::order::{Node, Step, order};
use crate::scim::error::{Error, ScimType};
use crate::scim::resource::Version;
use crate::scim::schema::ResourceKind;
use crate::scim::urn;

/// The most operations one request may hold (advertised as `bulk.maxOperations`).
pub const MAX_OPERATIONS: usize = 1000;

/// A `BulkRequest` as read: its operations (each read on its own: one that cannot be read is
/// answered on its own) and `failOnErrors`.
pub struct BulkRequest<'a> {
    pub ops: Vec<Result<Op<'a>, Error>>,
    pub fail_on_errors: Option<u64>,
}

/// One operation as sent.
pub struct Op<'a> {
    /// Upper-cased.
    pub method: String,
    pub path: &'a str,
    pub bulk_id: Option<&'a str>,
    pub data: Option<&'a Value>,
    pub version: Option<&'a str>,
    /// The bulkIds it names, each once, in the order they first appear.
    pub needs: Vec<&'a str>,
}

/// An operation with its references resolved: where it goes, its data, its `If-Match`.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub kind: ResourceKind,
    /// The resource id in the path, if there is one.
    pub id: Option<String>,
    pub path: String,
    pub data: Option<Value>,
    pub version: Option<Version>,
}

impl<'a> BulkRequest<'a> {
    /// Reads a BulkRequest body: a JSON object listing the BulkRequest URN in `schemas`, with
    /// at most [`MAX_OPERATIONS`] operations (413 beyond) and a positive `failOnErrors`.
    pub fn read(body: &'a Value) -> Result<Self, Error> {
        let request = body
            .as_object()
            .ok_or_else(|| Error::invalid_syntax("a BulkRequest must be a JSON object"))?;
        let field = |name: &str| {
            request
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        let declared = field("schemas").and_then(Value::as_array).is_some_and(|s| {
            s.iter().any(|v| {
                v.as_str()
                    .is_some_and(|v| v.eq_ignore_ascii_case(urn::BULK_REQUEST))
            })
        });
        if !declared {
            return Err(Error::invalid_syntax(format!(
                "schemas: a BulkRequest lists {}",
                urn::BULK_REQUEST
            )));
        }
        let operations = field("Operations")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                Error::invalid_syntax("Operations: a BulkRequest needs an array of operations")
            })?;
        if operations.len() > MAX_OPERATIONS {
            return Err(Error::payload_too_large(format!(
                "Operations: {} operations; at most {MAX_OPERATIONS} per request (maxOperations)",
                operations.len()
            )));
        }
        let fail_on_errors = match field("failOnErrors") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| Error::invalid_value("failOnErrors: a positive integer"))?,
            ),
        };
        let ops = operations
            .iter()
            .enumerate()
            .map(|(i, o)| Op::read(i, o))
            .collect();
        Ok(Self {
            ops,
            fail_on_errors,
        })
    }

    /// The order the operations run in.
    pub fn order(&self) -> Vec<Step> {
        let nodes: Vec<Node<'_>> = self.ops.iter().map(node).collect();
        order(&nodes)
    }
}

impl<'a> Op<'a> {
    fn read(i: usize, op: &'a Value) -> Result<Self, Error> {
        let Value::Object(op) = op else {
            return Err(Error::invalid_syntax(format!(
                "Operations[{i}]: an operation is a JSON object"
            )));
        };
        let text = |name: &str| {
            op.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_str())
        };
        let method = text("method")
            .map(str::to_ascii_uppercase)
            .ok_or_else(|| Error::invalid_syntax(format!("Operations[{i}].method is required")))?;
        let path = text("path")
            .ok_or_else(|| Error::invalid_syntax(format!("Operations[{i}].path is required")))?;
        let bulk_id = text("bulkId");
        if method == "POST" && bulk_id.is_none() {
            return Err(Error::invalid_syntax(format!(
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
            path,
            bulk_id,
            data,
            version: text("version"),
            needs: needs.ordered,
        })
    }

    /// The operation with the ids `created` by earlier POSTs in place of its references:
    /// 409 when one it names failed (`failed`), 400 when one is not defined by a POST of the
    /// request, and its path and `version` read.
    pub fn resolve(
        &self,
        created: &HashMap<&str, String>,
        failed: &HashSet<&str>,
    ) -> Result<Resolved, Error> {
        if let Some(id) = self.needs.iter().find(|id| failed.contains(*id)) {
            return Err(Error::new(
                409,
                None,
                format!("bulkId '{id}', which this operation names, failed"),
            ));
        }
        if let Some(id) = self.needs.iter().find(|id| !created.contains_key(*id)) {
            return Err(Error::invalid_value(format!(
                "bulkId '{id}' is not defined by a POST of this request"
            )));
        }
        let path = resolve_text(self.path, created);
        let (kind, id) = target(&path)?;
        Ok(Resolved {
            kind,
            id,
            data: self.data.map(|d| resolve(d, created)),
            version: self.version.map(parse_version).transpose()?,
            path,
        })
    }
}

/// An operation as [`order`] sees it; one that could not be read needs nothing.
fn node<'a>(op: &'a Result<Op<'_>, Error>) -> Node<'a> {
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
            return Err(Error::new(
                400,
                Some(ScimType::InvalidPath),
                format!("path '{path}': bulk operations go to /Users or /Groups"),
            ));
        }
    };
    Ok((kind, id))
}

/// `W/"3"` (or `"3"`, `3`) → version 3.
fn parse_version(text: &str) -> Result<Version, Error> {
    let bare = text.trim().trim_start_matches("W/").trim_matches('"');
    bare.parse::<i64>().map(Version).map_err(|_| {
        Error::invalid_value(format!(
            "version '{text}': use the ETag the resource was read with, such as W/\"3\""
        ))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_operation_s_references_resolve_to_the_ids_created_before_it() {
        let body = json!({"schemas": [urn::BULK_REQUEST], "Operations": [
            {"method": "post", "path": "/Groups", "bulkId": "g",
             "data": {"displayName": "G", "members": [{"value": "bulkId:u"}, {"value": "bulkId:u"}]}},
            {"method": "PATCH", "path": "/Users/bulkId:u", "version": "W/\"2\"",
             "data": {"Operations": []}},
        ]});
        let request = BulkRequest::read(&body).unwrap();
        let group = request.ops[0].as_ref().unwrap();
        assert_eq!(
            (group.method.as_str(), group.needs.as_slice()),
            ("POST", &["u"][..])
        );
        let created = HashMap::from([("u", "1234".to_owned())]);
        let resolved = group.resolve(&created, &HashSet::new()).unwrap();
        assert_eq!(
            resolved.data,
            Some(json!({"displayName": "G", "members": [{"value": "1234"}, {"value": "1234"}]}))
        );
        let patch = request.ops[1]
            .as_ref()
            .unwrap()
            .resolve(&created, &HashSet::new())
            .unwrap();
        assert_eq!(
            (patch.kind, patch.id.as_deref(), patch.version),
            (ResourceKind::User, Some("1234"), Some(Version(2)))
        );
        let failed = HashSet::from(["u"]);
        assert_eq!(group.resolve(&created, &failed).unwrap_err().status, 409);
        assert_eq!(
            group
                .resolve(&HashMap::new(), &HashSet::new())
                .unwrap_err()
                .status,
            400
        );
    }
}
