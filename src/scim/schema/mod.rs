//! The schema registry: attribute definitions with their characteristics (RFC 7643 §2, §7),
//! loaded from the RFC 7643 §8.7.1 schema documents kept beside this file, and the resource
//! types served (RFC 7643 §6). Everything that validates, canonicalises, filters or renders a
//! resource asks this registry; nothing else knows attribute names.

mod attribute;
pub mod extension;

use serde::Serialize;

pub use attribute::{AttrType, Attribute, Mutability, Returned, Uniqueness};

/// One schema (RFC 7643 §7): a URN, a name and its attributes.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Schema {
    pub id: String,
    pub name: String,
    pub description: String,
    pub attributes: Vec<Attribute>,
}

impl Schema {
    /// The attribute called `name`, compared case-insensitively (RFC 7643 §2.1).
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        find(&self.attributes, name)
    }
}

/// Case-insensitive lookup of an attribute by name in a list of definitions.
pub fn find<'a>(attributes: &'a [Attribute], name: &str) -> Option<&'a Attribute> {
    attributes
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
}

/// The resource types scimd serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }

    /// The endpoint relative to the base URL (RFC 7644 §3.2).
    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "/Users",
            ResourceKind::Group => "/Groups",
        }
    }
}

/// A schema extension a resource type accepts (RFC 7643 §6 `schemaExtensions`).
#[derive(Debug, Clone)]
pub struct Extension {
    pub schema: Schema,
    pub required: bool,
}

/// A resource type: its core schema, its extensions and descriptive text (RFC 7643 §6).
#[derive(Debug, Clone)]
pub struct ResourceType {
    pub kind: ResourceKind,
    pub description: &'static str,
    pub schema: Schema,
    pub extensions: Vec<Extension>,
}

impl ResourceType {
    /// The extension with this URN, compared case-insensitively.
    pub fn extension(&self, urn: &str) -> Option<&Extension> {
        self.extensions
            .iter()
            .find(|e| e.schema.id.eq_ignore_ascii_case(urn))
    }
}

/// Every schema and resource type scimd serves.
#[derive(Debug, Clone)]
pub struct Registry {
    resource_types: Vec<ResourceType>,
    common: Vec<Attribute>,
}

/// A schema document shipped with scimd failed to parse. Only a broken build can cause this;
/// a unit test proves the shipped documents parse.
#[derive(Debug, thiserror::Error)]
#[error("built-in schema {file} is invalid: {source}")]
pub struct RegistryError {
    file: &'static str,
    #[source]
    source: serde_json::Error,
}

fn load(file: &'static str, text: &'static str) -> Result<Schema, RegistryError> {
    serde_json::from_str(text).map_err(|source| RegistryError { file, source })
}

impl Registry {
    /// The registry of RFC 7643 User (with the Enterprise User extension) and Group.
    pub fn new() -> Result<Self, RegistryError> {
        let user = load("user.json", include_str!("user.json"))?;
        let enterprise = load("enterprise_user.json", include_str!("enterprise_user.json"))?;
        let group = load("group.json", include_str!("group.json"))?;
        let common = load("common.json", include_str!("common.json"))?;
        Ok(Self {
            // Users first: Microsoft's reference tests expect /Users as the first resource type.
            resource_types: vec![
                ResourceType {
                    kind: ResourceKind::User,
                    description: "User Account",
                    schema: user,
                    extensions: vec![Extension {
                        schema: enterprise,
                        required: false,
                    }],
                },
                ResourceType {
                    kind: ResourceKind::Group,
                    description: "Group",
                    schema: group,
                    extensions: Vec::new(),
                },
            ],
            common: common.attributes,
        })
    }

    pub fn resource_types(&self) -> &[ResourceType] {
        &self.resource_types
    }

    /// The definition of a resource type this registry serves.
    pub fn resource_type(&self, kind: ResourceKind) -> Option<&ResourceType> {
        self.resource_types.iter().find(|rt| rt.kind == kind)
    }

    /// The definition of a resource type a request names: 404 when this registry does not
    /// serve it.
    pub fn served(&self, kind: ResourceKind) -> Result<&ResourceType, crate::scim::Error> {
        self.resource_type(kind).ok_or_else(|| {
            crate::scim::Error::not_found(format!("resource type {} is not served", kind.as_str()))
        })
    }

    /// Every schema of every resource type, core schemas first, each once.
    pub fn schemas(&self) -> Vec<&Schema> {
        let mut out: Vec<&Schema> = Vec::new();
        let all = self.resource_types.iter().map(|rt| &rt.schema).chain(
            self.resource_types
                .iter()
                .flat_map(|rt| rt.extensions.iter().map(|e| &e.schema)),
        );
        for schema in all {
            if !out.iter().any(|s| s.id == schema.id) {
                out.push(schema);
            }
        }
        out
    }

    /// A schema by URN, compared case-insensitively.
    pub fn schema(&self, urn: &str) -> Option<&Schema> {
        self.schemas()
            .into_iter()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// `id`, `externalId` and `meta` (RFC 7643 §3.1).
    pub fn common(&self) -> &[Attribute] {
        &self.common
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::urn;

    #[test]
    fn shipped_schema_documents_parse() {
        let registry = Registry::new().unwrap();
        let user = registry.resource_type(ResourceKind::User).unwrap();
        assert_eq!(user.schema.id, urn::USER);
        assert!(user.schema.attribute("USERNAME").unwrap().required);
        assert_eq!(
            user.schema.attribute("password").unwrap().returned,
            Returned::Never
        );
        assert_eq!(registry.schemas().len(), 3);
        assert_eq!(registry.common().len(), 3);
    }

    #[test]
    fn addresses_carry_primary_as_rfc_7643_section_4_1_2_defines() {
        let registry = Registry::new().unwrap();
        let user = registry.schema(urn::USER).unwrap();
        let addresses = user.attribute("addresses").unwrap();
        assert!(addresses.sub_attribute("primary").is_some());
    }
}
