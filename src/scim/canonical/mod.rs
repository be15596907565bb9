//! Canonicalisation: turns a client's resource body into the canonical document scimd stores.
//! Attribute names take the schema's spelling whatever the input case
//! (RFC 7643 §2.1), values take the schema's type (`"True"` becomes `true`), `null` and empty
//! arrays mean "not present" (RFC 7643 §2.5), read-only and unknown attributes are dropped
//! (RFC 7644 §3.3, §3.5.1), required attributes are checked. Entra's shapes are accepted here,
//! once, so that nothing downstream needs to know about them.

mod coerce;

use serde_json::{Map, Value};

use coerce::insert;
pub use coerce::{coerce_attribute, coerce_simple, parse_bool};
pub(crate) use coerce::{coerce_element, sub_attribute_alias};

use crate::scim::error::Error;
use crate::scim::limits;
use crate::scim::schema::{Attribute, Mutability, ResourceType, Schema};

/// A canonical resource document: core attributes and `externalId` at the top level, each
/// extension's attributes in an object under its URN. No `id`, `meta` or `schemas`: those are
/// server-set and added when the resource is rendered.
pub type Document = Map<String, Value>;

/// Canonicalises a POST or PUT body (RFC 7644 §3.3, §3.5.1). `existing` is the stored
/// document on PUT, used for the immutable rule: a value already set may not change.
pub fn canonicalize(
    rt: &ResourceType,
    common: &[Attribute],
    input: &Value,
    existing: Option<&Document>,
) -> Result<Document, Error> {
    canonicalize_noting(rt, common, input, existing, &mut Vec::new())
}

/// [`canonicalize`], noting in `unknown` the names of the attributes it dropped because no
/// schema of the resource type defines them (as sent: `costCenter`, `urn:…:User:costCenter`,
/// or an extension's URN that is not registered).
pub fn canonicalize_noting(
    rt: &ResourceType,
    common: &[Attribute],
    input: &Value,
    existing: Option<&Document>,
    unknown: &mut Vec<String>,
) -> Result<Document, Error> {
    let Value::Object(input) = input else {
        return Err(Error::invalid_syntax(
            "the request body must be a JSON object holding the resource",
        ));
    };
    let mut doc = Document::new();
    for (key, value) in input {
        place(rt, common, key, value, &mut doc, unknown)?;
    }
    check_required(&rt.schema, &doc, "")?;
    for ext in &rt.extensions {
        match doc.get(&ext.schema.id) {
            Some(Value::Object(ext_doc)) => check_required(&ext.schema, ext_doc, &ext.schema.id)?,
            _ if ext.required => {
                return Err(Error::invalid_value(format!(
                    "the schema extension '{}' is required",
                    ext.schema.id
                ))
                .at(&ext.schema.id)
                .because("the schema extension is required"));
            }
            _ => {}
        }
    }
    if let Some(existing) = existing {
        check_immutable(rt, &doc, existing)?;
    }
    check_names(rt, &doc)?;
    Ok(doc)
}

/// The names a resource is looked up by are at most [`limits::MAX_NAME_CHARS`] characters.
fn check_names(rt: &ResourceType, doc: &Document) -> Result<(), Error> {
    let names = limits::NAME_ATTRIBUTES
        .iter()
        .filter(|(kind, _)| *kind == rt.kind);
    for (_, name) in names {
        if let Some(Value::String(value)) = doc.get(*name) {
            limits::check_name(name, value)?;
        }
    }
    Ok(())
}

/// Puts one top-level member of the input where it belongs in the canonical document.
fn place(
    rt: &ResourceType,
    common: &[Attribute],
    key: &str,
    value: &Value,
    doc: &mut Document,
    unknown: &mut Vec<String>,
) -> Result<(), Error> {
    if key.eq_ignore_ascii_case("schemas") {
        // Tolerated whatever it says (Entra sends malformed and private URNs); the server
        // computes `schemas` on output (RFC 7643 §3).
        return Ok(());
    }
    if let Some(ext) = rt.extension(key) {
        return place_extension_object(&ext.schema, value, doc, unknown);
    }
    if let Some((schema, attr_name)) = split_urn_path(rt, key) {
        // `urn:…:enterprise:2.0:User:department` as a top-level key (RFC 7644 §3.10 form).
        return match schema {
            Some(ext) => place_in_extension(ext, attr_name, value, doc, unknown),
            None => place(rt, common, attr_name, value, doc, unknown),
        };
    }
    let attr = super::schema::find(common, key).or_else(|| rt.schema.attribute(key));
    let Some(attr) = attr else {
        // Ignored, not refused (unless the tenant says so): the server may ignore what a
        // client sends (RFC 7644 §3.3), and a client such as Entra cannot be made to send
        // less. `null` is absence, not an attribute.
        return match value.as_object() {
            // an extension no schema defines: its attributes by name (`urn:…:User:badge`),
            // so that the schema to register can be told from them
            Some(attributes) if key.starts_with("urn:") && !attributes.is_empty() => {
                for (attribute, v) in attributes {
                    note_unknown(unknown, format!("{key}:{attribute}"), v)?;
                }
                Ok(())
            }
            _ => note_unknown(unknown, key.to_owned(), value),
        };
    };
    insert(doc, attr, value, &attr.name)
}

