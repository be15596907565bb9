//! The PATCH engine (RFC 7644 §3.5.2): operations applied in order to a copy of the canonical
//! document, which is then validated as a whole; a failing operation leaves the original
//! untouched. Entra's shapes are accepted: capitalised ops, path-less values with attribute-path
//! keys, booleans as strings, `remove` with a value list removing only the listed values ("Known
//! issues and resolutions with SCIM 2.0 protocol compliance of the Microsoft Entra user
//! provisioning service",
//! <https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility>),
//! filtered paths that create the element they name when it is missing (see `values`), and, as
//! canonicalisation reads them, manager as a bare string and roles as JSON strings.

use serde_json::{Map, Value};

mod set;
mod values;

use crate::scim::canonical::{Document, canonicalize, sub_attribute_alias};
use crate::scim::error::{Error, ScimType};
use crate::scim::filter::{self, Filter};
use crate::scim::limits::check_operations;
use crate::scim::path::{Resolved, resolve};
use crate::scim::resource::ResourceId;
use crate::scim::schema::{AttrType, Attribute, Mutability, ResourceType};
use values::{filtered, sub_attribute, whole};

/// One PATCH operation (RFC 7644 §3.5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

fn no_target(detail: impl Into<String>) -> Error {
    Error::new(400, Some(ScimType::NoTarget), detail)
}

fn invalid_path(detail: impl Into<String>) -> Error {
    Error::new(400, Some(ScimType::InvalidPath), detail)
}

/// Applies a PatchOp body to `doc`, the document of resource `id`, and returns the validated
/// result.
pub fn apply(
    rt: &ResourceType,
    common: &[Attribute],
    doc: &Document,
    id: ResourceId,
    body: &Value,
) -> Result<Document, Error> {
    let operations = operations(body)?;
    check_writes(rt, operations)?;
    let mut work = doc.clone();
    for (i, operation) in operations.iter().enumerate() {
        apply_one(rt, common, &mut work, id, operation)
            .map_err(|e| e.prefixed(&format!("Operations[{i}]")))?;
    }
    canonicalize(rt, common, &Value::Object(work), Some(doc))
}

/// The `Operations` array of a PatchOp message.
fn operations(body: &Value) -> Result<&Vec<Value>, Error> {
    let Value::Object(members) = body else {
        return Err(Error::invalid_syntax(
            "a PATCH body must be a PatchOp JSON object",
        ));
    };
    let ops = members
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
        .map(|(_, v)| v);
    match ops {
        Some(Value::Array(ops)) if !ops.is_empty() => Ok(ops),
        _ => Err(Error::invalid_syntax(
            "a PatchOp needs 'Operations': an array of at least one operation (RFC 7644 §3.5.2)",
        )),
    }
}

/// At most [`crate::scim::limits::MAX_PATCH_OPERATIONS`], an operation without a path counting once per attribute
/// it sets: each write of a multi-valued attribute may cost up to [`crate::scim::limits::MAX_VALUES`] value
/// lookups, so their number bounds the work of one PatchOp.
fn check_writes(rt: &ResourceType, operations: &[Value]) -> Result<(), Error> {
    check_operations(operations.iter().map(|op| writes(rt, op)).sum())
}

/// The attribute writes of one operation: 1, or for a path-less one the attributes of its
/// value, extension objects counted by their attributes.
fn writes(rt: &ResourceType, operation: &Value) -> usize {
    let Value::Object(operation) = operation else {
        return 1;
    };
    let path = member(operation, "path")
        .and_then(Value::as_str)
        .is_some_and(|p| !p.trim().is_empty());
    match member(operation, "value") {
        Some(Value::Object(members)) if !path => members
            .iter()
            .map(|(key, v)| match (rt.extension(key), v) {
                (Some(_), Value::Object(ext)) => ext.len(),
                _ => 1,
            })
            .sum::<usize>()
            .max(1),
        _ => 1,
    }
}

