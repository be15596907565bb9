//! Attribute definitions and their characteristics (RFC 7643 §2.2, §7).

use serde::{Deserialize, Serialize};

/// RFC 7643 §2.3 data types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

/// RFC 7643 §7 `mutability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

/// RFC 7643 §7 `returned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

/// RFC 7643 §7 `uniqueness`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

fn default_mutability() -> Mutability {
    Mutability::ReadWrite
}

fn default_returned() -> Returned {
    Returned::Default
}

fn default_uniqueness() -> Uniqueness {
    Uniqueness::None
}

/// One attribute definition; the defaults are those of RFC 7643 §2.2.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attribute {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: AttrType,
    #[serde(default)]
    pub multi_valued: bool,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canonical_values: Vec<String>,
    #[serde(default)]
    pub case_exact: bool,
    #[serde(default = "default_mutability")]
    pub mutability: Mutability,
    #[serde(default = "default_returned")]
    pub returned: Returned,
    #[serde(default = "default_uniqueness")]
    pub uniqueness: Uniqueness,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_attributes: Vec<Attribute>,
}

impl Attribute {
    /// The sub-attribute called `name`, compared case-insensitively.
    pub fn sub_attribute(&self, name: &str) -> Option<&Attribute> {
        super::find(&self.sub_attributes, name)
    }

    /// Whether a client may write this attribute at all (RFC 7643 §2.2: readOnly values sent
    /// by a client are ignored).
    pub fn writable(&self) -> bool {
        self.mutability != Mutability::ReadOnly
    }
}
