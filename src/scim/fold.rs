//! Folding: the copy of a canonical document that filters and sorting look at, with every
//! string of a `caseExact: false` attribute lower-cased (Rust's Unicode lower-casing). Both
//! stores keep it beside the document, so case-insensitive comparisons are plain comparisons
//! everywhere and every backend folds case the same way.

use serde_json::Value;

use crate::scim::canonical::Document;
use crate::scim::schema::{AttrType, Attribute, ResourceType, find};

/// The folded copy of `doc`.
pub fn fold(rt: &ResourceType, common: &[Attribute], doc: &Document) -> Document {
    let mut out = Document::new();
    for (key, value) in doc {
        let folded = if let Some(ext) = rt.extension(key) {
            match value {
                Value::Object(ext_doc) => {
                    Value::Object(fold_members(&ext.schema.attributes, ext_doc))
                }
                other => other.clone(),
            }
        } else {
            match find(common, key).or_else(|| rt.schema.attribute(key)) {
                Some(attr) => fold_value(attr, value),
                None => value.clone(),
            }
        };
        out.insert(key.clone(), folded);
    }
    out
}

fn fold_members(attributes: &[Attribute], members: &Document) -> Document {
    members
        .iter()
        .map(|(k, v)| {
            let folded = find(attributes, k).map_or_else(|| v.clone(), |a| fold_value(a, v));
            (k.clone(), folded)
        })
        .collect()
}

/// The folded form of one attribute's value (array, complex or simple).
pub fn fold_value(attr: &Attribute, value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| fold_single(attr, v)).collect()),
        single => fold_single(attr, single),
    }
}

fn fold_single(attr: &Attribute, value: &Value) -> Value {
    match (attr.kind, value) {
        (AttrType::Complex, Value::Object(members)) => {
            Value::Object(fold_members(&attr.sub_attributes, members))
        }
        (AttrType::String | AttrType::Reference, Value::String(s)) if !attr.case_exact => {
            Value::String(s.to_lowercase())
        }
        _ => value.clone(),
    }
}
