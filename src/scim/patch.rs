//! The PATCH engine (RFC 7644 §3.5.2): operations applied in order to a copy of the canonical
//! document, which is then validated as a whole; a failing operation leaves the original
//! untouched. Entra's shapes (entra.md §1.7, §2.3) are accepted here: capitalised ops, path-less
//! values with attribute-path keys, booleans as strings, filtered paths that create the element
//! they name when it is missing, manager as a bare string, roles as JSON strings, and `remove`
//! with a value list removing only the listed values.

use serde_json::{Map, Value};

use crate::scim::canonical::{Document, canonicalize, coerce_attribute, sub_attribute_alias};
use crate::scim::error::{Error, ScimType};
use crate::scim::filter::eval::matches_element;
use crate::scim::filter::{self, CompareOp, Filter, Literal, Raw};
use crate::scim::fold::fold_value;
use crate::scim::path::{Resolved, resolve};
use crate::scim::schema::{AttrType, Attribute, Mutability, ResourceType};

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

/// Applies a PatchOp body to `doc` and returns the validated result.
pub fn apply(
    rt: &ResourceType,
    common: &[Attribute],
    doc: &Document,
    body: &Value,
) -> Result<Document, Error> {
    let operations = operations(body)?;
    let mut work = doc.clone();
    for (i, operation) in operations.iter().enumerate() {
        apply_one(rt, common, &mut work, operation).map_err(|e| Error {
            detail: format!("Operations[{i}]: {}", e.detail),
            ..e
        })?;
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

fn member<'v>(op: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    op.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn apply_one(
    rt: &ResourceType,
    common: &[Attribute],
    doc: &mut Document,
    operation: &Value,
) -> Result<(), Error> {
    let Value::Object(operation) = operation else {
        return Err(Error::invalid_syntax("an operation must be a JSON object"));
    };
    let op = match member(operation, "op")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("add") => Op::Add,
        Some("replace") => Op::Replace,
        Some("remove") => Op::Remove,
        other => {
            return Err(Error::invalid_syntax(format!(
                "'op' must be add, replace or remove, not {}",
                other.map_or("missing".to_owned(), |o| format!("'{o}'"))
            )));
        }
    };
    let value = member(operation, "value");
    let path = member(operation, "path")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|p| !p.is_empty());
    match (op, path) {
        (Op::Remove, None) => Err(no_target("remove needs a 'path' (RFC 7644 §3.5.2.2)")),
        (_, Some(path)) => {
            if op != Op::Remove && value.is_none() {
                return Err(Error::invalid_value(format!(
                    "{path}: add and replace need a 'value'"
                )));
            }
            apply_path(rt, common, doc, op, path, value.unwrap_or(&Value::Null))
        }
        (_, None) => {
            // RFC 7644 §3.5.2.1/3: the value holds attributes; Entra's keys may be paths
            // (`name.givenName`, `urn:…:User:employeeNumber`).
            let Some(Value::Object(members)) = value else {
                return Err(Error::invalid_value(
                    "add or replace without a 'path' needs an object 'value'",
                ));
            };
            for (key, v) in members {
                if let Some(ext) = rt.extension(key) {
                    let Value::Object(ext_members) = v else {
                        return Err(Error::invalid_value(format!(
                            "'{key}' must be an object of extension attributes"
                        )));
                    };
                    for (k, ev) in ext_members {
                        apply_path(rt, common, doc, op, &format!("{}:{k}", ext.schema.id), ev)?;
                    }
                } else if key.eq_ignore_ascii_case("schemas") {
                    continue;
                } else {
                    apply_path(rt, common, doc, op, key, v)?;
                }
            }
            Ok(())
        }
    }
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
    let resolved =
        resolve(rt, common, attr_text).map_err(|e| invalid_path(format!("path '{text}': {e}")))?;
    let p = match resolved {
        Resolved::Doc(p) => p,
        // `schemas` is computed from the document; changing it changes nothing.
        Resolved::Schemas => return Ok(None),
        Resolved::Id | Resolved::Meta(_) => {
            return Err(Error::mutability(format!("'{attr_text}' is read-only")));
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
    let raw = filter::parse(filter_text).map_err(|e| {
        Error::new(
            400,
            Some(ScimType::InvalidFilter),
            format!("path '{text}': invalid filter: {e}"),
        )
    })?;
    let f = filter::validate_element(p.attr, &raw).map_err(|e| {
        Error::new(
            400,
            Some(ScimType::InvalidFilter),
            format!("path '{text}': invalid filter: {e}"),
        )
    })?;
    let sub = match sub_text {
        None => None,
        Some(s) => Some(sub_attribute_alias(p.attr, s).ok_or_else(|| {
            invalid_path(format!(
                "path '{text}': '{}' has no sub-attribute '{s}'",
                p.attr.name
            ))
        })?),
    };
    Ok(Some(PatchPath {
        ext: p.ext,
        attr: p.attr,
        filter: Some((f, filter_text.to_owned())),
        sub,
    }))
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
        return Err(Error::mutability(format!("'{text}' is read-only")));
    }
    if path.attr.mutability == Mutability::Immutable || leaf.mutability == Mutability::Immutable {
        let holder = match path.ext {
            None => Some(doc),
            Some(urn) => doc.get(urn).and_then(Value::as_object),
        };
        if op != Op::Add || holder.is_some_and(|h| h.contains_key(&path.attr.name)) {
            return Err(Error::mutability(format!("'{text}' is immutable")));
        }
    }
    if op == Op::Remove && path.filter.is_none() && path.sub.is_none() && path.attr.required {
        return Err(Error::mutability(format!(
            "'{text}' is required and cannot be removed"
        )));
    }
    Ok(())
}

