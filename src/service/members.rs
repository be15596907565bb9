//! Group membership as PATCH and bodies express it, turned into member changes the store runs
//! without reading the member list: `add` of one or many members (re-adding is no change),
//! `remove` by `members[value eq "id"]`, Entra's default `Remove` with a value list (only
//! those members; Microsoft's "Known issues and resolutions with SCIM 2.0 protocol compliance
//! of the Microsoft Entra user provisioning service",
//! https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility),
//! `remove` of all, `replace` of all. Extra keys in an operation (`"name": "addMember"`) are
//! ignored.

use serde_json::{Map, Value};

use super::Error;
use super::error::invalid_path;
use crate::scim::canonical::Document;
use crate::scim::filter::{self, CompareOp, Literal, Raw};
use crate::scim::resource::ResourceId;
use crate::scim::{self, ScimType, limits};
use crate::store::{MemberChange, MemberInput};

fn member_of<'v>(m: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    m.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// A member id as sent: it must be the id of a resource scimd made (a UUID).
fn member_id(text: &str, group: ResourceId) -> Result<ResourceId, Error> {
    let id: ResourceId = text.trim().parse().map_err(|_| {
        scim::Error::invalid_value(format!(
            "members: '{text}' is not the id of a User or Group in this tenant"
        ))
        .at("members")
        .because("a member is not a User or Group of this tenant")
    })?;
    if id == group {
        return Err(scim::Error::invalid_value(format!(
            "members: group {group} cannot be a member of itself"
        ))
        .at("members")
        .because("a group cannot be a member of itself")
        .into());
    }
    Ok(id)
}

/// The members a value names: an array (or one) of `{"value": id, "display"|"displayName": …}`
/// or bare id strings.
pub fn member_inputs(value: &Value, group: ResourceId) -> Result<Vec<MemberInput>, Error> {
    let items: Vec<&Value> = match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let (id, display) = match item {
            Value::String(s) => (s.as_str(), None),
            Value::Object(m) => {
                let Some(Value::String(id)) = member_of(m, "value") else {
                    return Err(scim::Error::invalid_value(
                        "members: every member needs a 'value' holding its id",
                    )
                    .at("members")
                    .because("every member needs a value holding its id")
                    .into());
                };
                let display = member_of(m, "display")
                    .or_else(|| member_of(m, "displayName"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if let Some(display) = &display {
                    limits::check_string("members.display", display)?;
                }
                (id.as_str(), display)
            }
            other => {
                return Err(scim::Error::invalid_value(format!(
                    "members: {other} is not a member"
                ))
                .at("members")
                .because("a member is neither an id nor an object with one")
                .into());
            }
        };
        out.push(MemberInput {
            id: member_id(id, group)?,
            display,
        });
    }
    Ok(out)
}

/// The ids a removal names. One that is not an id of scimd's cannot be a member: removing it
/// changes nothing, and the other ids of the list are still removed.
fn removal_ids(value: &Value) -> Vec<ResourceId> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    items
        .into_iter()
        .filter_map(|item| match item {
            Value::Object(m) => member_of(m, "value").and_then(Value::as_str),
            other => other.as_str(),
        })
        .filter_map(|id| id.trim().parse().ok())
        .collect()
}

/// Takes the members out of a canonical group document (they live in their own table).
pub fn take_members(doc: &mut Document, group: ResourceId) -> Result<Vec<MemberInput>, Error> {
    let members = match doc.remove("members") {
        Some(v) => member_inputs(&v, group)?,
        None => Vec::new(),
    };
    within_limit(members.len())?;
    Ok(members)
}

/// 400 when a request names more members than [`limits::MAX_MEMBERS_PER_REQUEST`].
fn within_limit(named: usize) -> Result<(), Error> {
    if named <= limits::MAX_MEMBERS_PER_REQUEST {
        return Ok(());
    }
    Err(scim::Error::invalid_value(format!(
        "members: a request may add, remove or set at most {} members; \
         this one names {named}; send them in several requests",
        limits::MAX_MEMBERS_PER_REQUEST
    ))
    .at("members")
    .because("the request names too many members")
    .into())
}

/// The ids of `members[value eq "a" or value eq "b"]`.
fn filtered_ids(filter_text: &str, path: &str) -> Result<Vec<ResourceId>, Error> {
    fn walk(raw: &Raw, out: &mut Vec<String>) -> bool {
        match raw {
            Raw::Or(a, b) => walk(a, out) && walk(b, out),
            Raw::Compare {
                path,
                op: CompareOp::Eq,
                value: Literal::Str(s) | Literal::Bare(s),
            } if path.eq_ignore_ascii_case("value")
                || path.eq_ignore_ascii_case("members.value") =>
            {
                out.push(s.clone());
                true
            }
            _ => false,
        }
    }
    let invalid = |why: String| {
        scim::Error::new(
            400,
            Some(ScimType::InvalidFilter),
            format!("path '{path}': {why}"),
        )
    };
    let raw = filter::parse(filter_text).map_err(|e| invalid(format!("invalid filter: {e}")))?;
    let mut ids = Vec::new();
    if !walk(&raw, &mut ids) {
        return Err(
            invalid("member filters select by id: members[value eq \"<id>\"]".to_owned()).into(),
        );
    }
    // an id that is not a UUID is no member: removing it changes nothing
    Ok(ids.iter().filter_map(|s| s.parse().ok()).collect())
}

