//! Rendering: a stored resource as the RFC JSON a client receives, with `schemas`, `id`,
//! attributes in schema order and server-set `meta` (RFC 7643 §3.1). What scimd sends back is
//! always strict RFC whatever shape came in.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::scim::resource::StoredResource;
use crate::scim::schema::{Attribute, ResourceType, Returned};

/// RFC 3339 with milliseconds, UTC: the form of every dateTime scimd sets.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The location of a resource: `<base>/Users/<id>`.
pub fn location(base_url: &str, resource: &StoredResource) -> String {
    format!("{base_url}{}/{}", resource.kind.endpoint(), resource.id)
}

/// The full representation of `resource` (attributes with `returned: never` left out).
pub fn render(rt: &ResourceType, resource: &StoredResource, base_url: &str) -> Value {
    let doc = &resource.doc;
    let mut schemas = vec![Value::String(rt.schema.id.clone())];
    let mut out = Map::new();
    out.insert("schemas".into(), Value::Null); // placeholder keeps `schemas` first
    out.insert("id".into(), Value::String(resource.id.to_string()));
    if let Some(external_id) = doc.get("externalId") {
        out.insert("externalId".into(), external_id.clone());
    }
    copy_in_order(&rt.schema.attributes, doc, &mut out);
    for ext in &rt.extensions {
        if let Some(Value::Object(ext_doc)) = doc.get(&ext.schema.id) {
            let mut ext_out = Map::new();
            copy_in_order(&ext.schema.attributes, ext_doc, &mut ext_out);
            if !ext_out.is_empty() {
                schemas.push(Value::String(ext.schema.id.clone()));
                out.insert(ext.schema.id.clone(), Value::Object(ext_out));
            }
        }
    }
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert(
        "meta".into(),
        json!({
            "resourceType": resource.kind.as_str(),
            "created": timestamp(resource.created),
            "lastModified": timestamp(resource.last_modified),
            "location": location(base_url, resource),
            "version": resource.version.etag(),
        }),
    );
    Value::Object(out)
}

fn copy_in_order(attributes: &[Attribute], doc: &Map<String, Value>, out: &mut Map<String, Value>) {
    for attr in attributes.iter().filter(|a| a.returned != Returned::Never) {
        if let Some(value) = doc.get(&attr.name) {
            out.insert(attr.name.clone(), value.clone());
        }
    }
}
