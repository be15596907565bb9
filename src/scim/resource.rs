//! A stored resource and its identity: id, version (the ETag), timestamps and the canonical
//! document. Shared by the store, which persists it, and `render`, which shows it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::scim::canonical::Document;
use crate::scim::schema::ResourceKind;

/// The server-assigned id of a resource (a UUID, RFC 7643 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceId(pub uuid::Uuid);

impl ResourceId {
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4())
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for ResourceId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(Self)
    }
}

/// A resource's version: starts at 1, grows by one with every write. Rendered as the weak
/// entity tag `W/"<n>"` in `ETag` and `meta.version` (RFC 7644 §3.14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub i64);

impl Version {
    pub fn etag(self) -> String {
        format!("W/\"{}\"", self.0)
    }

    /// Parses one entity tag, weak or strong (`W/"3"`, `"3"`).
    pub fn from_etag(tag: &str) -> Option<Self> {
        let tag = tag.trim();
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
        inner.parse().ok().map(Self)
    }
}

/// A resource as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResource {
    pub kind: ResourceKind,
    pub id: ResourceId,
    pub version: Version,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    pub doc: Document,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tags_round_trip_weak_and_strong() {
        assert_eq!(Version(7).etag(), "W/\"7\"");
        assert_eq!(Version::from_etag("W/\"7\""), Some(Version(7)));
        assert_eq!(Version::from_etag(" \"7\" "), Some(Version(7)));
        assert_eq!(Version::from_etag("7"), None);
        assert_eq!(Version::from_etag("W/\"x\""), None);
    }
}