/// The coerced value for the whole attribute (`None`: "no value", e.g. `manager: ""`).
fn coerce(attr: &Attribute, value: &Value, text: &str) -> Result<Option<Value>, Error> {
    coerce_attribute(attr, value, text)
}

/// Operations on a whole attribute (`emails`, `name`, `active`, `manager`).
fn whole(
    holder: &mut Map<String, Value>,
    attr: &Attribute,
    op: Op,
    value: &Value,
    text: &str,
) -> Result<(), Error> {
    let name = attr.name.clone();
    if op == Op::Remove {
        // Entra's `Remove` with a value list removes only those values (entra.md §1.10).
        if attr.multi_valued && !value.is_null() {
            let Some(Value::Array(gone)) = coerce(attr, value, text)? else {
                return Ok(());
            };
            if let Some(Value::Array(items)) = holder.get_mut(&name) {
                items.retain(|item| !gone.iter().any(|g| contains(item, g)));
                if items.is_empty() {
                    holder.remove(&name);
                }
            }
            return Ok(());
        }
        holder.remove(&name);
        return Ok(());
    }
    let Some(new) = coerce(attr, value, text)? else {
        holder.remove(&name);
        return Ok(());
    };
    match (attr.multi_valued, op, holder.get_mut(&name)) {
        (true, Op::Add, Some(Value::Array(items))) => {
            let Value::Array(added) = new else {
                return Ok(());
            };
            let fresh: Vec<Value> = added.into_iter().filter(|a| !items.contains(a)).collect();
            let start = items.len();
            items.extend(fresh);
            let end = items.len();
            settle_primary(items, start..end);
        }
        (false, _, Some(Value::Object(old))) if attr.kind == AttrType::Complex => {
            // replace (and add) on a complex attribute merge its sub-attributes (§3.5.2.3)
            if let Value::Object(members) = new {
                old.extend(members);
            }
        }
        _ => {
            holder.insert(name, new);
        }
    }
    Ok(())
}

/// Whether `item` has every sub-attribute value `pattern` has (simple values: equality).
fn contains(item: &Value, pattern: &Value) -> bool {
    match (item, pattern) {
        (Value::Object(i), Value::Object(p)) => p.iter().all(|(k, v)| i.get(k) == Some(v)),
        _ => item == pattern,
    }
}

/// RFC 7644 §3.5.2: a value written with `primary: true` clears `primary` on the others.
fn settle_primary(items: &mut [Value], written: std::ops::Range<usize>) {
    let newest = written
        .clone()
        .rev()
        .find(|&i| items[i].get("primary") == Some(&Value::Bool(true)));
    if let Some(newest) = newest {
        for (i, item) in items.iter_mut().enumerate() {
            if i != newest && item.get("primary") == Some(&Value::Bool(true)) {
                item["primary"] = Value::Bool(false);
            }
        }
    }
}

/// The coerced value of one sub-attribute.
fn coerce_sub(
    attr: &Attribute,
    sub: &Attribute,
    value: &Value,
    text: &str,
) -> Result<Option<Value>, Error> {
    let mut wrapper = Map::new();
    wrapper.insert(sub.name.clone(), value.clone());
    let single = Attribute {
        multi_valued: false,
        ..attr.clone()
    };
    Ok(coerce_attribute(&single, &Value::Object(wrapper), text)?
        .and_then(|v| v.get(&sub.name).cloned()))
}

fn set_sub(element: &mut Value, sub: &Attribute, value: Option<&Value>) {
    if let Value::Object(m) = element {
        match value {
            Some(v) => {
                m.insert(sub.name.clone(), v.clone());
            }
            None => {
                m.remove(&sub.name);
            }
        }
    }
}

