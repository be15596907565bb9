//! Shadow columns: the values a backend indexes and constrains beside the JSON document.
//! Computed here, once, for every backend, so that lower-casing is Rust's Unicode
//! lower-casing everywhere (SQLite's `lower()` only folds ASCII).

use serde_json::Value;

use crate::domain::{MatchingAttribute, Precedence};
use crate::scim::canonical::Document;
use crate::scim::schema::ResourceKind;
use crate::store::name_attribute;

/// The indexed values of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shadow {
    /// Lower-cased `userName` (User) or `displayName` (Group): unique per tenant.
    pub name_key: String,
    pub external_id: Option<String>,
    pub active: Option<bool>,
    /// `externalId` when it is one of the tenant's matching attributes (unique per tenant).
    pub external_key: Option<String>,
    /// The work email (folded) when it is one of the tenant's matching attributes (unique per
    /// tenant).
    pub email_key: Option<String>,
}

impl Shadow {
    pub fn of(kind: ResourceKind, doc: &Document, folded: &Document, matching: Precedence) -> Self {
        let key = |attribute: MatchingAttribute| match kind {
            ResourceKind::User if matching.contains(attribute) => attribute.key(folded),
            _ => None,
        };
        let text = |name: &str| doc.get(name).and_then(Value::as_str).map(str::to_owned);
        Self {
            name_key: text(name_attribute(kind))
                .unwrap_or_default()
                .to_lowercase(),
            external_id: text("externalId"),
            active: doc.get("active").and_then(Value::as_bool),
            external_key: key(MatchingAttribute::ExternalId),
            email_key: key(MatchingAttribute::WorkEmail),
        }
    }
}