/// A group PATCH split in two: the operations on the group document (as a PatchOp body, or
/// `None`) and the member changes, each in request order.
pub fn split_patch(
    body: &Value,
    group: ResourceId,
) -> Result<(Option<Value>, Vec<MemberChange>), Error> {
    let Value::Object(msg) = body else {
        return Err(
            scim::Error::invalid_syntax("a PATCH body must be a PatchOp JSON object").into(),
        );
    };
    let Some(Value::Array(ops)) = member_of(msg, "Operations") else {
        return Err(scim::Error::invalid_syntax(
            "a PatchOp needs 'Operations': an array of at least one operation (RFC 7644 §3.5.2)",
        )
        .into());
    };
    // member operations never reach the PATCH engine: bounded here too
    limits::check_operations(ops.len())?;
    let mut split = Split::default();
    for (i, op) in ops.iter().enumerate() {
        split.operation(op, group).map_err(|e| match e {
            Error::Scim(s) => Error::Scim(s.prefixed(&format!("Operations[{i}]"))),
            other => other,
        })?;
    }
    within_limit(split.changes.iter().map(MemberChange::len).sum())?;
    let doc_patch = (!split.doc_ops.is_empty())
        .then(|| serde_json::json!({"schemas": [crate::scim::urn::PATCH_OP], "Operations": split.doc_ops}));
    Ok((doc_patch, split.changes))
}

/// The operations of a group PATCH sorted into those on the document and the member changes.
#[derive(Default)]
struct Split {
    doc_ops: Vec<Value>,
    changes: Vec<MemberChange>,
}

impl Split {
    fn operation(&mut self, op: &Value, group: ResourceId) -> Result<(), Error> {
        let Value::Object(fields) = op else {
            self.doc_ops.push(op.clone());
            return Ok(());
        };
        let name = member_of(fields, "op")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let value = member_of(fields, "value").unwrap_or(&Value::Null);
        let path = member_of(fields, "path")
            .and_then(Value::as_str)
            .map(str::trim);
        match (path, value) {
            (Some(path), _) if is_members_path(path) => {
                self.changes.push(member_change(&name, path, value, group)?);
            }
            // a path-less operation whose value holds `members` among other attributes
            (None | Some(""), Value::Object(values)) if member_of(values, "members").is_some() => {
                let members = member_of(values, "members").unwrap_or(&Value::Null);
                self.changes
                    .push(member_change(&name, "members", members, group)?);
                let mut rest = values.clone();
                rest.retain(|k, _| !k.eq_ignore_ascii_case("members"));
                if !rest.is_empty() {
                    let mut op = fields.clone();
                    op.insert("value".into(), Value::Object(rest));
                    self.doc_ops.push(Value::Object(op));
                }
            }
            _ => self.doc_ops.push(op.clone()),
        }
        Ok(())
    }
}

fn is_members_path(path: &str) -> bool {
    let head = path.split(['[', '.']).next().unwrap_or_default();
    head.eq_ignore_ascii_case("members")
        || head.eq_ignore_ascii_case("urn:ietf:params:scim:schemas:core:2.0:Group:members")
}

fn member_change(
    op: &str,
    path: &str,
    value: &Value,
    group: ResourceId,
) -> Result<MemberChange, Error> {
    let filter = path
        .split_once('[')
        .map(|(_, rest)| rest.rsplit_once(']').map_or(rest, |(f, _)| f));
    let plain = filter.is_none() && !path.contains('.');
    match (op, filter) {
        ("add", None) if plain => Ok(MemberChange::Add(member_inputs(value, group)?)),
        ("replace", None) if plain => Ok(MemberChange::Replace(member_inputs(value, group)?)),
        // Entra's default removal: `Remove` + `members` + a value list removes only those
        ("remove", None) if plain && !value.is_null() => {
            Ok(MemberChange::Remove(removal_ids(value)))
        }
        ("remove", None) if plain => Ok(MemberChange::RemoveAll),
        ("remove", Some(f)) => Ok(MemberChange::Remove(filtered_ids(f, path)?)),
        ("add" | "replace" | "remove", _) => Err(invalid_path(format!(
            "path '{path}': members are added, replaced and removed whole (members, members[value eq \"<id>\"])"
        ))),
        _ => Err(scim::Error::invalid_syntax(format!(
            "'op' must be add, replace or remove, not '{op}'"
        ))
        .into()),
    }
}
