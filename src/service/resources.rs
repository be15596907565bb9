//! Create, read, replace, delete and list resources (RFC 7644 §3.3–3.6).

use serde_json::Value;

use super::{Directory, Error, now};
use crate::scim::canonical::canonicalize;
use crate::scim::list::Page;
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::{ResourceKind, ResourceType};
use crate::scim::{self};
use crate::store::{Listing, Store, StoreError, Tenant, Write};

/// How many times a PUT re-reads and retries when a concurrent writer got in between its read
/// and its write.
const CAS_RETRIES: usize = 8;

impl Directory {
    fn resource_type(&self, kind: ResourceKind) -> Result<&ResourceType, Error> {
        self.registry.resource_type(kind).ok_or_else(|| {
            scim::Error::not_found(format!("resource type {} is not served", kind.as_str())).into()
        })
    }

    /// POST: canonicalise and store a new resource with a server-assigned id.
    pub async fn create(
        &self,
        tenant: &Tenant,
        kind: ResourceKind,
        body: &Value,
    ) -> Result<StoredResource, Error> {
        let rt = self.resource_type(kind)?;
        let doc = canonicalize(rt, self.registry.common(), body, None)?;
        let write = Write {
            kind,
            id: ResourceId::random(),
            doc: &doc,
            now: now(),
        };
        self.store
            .create(tenant.id, write)
            .await
            .map_err(|e| conflict(e, kind, &doc))
    }

    /// GET by id.
    pub async fn get(
        &self,
        tenant: &Tenant,
        kind: ResourceKind,
        id: &str,
    ) -> Result<StoredResource, Error> {
        let id = parse_id(kind, id)?;
        self.store
            .get(tenant.id, kind, id)
            .await
            .map_err(|e| not_found(e, kind, id))
    }

    /// PUT: full replace (RFC 7644 §3.5.1) as a compare-and-swap on the version. With
    /// `if_match` the write happens only at that version (412 otherwise); without it a
    /// concurrent change makes the replace re-validate against the new state and retry.
    pub async fn replace(
        &self,
        tenant: &Tenant,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        if_match: Option<Version>,
    ) -> Result<StoredResource, Error> {
        let rt = self.resource_type(kind)?;
        let id = parse_id(kind, id)?;
        for _ in 0..CAS_RETRIES {
            let current = self
                .store
                .get(tenant.id, kind, id)
                .await
                .map_err(|e| not_found(e, kind, id))?;
            let expected = if_match.unwrap_or(current.version);
            if expected != current.version {
                return Err(stale(kind, id, expected));
            }
            let doc = canonicalize(rt, self.registry.common(), body, Some(&current.doc))?;
            let write = Write {
                kind,
                id,
                doc: &doc,
                now: now(),
            };
            match self.store.replace(tenant.id, write, expected).await {
                Err(StoreError::VersionMismatch) if if_match.is_none() => continue,
                Err(StoreError::VersionMismatch) => return Err(stale(kind, id, expected)),
                Err(e) => return Err(conflict(not_found(e, kind, id), kind, &doc)),
                Ok(stored) => return Ok(stored),
            }
        }
        Err(StoreError::VersionMismatch.into())
    }

    /// DELETE (RFC 7644 §3.6); with `if_match` only at that version.
    pub async fn delete(
        &self,
        tenant: &Tenant,
        kind: ResourceKind,
        id: &str,
        if_match: Option<Version>,
    ) -> Result<(), Error> {
        let id = parse_id(kind, id)?;
        match self.store.delete(tenant.id, kind, id, if_match).await {
            Err(StoreError::VersionMismatch) => {
                Err(stale(kind, id, if_match.unwrap_or(Version(0))))
            }
            other => other.map_err(|e| not_found(e, kind, id)),
        }
    }

    /// GET on the resource endpoint: one page in creation order.
    pub async fn list(
        &self,
        tenant: &Tenant,
        kind: ResourceKind,
        page: Page,
    ) -> Result<Listing, Error> {
        self.resource_type(kind)?;
        Ok(self.store.list(tenant.id, kind, page).await?)
    }
}

/// An id that is not a UUID names no resource scimd could have made: 404, like any unknown id.
fn parse_id(kind: ResourceKind, id: &str) -> Result<ResourceId, Error> {
    id.parse().map_err(|_| missing(kind, id).into())
}

fn missing(kind: ResourceKind, id: impl std::fmt::Display) -> scim::Error {
    scim::Error::not_found(format!("{} {id} not found", kind.as_str()))
}

fn not_found(e: StoreError, kind: ResourceKind, id: ResourceId) -> Error {
    match e {
        StoreError::NotFound => missing(kind, id).into(),
        other => other.into(),
    }
}

fn stale(kind: ResourceKind, id: ResourceId, expected: Version) -> Error {
    scim::Error::precondition_failed(format!(
        "{} {id} is no longer at version {}; read it again and retry",
        kind.as_str(),
        expected.etag()
    ))
    .into()
}

/// A uniqueness violation from the store as the 409 a client reads (RFC 7644 §3.3).
fn conflict(e: impl Into<Error>, kind: ResourceKind, doc: &scim::canonical::Document) -> Error {
    match e.into() {
        Error::Store(StoreError::Uniqueness { attribute }) => {
            let value = doc
                .get(attribute)
                .and_then(Value::as_str)
                .unwrap_or_default();
            scim::Error::uniqueness(format!(
                "a {} with {attribute} '{value}' already exists ({attribute} is unique, case-insensitively)",
                kind.as_str()
            ))
            .into()
        }
        other => other,
    }
}
