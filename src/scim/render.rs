//! Rendering: a stored resource as the RFC JSON a client receives, with `schemas`, `id`,
//! attributes in schema order, server-set `meta` (RFC 7643 §3.1), cut to the request's
//! projection. What scimd sends back is always strict RFC whatever shape came in.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::scim::projection::{Projection, Show};
use crate::scim::resource::StoredResource;
use crate::scim::schema::{Attribute, Extension, ResourceType, find};

/// RFC 3339 with milliseconds, UTC: the form of every dateTime scimd sets.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The location of a resource: `<base>/Users/<id>`.
pub fn location(base_url: &str, resource: &StoredResource) -> String {
    format!("{base_url}{}/{}", resource.kind.endpoint(), resource.id)
}

/// The representation of `resource` under `projection`.
pub fn render(
    rt: &ResourceType,
    common: &[Attribute],
    resource: &StoredResource,
    base_url: &str,
    projection: &Projection,
) -> Value {
    let doc = &resource.doc;
    let mut schemas = vec![Value::String(rt.schema.id.clone())];
    let mut out = Map::with_capacity(doc.len() + 3);
    out.insert("schemas".into(), Value::Null); // placeholder keeps `schemas` first
    out.insert("id".into(), Value::String(resource.id.to_string()));
    let core = find(common, "externalId")
        .into_iter()
        .chain(&rt.schema.attributes);
    copy(core, None, doc, base_url, projection, &mut out);
    for ext in &rt.extensions {
        if let Some(ext_out) = render_extension(ext, doc, base_url, projection) {
            schemas.push(Value::String(ext.schema.id.clone()));
            out.insert(ext.schema.id.clone(), ext_out);
        }
    }
    out.insert("schemas".into(), Value::Array(schemas));
    if let Some(meta) = render_meta(common, resource, base_url, projection) {
        out.insert("meta".into(), meta);
    }
    Value::Object(out)
}

/// The object of an extension's attributes, `None` when the projection leaves nothing of it.
fn render_extension(
    ext: &Extension,
    doc: &Map<String, Value>,
    base_url: &str,
    projection: &Projection,
) -> Option<Value> {
    let Some(Value::Object(ext_doc)) = doc.get(&ext.schema.id) else {
        return None;
    };
    let mut ext_out = Map::new();
    copy(
        ext.schema.attributes.iter(),
        Some(&ext.schema.id),
        ext_doc,
        base_url,
        projection,
        &mut ext_out,
    );
    (!ext_out.is_empty()).then_some(Value::Object(ext_out))
}

/// The server-set `meta` (RFC 7643 §3.1) as far as the projection shows it.
fn render_meta(
    common: &[Attribute],
    resource: &StoredResource,
    base_url: &str,
    projection: &Projection,
) -> Option<Value> {
    let meta_def = find(common, "meta")?;
    let meta = json!({
        "resourceType": resource.kind.as_str(),
        "created": timestamp(resource.created),
        "lastModified": timestamp(resource.last_modified),
        "location": location(base_url, resource),
        "version": resource.version.etag(),
    });
    project(meta_def, None, Cow::Owned(meta), projection)
}

fn copy<'a>(
    attributes: impl Iterator<Item = &'a Attribute>,
    ext: Option<&str>,
    doc: &Map<String, Value>,
    base_url: &str,
    projection: &Projection,
    out: &mut Map<String, Value>,
) {
    for attr in attributes {
        let Some(value) = attribute(doc, &attr.name) else {
            continue;
        };
        if let Some(value) = project(attr, ext, with_refs(attr, value, base_url), projection) {
            out.insert(attr.name.clone(), value);
        }
    }
}

/// The value of attribute `name` in `doc`. A stored document holds a few of its schema's
/// attributes, so comparing names costs less than hashing each name the schema has; a large
/// document is searched by hash.
fn attribute<'d>(doc: &'d Map<String, Value>, name: &str) -> Option<&'d Value> {
    if doc.len() > 16 {
        return doc.get(name);
    }
    doc.iter().find_map(|(k, v)| (k == name).then_some(v))
}

/// `$ref` of a reference to a User or Group (manager, members, groups) is the server's own URL
/// of the referenced resource, whatever the client sent (RFC 7643 §2.3.7): by the reference's
/// one type, else by the element's `type` (members), and `groups` always refer to groups.
fn with_refs<'v>(attr: &Attribute, value: &'v Value, base_url: &str) -> Cow<'v, Value> {
    let Some(types) = attr
        .sub_attribute("$ref")
        .map(|r| r.reference_types.as_slice())
    else {
        return Cow::Borrowed(value);
    };
    let endpoint = |element: &Value| -> Option<&'static str> {
        match (types, element.get("type").and_then(Value::as_str)) {
            ([only], _) if only == "User" => Some("/Users"),
            ([only], _) if only == "Group" => Some("/Groups"),
            (_, Some("User")) => Some("/Users"),
            (_, Some("Group")) => Some("/Groups"),
            _ if attr.name == "groups" => Some("/Groups"),
            _ => None,
        }
    };
    let set = |v: &Value| -> Value {
        let mut v = v.clone();
        let id = v.get("value").and_then(Value::as_str).map(str::to_owned);
        if let (Some(id), Some(endpoint), Value::Object(m)) = (id, endpoint(&v), &mut v) {
            m.insert(
                "$ref".into(),
                Value::String(format!("{base_url}{endpoint}/{id}")),
            );
        }
        v
    };
    Cow::Owned(match value {
        Value::Array(items) => Value::Array(items.iter().map(set).collect()),
        single => set(single),
    })
}

/// The part of `value` (of attribute `attr`) that the projection shows: `value` itself when it
/// shows all of it (copied only when borrowed).
fn project(
    attr: &Attribute,
    ext: Option<&str>,
    value: Cow<'_, Value>,
    projection: &Projection,
) -> Option<Value> {
    match projection.show(ext, attr) {
        Show::No => None,
        Show::All => Some(value.into_owned()),
        Show::Some => {
            let keep = |v: &Value| -> Option<Value> {
                let Value::Object(members) = v else {
                    return Some(v.clone());
                };
                let kept: Map<String, Value> = members
                    .iter()
                    .filter(|(k, _)| {
                        attr.sub_attribute(k)
                            .is_some_and(|sub| projection.show_sub(ext, attr, sub))
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                (!kept.is_empty()).then_some(Value::Object(kept))
            };
            match value.as_ref() {
                Value::Array(items) => {
                    let kept: Vec<Value> = items.iter().filter_map(keep).collect();
                    (!kept.is_empty()).then_some(Value::Array(kept))
                }
                single => keep(single),
            }
        }
    }
}
