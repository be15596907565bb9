//! A tenant's own extension schemas (RFC 7643 §7 schema documents, registered with
//! `scimd schema add`): read, checked, and added to the registry the tenant's requests use.

use serde_json::Value;

use super::{AttrType, Attribute, Extension, Registry, ResourceKind, Schema, Uniqueness};
use crate::scim::canonical::strip_prefix_ci;

/// The longest URN an extension may have.
const MAX_URN: usize = 200;
/// The longest attribute name.
const MAX_NAME: usize = 64;
/// The most attributes (sub-attributes included) one extension may define.
const MAX_ATTRIBUTES: usize = 200;

/// An extension schema of a tenant, for one resource type.
#[derive(Debug, Clone)]
pub struct TenantSchema {
    pub kind: ResourceKind,
    pub schema: Schema,
}

/// Reads a schema document as an extension of `kind`, refusing with the reason what is not
/// a schema scimd can serve: a URN that is not one, or that is (or begins, or is begun by)
/// a schema `registry` already has; attribute names that are not RFC 7643 `ATTRNAME`s or
/// repeat; types unknown; complex attributes without sub-attributes or nested deeper than
/// RFC 7643 §2.3.8 allows; `uniqueness` on what a single value cannot carry.
pub fn read(document: &Value, kind: ResourceKind, registry: &Registry) -> Result<Schema, String> {
    let Value::Object(members) = document else {
        return Err("a schema document is a JSON object (RFC 7643 §7)".into());
    };
    let text = |key: &str| members.get(key).and_then(Value::as_str).map(str::trim);
    let id = text("id").ok_or("the schema needs an \"id\": its URN")?;
    check_urn(id, registry)?;
    let name = text("name")
        .filter(|n| !n.is_empty())
        .ok_or("the schema needs a \"name\"")?;
    let Some(Value::Array(attributes)) = members.get("attributes") else {
        return Err("the schema needs \"attributes\", a list of attribute definitions".into());
    };
    if attributes.is_empty() {
        return Err("the schema defines no attribute".into());
    }
    let attributes = attributes
        .iter()
        .map(|a| read_attribute(a, true))
        .collect::<Result<Vec<_>, _>>()?;
    check_names(&attributes, "")?;
    let count: usize = attributes.iter().map(|a| 1 + a.sub_attributes.len()).sum();
    if count > MAX_ATTRIBUTES {
        return Err(format!(
            "the schema defines {count} attributes; at most {MAX_ATTRIBUTES}"
        ));
    }
    if registry.resource_type(kind).is_none() {
        return Err(format!("resource type {} is not served", kind.as_str()));
    }
    Ok(Schema {
        id: id.to_owned(),
        name: name.to_owned(),
        description: text("description").unwrap_or_default().to_owned(),
        attributes,
    })
}

/// An extension URN: `urn:` and URN characters, not one of the registry's schemas, neither a
/// prefix of one nor prefixed by one (its attribute paths would be ambiguous).
fn check_urn(id: &str, registry: &Registry) -> Result<(), String> {
    let valid = strip_prefix_ci(id, "urn:").is_some_and(|rest| {
        rest.len() > 2
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ":-._".contains(c))
    });
    if !valid || id.len() > MAX_URN || id.ends_with(':') {
        return Err(format!(
            "'{id}' is not a URN such as urn:ietf:params:scim:schemas:extension:contoso:2.0:User \
             (letters, digits, ':', '-', '.', '_'; at most {MAX_URN} characters)"
        ));
    }
    if strip_prefix_ci(id, "urn:ietf:params:scim:api:").is_some() {
        return Err(format!("'{id}' is in the namespace of SCIM's messages"));
    }
    for schema in registry.schemas() {
        let (a, b) = (id.to_ascii_lowercase(), schema.id.to_ascii_lowercase());
        let nested = |long: &str, short: &str| {
            long.strip_prefix(short)
                .is_some_and(|rest| rest.starts_with(':') || rest.starts_with('.'))
        };
        if a == b {
            return Err(format!("the schema '{}' is already served", schema.id));
        }
        if nested(&a, &b) || nested(&b, &a) {
            return Err(format!(
                "'{id}' and the schema '{}' would make attribute paths ambiguous: one URN \
                 continues the other",
                schema.id
            ));
        }
    }
    Ok(())
}

/// One attribute definition; `top`: not a sub-attribute.
fn read_attribute(value: &Value, top: bool) -> Result<Attribute, String> {
    let name = value
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if !is_attrname(&name) {
        return Err(format!(
            "'{name}' is not an attribute name: a letter, then letters, digits, '-' or '_' \
             (RFC 7643 §2.1), at most {MAX_NAME} characters"
        ));
    }
    let mut attr: Attribute = serde_json::from_value(strip_sub_attributes(value))
        .map_err(|e| format!("attribute '{name}': {e}"))?;
    let subs = value.get("subAttributes").and_then(Value::as_array);
    match (attr.kind, subs) {
        (AttrType::Complex, _) if !top => {
            return Err(format!(
                "attribute '{name}': a sub-attribute cannot be complex (RFC 7643 §2.3.8)"
            ));
        }
        (AttrType::Complex, Some(subs)) if !subs.is_empty() => {
            attr.sub_attributes = subs
                .iter()
                .map(|s| read_attribute(s, false))
                .collect::<Result<_, _>>()?;
            check_names(&attr.sub_attributes, &format!("{name}."))?;
        }
        (AttrType::Complex, _) => {
            return Err(format!(
                "attribute '{name}': a complex attribute needs subAttributes"
            ));
        }
        (_, Some(subs)) if !subs.is_empty() => {
            return Err(format!(
                "attribute '{name}': only a complex attribute has subAttributes"
            ));
        }
        _ => {}
    }
    if !attr.canonical_values.is_empty() && attr.kind != AttrType::String {
        return Err(format!(
            "attribute '{name}': canonicalValues are for string attributes"
        ));
    }
    if attr.uniqueness != Uniqueness::None {
        let single = top && !attr.multi_valued;
        let kind = matches!(
            attr.kind,
            AttrType::String | AttrType::Integer | AttrType::Reference
        );
        if !single || !kind {
            return Err(format!(
                "attribute '{name}': uniqueness is enforced on single-valued string, integer \
                 or reference attributes of the schema itself"
            ));
        }
    }
    Ok(attr)
}