/// A key of the form `<schema URN>:<attribute>`: the extension it names (or `None` for the
/// core schema) and the attribute name.
fn split_urn_path<'a>(rt: &'a ResourceType, key: &'a str) -> Option<(Option<&'a Schema>, &'a str)> {
    let core = &rt.schema.id;
    if let Some(rest) = strip_prefix_ci(key, core).and_then(|r| r.strip_prefix(':')) {
        return Some((None, rest));
    }
    rt.extensions.iter().find_map(|ext| {
        let rest = strip_prefix_ci(key, &ext.schema.id)?;
        // RFC 7644 §3.10 uses ':'; Entra's legacy form uses '.'.
        let rest = rest.strip_prefix(':').or_else(|| rest.strip_prefix('.'))?;
        Some((Some(&ext.schema), rest))
    })
}

pub(crate) fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn place_extension_object(
    schema: &Schema,
    value: &Value,
    doc: &mut Document,
    unknown: &mut Vec<String>,
) -> Result<(), Error> {
    match value {
        Value::Null => Ok(()),
        Value::Object(members) => {
            // the object's own `schemas`, as some clients send it, is not an attribute
            for (key, value) in members
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("schemas"))
            {
                place_in_extension(schema, key, value, doc, unknown)?;
            }
            Ok(())
        }
        _ => Err(Error::invalid_value(format!(
            "'{}' must be a JSON object holding the extension's attributes",
            schema.id
        ))
        .at(&schema.id)
        .because("must be a JSON object holding the extension's attributes")),
    }
}

fn place_in_extension(
    schema: &Schema,
    key: &str,
    value: &Value,
    doc: &mut Document,
    unknown: &mut Vec<String>,
) -> Result<(), Error> {
    let Some(attr) = schema.attribute(key) else {
        return note_unknown(unknown, format!("{}:{key}", schema.id), value);
    };
    let path = format!("{}:{}", schema.id, attr.name);
    let mut ext_doc = match doc.remove(&schema.id) {
        Some(Value::Object(ext_doc)) => ext_doc,
        _ => Document::new(),
    };
    insert(&mut ext_doc, attr, value, &path)?;
    if !ext_doc.is_empty() {
        doc.insert(schema.id.clone(), Value::Object(ext_doc));
    }
    Ok(())
}

/// Notes `name`, an attribute no schema defines, unless its value is `null` (absence). The
/// name is the client's text, whatever it holds (a NUL character too): whoever records it
/// keeps only names spelled as attribute names (`scim::is_attribute_name`).
fn note_unknown(unknown: &mut Vec<String>, name: String, value: &Value) -> Result<(), Error> {
    if !value.is_null() {
        unknown.push(name);
    }
    Ok(())
}

/// RFC 7643 §2.2 `required`: every required, client-writable attribute is present and not an
/// empty string.
fn check_required(schema: &Schema, doc: &Document, prefix: &str) -> Result<(), Error> {
    for attr in schema
        .attributes
        .iter()
        .filter(|a| a.required && a.writable())
    {
        let name = if prefix.is_empty() {
            attr.name.clone()
        } else {
            format!("{prefix}:{}", attr.name)
        };
        match doc.get(&attr.name) {
            None => {
                return Err(
                    Error::invalid_value(format!("attribute '{name}' is required"))
                        .at(&name)
                        .because("is required"),
                );
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                return Err(Error::invalid_value(format!(
                    "attribute '{name}' is required and may not be empty"
                ))
                .at(&name)
                .because("is required and may not be empty"));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// RFC 7644 §3.5.1: an immutable attribute that already has a value keeps it.
fn check_immutable(rt: &ResourceType, doc: &Document, existing: &Document) -> Result<(), Error> {
    let immutable = rt
        .schema
        .attributes
        .iter()
        .filter(|a| a.mutability == Mutability::Immutable);
    for attr in immutable {
        if let Some(old) = existing.get(&attr.name) {
            if doc.get(&attr.name) != Some(old) {
                return Err(Error::mutability(format!(
                    "attribute '{}' is immutable and already set; it cannot be changed",
                    attr.name
                ))
                .at(&attr.name)
                .because("is immutable and already set"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