/// `name.givenName`, or `emails.value` (every element) without a filter.
fn sub_attribute(
    holder: &mut Map<String, Value>,
    attr: &Attribute,
    sub: &Attribute,
    op: Op,
    value: &Value,
    text: &str,
) -> Result<(), Error> {
    let new = if op == Op::Remove {
        None
    } else {
        coerce_sub(attr, sub, value, text)?
    };
    let name = attr.name.clone();
    match holder.get_mut(&name) {
        Some(Value::Array(items)) => {
            for item in items.iter_mut() {
                set_sub(item, sub, new.as_ref());
            }
            items.retain(|i| i.as_object().is_some_and(|m| !m.is_empty()));
            let all = 0..items.len();
            settle_primary(items, all);
        }
        Some(element @ Value::Object(_)) => set_sub(element, sub, new.as_ref()),
        _ => {
            if let Some(v) = new {
                let mut element = Map::new();
                element.insert(sub.name.clone(), v);
                let element = Value::Object(element);
                holder.insert(
                    name.clone(),
                    if attr.multi_valued {
                        Value::Array(vec![element])
                    } else {
                        element
                    },
                );
            }
        }
    }
    if holder.get(&name).is_some_and(|v| {
        matches!(v, Value::Object(m) if m.is_empty())
            || matches!(v, Value::Array(a) if a.is_empty())
    }) {
        holder.remove(&name);
    }
    Ok(())
}

/// The element a filter of `eq` comparisons describes: `type eq "work"` → `{"type": "work"}`,
/// spelled as the filter spells it and typed by the schema. Entra adds values through filtered
/// paths and expects the element to be created (entra.md §1.7 c). `None` when the filter is not
/// such a conjunction.
fn element_from_filter(attr: &Attribute, f_text: &str) -> Option<Map<String, Value>> {
    fn walk(raw: &Raw, out: &mut Map<String, Value>) -> Option<()> {
        match raw {
            Raw::And(a, b) => {
                walk(a, out)?;
                walk(b, out)
            }
            Raw::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } => {
                let v = match value {
                    Literal::Str(s) | Literal::Bare(s) => Value::String(s.clone()),
                    Literal::Bool(b) => Value::Bool(*b),
                    Literal::Num(n) => Value::Number(n.clone()),
                    Literal::Null => return None,
                };
                out.insert(path.clone(), v);
                Some(())
            }
            _ => None,
        }
    }
    let raw = filter::parse(f_text).ok()?;
    let mut described = Map::new();
    walk(&raw, &mut described)?;
    let single = Attribute {
        multi_valued: false,
        ..attr.clone()
    };
    match coerce_attribute(&single, &Value::Object(described), f_text).ok()? {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    }
}

#[expect(clippy::too_many_arguments, reason = "one operation's parts, named")]
fn filtered(
    holder: &mut Map<String, Value>,
    attr: &Attribute,
    f: &Filter,
    f_text: &str,
    sub: Option<&Attribute>,
    op: Op,
    value: &Value,
    text: &str,
) -> Result<(), Error> {
    let name = attr.name.clone();
    let matching: Vec<usize> = match holder.get(&name) {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter(|(_, item)| matches_element(f, &fold_value(attr, item)))
            .map(|(i, _)| i)
            .collect(),
        _ => Vec::new(),
    };
    if op == Op::Remove {
        if let Some(Value::Array(items)) = holder.get_mut(&name) {
            let mut index = 0;
            items.retain_mut(|item| {
                let hit = matching.contains(&index);
                index += 1;
                match (hit, sub) {
                    (false, _) => true,
                    (true, None) => false,
                    (true, Some(sub)) => {
                        set_sub(item, sub, None);
                        item.as_object().is_some_and(|m| !m.is_empty())
                    }
                }
            });
            if items.is_empty() {
                holder.remove(&name);
            }
        }
        return Ok(());
    }
    let new_element = match sub {
        Some(sub) => coerce_sub(attr, sub, value, text)?.map(|v| {
            let mut m = Map::new();
            m.insert(sub.name.clone(), v);
            Value::Object(m)
        }),
        None => {
            let single = Attribute {
                multi_valued: false,
                ..attr.clone()
            };
            coerce_attribute(&single, value, text)?
        }
    };
    let Some(Value::Object(new_members)) = new_element else {
        // replacing a filtered value with "nothing" removes it
        return filtered(holder, attr, f, f_text, sub, Op::Remove, &Value::Null, text);
    };
    let items = match holder
        .entry(name)
        .or_insert_with(|| Value::Array(Vec::new()))
    {
        Value::Array(items) => items,
        other => {
            *other = Value::Array(Vec::new());
            match other {
                Value::Array(items) => items,
                _ => return Ok(()),
            }
        }
    };
    if matching.is_empty() {
        // create-on-absent (entra.md §1.7 c), RFC 7644 §3.5.2.3 would say noTarget
        let mut element = element_from_filter(attr, f_text).ok_or_else(|| {
            no_target(format!("no value of '{}' matches [{f_text}], and the filter does not describe one to create", attr.name))
        })?;
        element.extend(new_members);
        items.push(Value::Object(element));
        let end = items.len();
        settle_primary(items, end - 1..end);
        return Ok(());
    }
    for &i in &matching {
        match (&mut items[i], sub, op) {
            (Value::Object(m), Some(_), _) | (Value::Object(m), None, Op::Add) => {
                m.extend(new_members.clone())
            }
            (item, None, _) => *item = Value::Object(new_members.clone()),
            _ => {}
        }
    }
    let written = matching.iter().copied().max().unwrap_or(0);
    settle_primary(items, written..written + 1);
    Ok(())
}

#[cfg(test)]
#[path = "patch_tests.rs"]
mod tests;
