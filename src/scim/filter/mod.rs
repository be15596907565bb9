//! Filters (RFC 7644 §3.4.2.2): `parse` (text → untyped tree) → `validate` (against the schema
//! registry: canonical names, types, `caseExact`) → a typed [`Filter`] that the stores compile
//! to SQL and that [`eval`] evaluates in memory on a folded document. Both evaluators must give
//! the same answers; a differential test holds them to it.

pub mod eval;
mod operand;
mod parse;
mod print;
mod validate;

use std::fmt;

use chrono::{DateTime, Utc};

pub use parse::{Literal, Raw, parse};
pub use validate::{validate, validate_across, validate_element};

use crate::scim::error::{Error, ScimType};
use crate::scim::limits;
use crate::scim::schema::{Attribute, ResourceType};

/// Bounds on what a filter may cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_length: usize,
    pub max_depth: usize,
    pub max_nodes: usize,
}

/// The filter bounds of [`crate::scim::limits`].
pub const LIMITS: Limits = Limits {
    max_length: limits::MAX_FILTER_BYTES,
    max_depth: limits::MAX_FILTER_DEPTH,
    max_nodes: limits::MAX_FILTER_EXPRESSIONS,
};

/// The attribute operators of RFC 7644 §3.4.2.2, Table 3 (`pr` is [`Filter::Present`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "co" => Self::Co,
            "sw" => Self::Sw,
            "ew" => Self::Ew,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Co => "co",
            Self::Sw => "sw",
            Self::Ew => "ew",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }

    pub fn is_ordering(self) -> bool {
        matches!(self, Self::Gt | Self::Ge | Self::Lt | Self::Le)
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a validated comparison looks at.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The resource id (a column).
    Id,
    /// `meta.created` (a column).
    Created,
    /// `meta.lastModified` (a column).
    LastModified,
    /// A single-valued attribute of the document: `path` is the key path from the root
    /// (`["name", "givenName"]`, `["urn:…:User", "department"]`).
    Field { path: Vec<String>, kind: Kind },
    /// Inside [`Filter::Any`]: a sub-attribute of the current element (`None`: the element
    /// itself, for multi-valued simple attributes).
    Element { sub: Option<String>, kind: Kind },
}

/// The value types a comparison distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Boolean,
    Number,
    DateTime,
}

/// A comparison value, already typed by the attribute and folded to lower case when the
/// attribute is `caseExact: false`.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Str(String),
    Bool(bool),
    Num(f64),
    DateTime(DateTime<Utc>),
}

/// A validated filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `op` is never `Ne`: validation rewrites `a ne v` as `not (a eq v)`.
    Compare {
        target: Target,
        op: CompareOp,
        value: Operand,
    },
    /// Present and not empty (RFC 7644 §3.4.2.2 `pr`).
    Present(Target),
    /// Some element of the multi-valued attribute at `path` satisfies `filter`, whose targets
    /// are [`Target::Element`]s.
    Any {
        path: Vec<String>,
        filter: Box<Filter>,
    },
    /// A condition known without looking at data (`schemas eq "<core URN>"`).
    Const(bool),
}

/// 400 `invalidFilter` with a detail.
pub fn invalid(detail: impl Into<String>) -> Error {
    Error::new(400, Some(ScimType::InvalidFilter), detail)
}

/// Parses and validates a filter for resource type `rt`.
pub fn compile(rt: &ResourceType, common: &[Attribute], text: &str) -> Result<Filter, Error> {
    let raw = parse(text).map_err(|e| invalid(format!("invalid filter: {e}")))?;
    validate(rt, common, &raw).map_err(|e| invalid(format!("invalid filter: {e}")))
}

/// The same for one resource type of a query across types: attributes the type does not
/// define are absent, not errors (RFC 7644 §3.4.2.1).
pub fn compile_across(
    rt: &ResourceType,
    common: &[Attribute],
    text: &str,
) -> Result<Filter, Error> {
    let raw = parse(text).map_err(|e| invalid(format!("invalid filter: {e}")))?;
    validate_across(rt, common, &raw).map_err(|e| invalid(format!("invalid filter: {e}")))
}

#[cfg(test)]
mod tests;