fn member<'v>(op: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    op.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn apply_one(
    rt: &ResourceType,
    common: &[Attribute],
    doc: &mut Document,
    id: ResourceId,
    operation: &Value,
) -> Result<(), Error> {
    let Value::Object(operation) = operation else {
        return Err(Error::invalid_syntax("an operation must be a JSON object"));
    };
    let op = op_of(operation)?;
    let value = member(operation, "value");
    let path = member(operation, "path")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|p| !p.is_empty());
    match (op, path) {
        (Op::Remove, None) => Err(no_target("remove needs a 'path' (RFC 7644 §3.5.2.2)")),
        (_, Some(path)) if is_schema(rt, path) => {
            apply_schema(rt, common, doc, id, op, path, value)
        }
        (_, Some(path)) => {
            if op != Op::Remove && value.is_none() {
                return Err(Error::invalid_value(format!(
                    "{path}: add and replace need a 'value'"
                ))
                .at(path)
                .because("add and replace need a value"));
            }
            apply_path(rt, common, doc, op, path, value.unwrap_or(&Value::Null))
        }
        (_, None) => apply_pathless(rt, common, doc, id, op, value),
    }
}

/// The operation's `op`, in any letter case (Entra sends `Add`, `Replace`, `Remove`).
fn op_of(operation: &Map<String, Value>) -> Result<Op, Error> {
    match member(operation, "op")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("add") => Ok(Op::Add),
        Some("replace") => Ok(Op::Replace),
        Some("remove") => Ok(Op::Remove),
        other => Err(Error::invalid_syntax(format!(
            "'op' must be add, replace or remove, not {}",
            other.map_or("missing".to_owned(), |o| format!("'{o}'"))
        ))),
    }
}

/// Add or replace without a path (RFC 7644 §3.5.2.1, §3.5.2.3): the value holds attributes,
/// and Entra's keys may be paths (`name.givenName`, `urn:…:User:employeeNumber`).
/// Whether `path` is a schema URN of the resource type itself (RFC 7644 §3.5.2 lets a path be
/// one: scim2-tester sends the Enterprise User extension's URN with the extension as value).
fn is_schema(rt: &ResourceType, path: &str) -> bool {
    rt.extension(path).is_some() || path.eq_ignore_ascii_case(&rt.schema.id)
}

/// An operation whose path is a schema URN: add and replace apply the value's attributes as a
/// path-less operation would; remove clears the whole extension (the core schema stays).
fn apply_schema(
    rt: &ResourceType,
    common: &[Attribute],
    doc: &mut Document,
    id: ResourceId,
    op: Op,
    path: &str,
    value: Option<&Value>,
) -> Result<(), Error> {
    let extension = rt.extension(path);
    match (op, extension) {
        (Op::Remove, Some(ext)) => {
            let id = ext.schema.id.as_str();
            doc.retain(|k, _| !k.eq_ignore_ascii_case(id));
            Ok(())
        }
        (Op::Remove, None) => Err(Error::mutability(format!(
            "{path}: the core schema of a {} cannot be removed",
            rt.kind.as_str()
        ))),
        (_, _) => {
            let Some(Value::Object(_)) = value else {
                return Err(Error::invalid_value(format!(
                    "{path}: add and replace need an object 'value' of the schema's attributes"
                )));
            };
            match extension {
                Some(ext) => {
                    let mut wrapped = Map::new();
                    wrapped.insert(ext.schema.id.clone(), value.cloned().unwrap_or_default());
                    apply_pathless(rt, common, doc, id, op, Some(&Value::Object(wrapped)))
                }
                None => apply_pathless(rt, common, doc, id, op, value),
            }
        }
    }
}

fn apply_pathless(
    rt: &ResourceType,
    common: &[Attribute],
    doc: &mut Document,
    id: ResourceId,
    op: Op,
    value: Option<&Value>,
) -> Result<(), Error> {
    let Some(Value::Object(members)) = value else {
        return Err(Error::invalid_value(
            "add or replace without a 'path' needs an object 'value'",
        ));
    };
    for (key, v) in members {
        if key.eq_ignore_ascii_case("id") {
            own_id(id, v)?;
        } else if let Some(ext) = rt.extension(key) {
            let Value::Object(ext_members) = v else {
                return Err(Error::invalid_value(format!(
                    "'{key}' must be an object of extension attributes"
                )));
            };
            // a client may describe the extension object with its own `schemas`: not an attribute
            for (k, ev) in ext_members
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("schemas"))
            {
                apply_path(rt, common, doc, op, &format!("{}:{k}", ext.schema.id), ev)?;
            }
        } else if !key.eq_ignore_ascii_case("schemas") {
            apply_path(rt, common, doc, op, key, v)?;
        }
    }
    Ok(())
}