/// The definition without `subAttributes` (read apart, with their own checks).
fn strip_sub_attributes(value: &Value) -> Value {
    let mut value = value.clone();
    if let Some(o) = value.as_object_mut() {
        o.remove("subAttributes");
    }
    value
}

fn is_attrname(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name.len() <= MAX_NAME
}

fn check_names(attributes: &[Attribute], prefix: &str) -> Result<(), String> {
    for (i, a) in attributes.iter().enumerate() {
        if attributes[..i]
            .iter()
            .any(|b| b.name.eq_ignore_ascii_case(&a.name))
        {
            return Err(format!(
                "attribute '{prefix}{}' is defined twice (names compare ignoring case)",
                a.name
            ));
        }
    }
    Ok(())
}

impl Registry {
    /// This registry with a tenant's extensions added to their resource types.
    pub fn with_extensions(&self, extensions: &[TenantSchema]) -> Registry {
        let mut out = self.clone();
        for ext in extensions {
            if let Some(rt) = out.resource_types.iter_mut().find(|rt| rt.kind == ext.kind) {
                rt.extensions.push(Extension {
                    schema: ext.schema.clone(),
                    required: false,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn cost_center() -> Value {
        json!({
            "id": "urn:ietf:params:scim:schemas:extension:contoso:2.0:User",
            "name": "ContosoUser",
            "description": "Contoso's attributes",
            "attributes": [
                {"name": "costCenter", "type": "string", "uniqueness": "server"},
                {"name": "badge", "type": "integer"},
                {"name": "remote", "type": "boolean"},
                {"name": "office", "type": "complex", "subAttributes": [
                    {"name": "building", "type": "string"},
                    {"name": "floor", "type": "integer"}
                ]}
            ]
        })
    }

    #[test]
    fn a_schema_document_with_every_type_reads_with_rfc_defaults() {
        let registry = Registry::new().unwrap();
        let schema = read(&cost_center(), ResourceKind::User, &registry).unwrap();
        assert_eq!(schema.name, "ContosoUser");
        assert_eq!(schema.attributes.len(), 4);
        let cc = schema.attribute("COSTCENTER").unwrap();
        assert_eq!(cc.uniqueness, Uniqueness::Server);
        assert!(!cc.case_exact && !cc.multi_valued);
        assert_eq!(schema.attribute("office").unwrap().sub_attributes.len(), 2);
        let tenant = registry.with_extensions(&[TenantSchema {
            kind: ResourceKind::User,
            schema,
        }]);
        let user = tenant.resource_type(ResourceKind::User).unwrap();
        assert_eq!(user.extensions.len(), 2);
        assert!(
            tenant
                .schema("urn:ietf:params:scim:schemas:extension:contoso:2.0:user")
                .is_some()
        );
        assert_eq!(
            registry
                .resource_type(ResourceKind::User)
                .unwrap()
                .extensions
                .len(),
            1
        );
    }

    #[test]
    fn bad_schema_documents_are_refused_with_the_reason() {
        let registry = Registry::new().unwrap();
        let refused = |change: &dyn Fn(&mut Value)| {
            let mut doc = cost_center();
            change(&mut doc);
            read(&doc, ResourceKind::User, &registry).unwrap_err()
        };
        assert!(refused(&|d| d["id"] = json!("contoso")).contains("not a URN"));
        assert!(
            refused(
                &|d| d["id"] = json!("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
            )
            .contains("already served")
        );
        assert!(
            refused(&|d| d["id"] = json!("urn:ietf:params:scim:schemas:core:2.0:User:x"))
                .contains("ambiguous")
        );
        assert!(refused(&|d| d["name"] = json!("")).contains("\"name\""));
        assert!(refused(&|d| d["attributes"] = json!([])).contains("no attribute"));
        assert!(refused(&|d| d["attributes"][0]["type"] = json!("text")).contains("costCenter"));
        assert!(refused(&|d| d["attributes"][0]["name"] = json!("2nd")).contains("'2nd'"));
        assert!(refused(&|d| d["attributes"][1]["name"] = json!("COSTCENTER")).contains("twice"));
        assert!(
            refused(&|d| d["attributes"][3]["subAttributes"] = json!([]))
                .contains("needs subAttributes")
        );
        assert!(
            refused(&|d| d["attributes"][3]["subAttributes"][0]["type"] = json!("complex"))
                .contains("cannot be complex")
        );
        assert!(
            refused(&|d| d["attributes"][2]["uniqueness"] = json!("server")).contains("uniqueness")
        );
    }
}