/// An `id` in a path-less value: the resource's own changes nothing (Okta's Group Push
/// renames a group with `{"op": "replace", "value": {"id": …, "displayName": …}}`, "SCIM 2.0
/// protocol reference", https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20);
/// `null` is no id; any other is an attempt to change a read-only attribute (RFC 7643 §3.1).
fn own_id(id: ResourceId, value: &Value) -> Result<(), Error> {
    // null: not present (RFC 7643 §2.5)
    if value.is_null() {
        return Ok(());
    }
    let sent = value
        .as_str()
        .and_then(|s| s.trim().parse::<ResourceId>().ok());
    if sent == Some(id) {
        return Ok(());
    }
    Err(Error::mutability(format!(
        "'id' is read-only: a value may hold only this resource's own id, {id}"
    ))
    .at("id")
    .because("is read-only"))
}

/// A PATCH path split into attribute, value filter and sub-attribute (RFC 7644 Figure 7).
struct PatchPath<'a> {
    ext: Option<&'a str>,
    attr: &'a Attribute,
    filter: Option<(Filter, String)>,
    sub: Option<&'a Attribute>,
}

/// `attrPath [ "[" valFilter "]" ] [ "." subAttr ]`, with the bracket found outside quotes.
fn split(text: &str) -> Result<(&str, Option<&str>, Option<&str>), Error> {
    let Some(open) = text.find('[') else {
        return Ok((text, None, None));
    };
    let mut in_string = false;
    let mut escaped = false;
    let mut close = None;
    for (i, c) in text[open..].char_indices() {
        match c {
            '\\' if in_string => escaped = !escaped,
            '"' if !escaped => in_string = !in_string,
            ']' if !in_string => {
                close = Some(open + i);
                break;
            }
            _ => escaped = false,
        }
        if c != '\\' {
            escaped = false;
        }
    }
    let close = close
        .ok_or_else(|| invalid_path(format!("path '{text}' has a '[' that is never closed")))?;
    let rest = &text[close + 1..];
    let sub = match rest {
        "" => None,
        r => Some(
            r.strip_prefix('.')
                .ok_or_else(|| invalid_path(format!("path '{text}' has '{r}' after ']'")))?,
        ),
    };
    Ok((&text[..open], Some(&text[open + 1..close]), sub))
}

fn parse_path<'a>(
    rt: &'a ResourceType,
    common: &'a [Attribute],
    text: &str,
) -> Result<Option<PatchPath<'a>>, Error> {
    let (attr_text, filter_text, sub_text) = split(text)?;
    let resolved = resolve(rt, common, attr_text).map_err(|e| {
        invalid_path(format!("path '{text}': {e}")).because("names no attribute of the resource")
    })?;
    let p = match resolved {
        Resolved::Doc(p) => p,
        // `schemas` is computed from the document; changing it changes nothing.
        Resolved::Schemas => return Ok(None),
        Resolved::Id | Resolved::Meta(_) => {
            return Err(Error::mutability(format!("'{attr_text}' is read-only"))
                .at(attr_text)
                .because("is read-only"));
        }
    };
    let Some(filter_text) = filter_text else {
        return Ok(Some(PatchPath {
            ext: p.ext,
            attr: p.attr,
            filter: None,
            sub: p.sub,
        }));
    };
    if p.sub.is_some() || !p.attr.multi_valued || p.attr.kind != AttrType::Complex {
        return Err(invalid_path(format!(
            "path '{text}': a value filter needs a multi-valued complex attribute"
        )));
    }
    let filter = value_filter(p.attr, filter_text, text)?;
    let sub = filtered_sub(p.attr, sub_text, text)?;
    Ok(Some(PatchPath {
        ext: p.ext,
        attr: p.attr,
        filter: Some((filter, filter_text.to_owned())),
        sub,
    }))
}

/// The value filter of a path, over the elements of `attr` (`emails[type eq "work"]`).
fn value_filter(attr: &Attribute, filter_text: &str, text: &str) -> Result<Filter, Error> {
    let invalid_filter = |e: String| {
        Error::new(
            400,
            Some(ScimType::InvalidFilter),
            format!("path '{text}': invalid filter: {e}"),
        )
    };
    let raw = filter::parse(filter_text).map_err(invalid_filter)?;
    filter::validate_element(attr, &raw).map_err(invalid_filter)
}

/// The sub-attribute named after a value filter (`emails[type eq "work"].value`).
fn filtered_sub<'a>(
    attr: &'a Attribute,
    sub_text: Option<&str>,
    text: &str,
) -> Result<Option<&'a Attribute>, Error> {
    let Some(s) = sub_text else {
        return Ok(None);
    };
    sub_attribute_alias(attr, s).map(Some).ok_or_else(|| {
        invalid_path(format!(
            "path '{text}': '{}' has no sub-attribute '{s}'",
            attr.name
        ))
    })
}

/// The object holding the attribute: the document, or its extension object.
fn container<'d>(doc: &'d mut Document, ext: Option<&str>) -> &'d mut Map<String, Value> {
    match ext {
        None => doc,
        Some(urn) => {
            let entry = doc
                .entry(urn.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            match entry {
                Value::Object(m) => m,
                _ => unreachable_object(),
            }
        }
    }
}

#[expect(
    clippy::panic,
    reason = "the entry was made an object on the line before"
)]
fn unreachable_object() -> &'static mut Map<String, Value> {
    panic!("extension entry is an object")
}

fn apply_path(
    rt: &ResourceType,
    common: &[Attribute],
    doc: &mut Document,
    op: Op,
    text: &str,
    value: &Value,
) -> Result<(), Error> {
    let Some(path) = parse_path(rt, common, text)? else {
        return Ok(());
    };
    let leaf = path.sub.unwrap_or(path.attr);
    check_mutability(&path, leaf, doc, op, text)?;
    let result = {
        let holder = container(doc, path.ext);
        match (&path.filter, path.sub) {
            (None, None) => whole(holder, path.attr, op, value, text),
            (None, Some(sub)) => sub_attribute(holder, path.attr, sub, op, value, text),
            (Some((f, f_text)), sub) => {
                filtered(holder, path.attr, f, f_text, sub, op, value, text)
            }
        }
    };
    if let Some(urn) = path.ext {
        if doc
            .get(urn)
            .is_some_and(|v| v.as_object().is_some_and(Map::is_empty))
        {
            doc.remove(urn);
        }
    }
    result
}

/// RFC 7644 §3.5.2: read-only attributes cannot be patched; immutable ones only added while
/// they have no value; required ones not removed.
fn check_mutability(
    path: &PatchPath<'_>,
    leaf: &Attribute,
    doc: &Document,
    op: Op,
    text: &str,
) -> Result<(), Error> {
    if path.attr.mutability == Mutability::ReadOnly || leaf.mutability == Mutability::ReadOnly {
        return Err(Error::mutability(format!("'{text}' is read-only"))
            .at(text)
            .because("is read-only"));
    }
    if path.attr.mutability == Mutability::Immutable || leaf.mutability == Mutability::Immutable {
        let holder = match path.ext {
            None => Some(doc),
            Some(urn) => doc.get(urn).and_then(Value::as_object),
        };
        if op != Op::Add || holder.is_some_and(|h| h.contains_key(&path.attr.name)) {
            return Err(Error::mutability(format!("'{text}' is immutable"))
                .at(text)
                .because("is immutable"));
        }
    }
    if op == Op::Remove && path.filter.is_none() && path.sub.is_none() && path.attr.required {
        return Err(
            Error::mutability(format!("'{text}' is required and cannot be removed"))
                .at(text)
                .because("is required and cannot be removed"),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
