//! Create, read, replace, delete and list resources (RFC 7644 §3.3–3.6).

use serde_json::Value;

use super::groups::{member_error, split_patch, take_members};
use super::policy::check_roles;
use super::{Directory, Error, now};
use crate::scim::canonical::{Document, canonicalize};
use crate::scim::fold::fold;
use crate::scim::list::{ListQuery, Paging};
use crate::scim::patch;
use crate::scim::projection::Projection;
use crate::scim::query::SearchParams;
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::{ResourceKind, ResourceType};
use crate::scim::{self};
use crate::store::{
    MatchingAttribute, MemberChange, MemberInput, Store, StoreError, Tenant, Write,
};

/// A new document and, for a group, its complete member list.
type Prepared = (Document, Option<Vec<MemberInput>>);

/// How many times a PUT re-reads and retries when a concurrent writer got in between its read
/// and its write.
const CAS_RETRIES: usize = 8;

/// The same for PATCH, whose concurrent writers (Entra's parallel updates of one user, member
/// changes of one group) are more frequent.
const PATCH_RETRIES: usize = 64;

impl Directory {
    /// The definition of a resource type scimd serves (404 for one it does not).
    pub fn resource_type(&self, kind: ResourceKind) -> Result<&ResourceType, Error> {
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
        let id = ResourceId::random();
        let (doc, members) = self.prepare(tenant, rt, body, None, id)?;
        let folded = fold(rt, self.registry.common(), &doc);
        let write = Write {
            kind,
            id,
            doc: &doc,
            folded: &folded,
            now: now(),
            members: members.as_deref(),
            matching: tenant.policy.matching,
        };
        self.store
            .create(tenant.id, write)
            .await
            .map_err(|e| conflict(member_error(e), kind, &doc))
    }

    /// The canonical document of a body, and for a group its members (kept apart from the
    /// document, in their own table).
    fn prepare(
        &self,
        tenant: &Tenant,
        rt: &ResourceType,
        body: &Value,
        existing: Option<&Document>,
        id: ResourceId,
    ) -> Result<(Document, Option<Vec<MemberInput>>), Error> {
        let mut doc = canonicalize(rt, self.registry.common(), body, existing)?;
        let members = match rt.kind {
            ResourceKind::Group => Some(take_members(&mut doc, id)?),
            ResourceKind::User => {
                check_roles(tenant, &doc)?;
                None
            }
        };
        Ok((doc, members))
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
        self.rewrite(tenant, kind, id, if_match, CAS_RETRIES, &[], |current| {
            let (doc, members) = self.prepare(tenant, rt, body, Some(&current.doc), id)?;
            Ok(Some((doc, members)))
        })
        .await
    }

    /// PATCH (RFC 7644 §3.5.2): the operations apply to a copy of the current document, the
    /// result is validated, then stored with a compare-and-swap on the version. A concurrent
    /// writer that wins makes this one re-read and re-apply, so parallel PATCHes lose nothing.
    /// A PATCH that changes nothing stores nothing and keeps the version (RFC 7644 §3.5.2.1).
    /// Group members change without reading the member list (see `service::groups`).
    pub async fn patch(
        &self,
        tenant: &Tenant,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        if_match: Option<Version>,
    ) -> Result<StoredResource, Error> {
        let rt = self.resource_type(kind)?;
        let id = parse_id(kind, id)?;
        let (doc_patch, changes) = match kind {
            ResourceKind::Group => split_patch(body, id)?,
            ResourceKind::User => (Some(body.clone()), Vec::new()),
        };
        let Some(doc_patch) = doc_patch else {
            return self
                .store
                .update_group(tenant.id, id, None, if_match, &changes, now())
                .await
                .map_err(|e| match e {
                    StoreError::VersionMismatch => stale(kind, id, if_match.unwrap_or(Version(0))),
                    other => written(other, kind, id),
                });
        };
        self.rewrite(
            tenant,
            kind,
            id,
            if_match,
            PATCH_RETRIES,
            &changes,
            |current| {
                let doc = patch::apply(rt, self.registry.common(), &current.doc, &doc_patch)?;
                if kind == ResourceKind::User {
                    check_roles(tenant, &doc)?;
                }
                Ok((doc != current.doc || !changes.is_empty()).then_some((doc, None)))
            },
        )
        .await
    }

    /// Read, compute the new document from the current one (`None`: nothing changes), write it
    /// at the version read (with the member `changes` of a group), and start over when a
    /// concurrent writer got in between; with `if_match` only at that version (412 otherwise).
    #[expect(clippy::too_many_arguments, reason = "one write's parts, named")]
    async fn rewrite(
        &self,
        tenant: &Tenant,
        kind: ResourceKind,
        id: ResourceId,
        if_match: Option<Version>,
        retries: usize,
        changes: &[MemberChange],
        next: impl Fn(&StoredResource) -> Result<Option<Prepared>, Error>,
    ) -> Result<StoredResource, Error> {
        let rt = self.resource_type(kind)?;
        for _ in 0..retries {
            let current = self
                .store
                .get(tenant.id, kind, id)
                .await
                .map_err(|e| not_found(e, kind, id))?;
            let expected = if_match.unwrap_or(current.version);
            if expected != current.version {
                return Err(stale(kind, id, expected));
            }
            let Some((doc, members)) = next(&current)? else {
                return Ok(current);
            };
            let folded = fold(rt, self.registry.common(), &doc);
            let write = Write {
                kind,
                id,
                doc: &doc,
                folded: &folded,
                now: now(),
                members: members.as_deref(),
                matching: tenant.policy.matching,
            };
            let result = if changes.is_empty() {
                self.store.replace(tenant.id, write, expected).await
            } else {
                self.store
                    .update_group(tenant.id, id, Some(write), Some(expected), changes, now())
                    .await
            };
            match result {
                Err(StoreError::VersionMismatch) if if_match.is_none() => continue,
                Err(StoreError::VersionMismatch) => return Err(stale(kind, id, expected)),
                Err(e) => return Err(conflict(written(e, kind, id), kind, &doc)),
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

    /// A query on one resource endpoint (`GET /Users`, `POST /Users/.search`).
    pub async fn search(
        &self,
        tenant: &Tenant,
        kind: ResourceKind,
        params: &SearchParams,
    ) -> Result<SearchResult, Error> {
        let rt = self.resource_type(kind)?;
        let (query, projection) = params.compile(rt, self.registry.common())?;
        let mut listing = self.store.list(tenant.id, kind, &query).await?;
        self.expand(
            tenant,
            &mut listing.resources,
            &projection,
            listing.groups.take(),
        )
        .await?;
        Ok(SearchResult {
            start_index: start_index(&query),
            next_cursor: listing.next.map(|p| params.encode_cursor(p)),
            total: listing.total,
            resources: listing
                .resources
                .into_iter()
                .map(|r| (r, projection.clone()))
                .collect(),
        })
    }

    /// A query across every resource type (`POST /.search`, `GET /` with a filter; RFC 7644
    /// §3.4.2.1, §3.4.3): resource types are listed in registry order, each in its own order.
    /// A resource type whose schema the filter does not fit contributes nothing.
    pub async fn search_all(
        &self,
        tenant: &Tenant,
        params: &SearchParams,
    ) -> Result<SearchResult, Error> {
        if params.cursor.is_some() {
            return Err(scim::Error::invalid_value(
                "cursor pagination is available on /Users and /Groups, not across resource types",
            )
            .into());
        }
        // The filter must name attributes some resource type defines (a typo is still 400);
        // each type then reads attributes it lacks as absent (RFC 7644 §3.4.2.1).
        let types = self.registry.resource_types();
        let strict: Vec<_> = types
            .iter()
            .map(|rt| params.compile(rt, self.registry.common()))
            .collect();
        if !strict.iter().any(Result::is_ok) {
            if let Some(Err(e)) = strict.into_iter().next() {
                return Err(e.into());
            }
            return Err(scim::Error::bad_request("no resource types").into());
        }
        let mut compiled = Vec::new();
        for rt in types {
            compiled.push((rt.kind, params.compile_across(rt, self.registry.common())?));
        }
        let Some((_, (first, _))) = compiled.first() else {
            return Err(scim::Error::bad_request("no resource types").into());
        };
        let Paging::Index(page) = first.paging else {
            return Err(scim::Error::bad_request("cursor pagination is not available here").into());
        };
        let (mut skip, mut wanted) = (page.offset(), u64::from(page.count));
        let mut result = SearchResult {
            total: 0,
            start_index: Some(page.start_index),
            next_cursor: None,
            resources: Vec::new(),
        };
        for (kind, (mut query, projection)) in compiled {
            query.paging = Paging::Index(crate::scim::list::Page {
                start_index: skip + 1,
                count: u32::try_from(wanted).unwrap_or(0),
            });
            let mut listing = self.store.list(tenant.id, kind, &query).await?;
            self.expand(
                tenant,
                &mut listing.resources,
                &projection,
                listing.groups.take(),
            )
            .await?;
            result.total += listing.total;
            skip = skip.saturating_sub(listing.total);
            wanted -= listing.resources.len() as u64;
            result.resources.extend(
                listing
                    .resources
                    .into_iter()
                    .map(|r| (r, projection.clone())),
            );
        }
        Ok(result)
    }
}

/// The resources of one page, each with the projection to show it with.
#[derive(Debug)]
pub struct SearchResult {
    pub total: u64,
    /// `startIndex` of an index page; `None` for cursor pages.
    pub start_index: Option<u64>,
    pub next_cursor: Option<String>,
    pub resources: Vec<(StoredResource, Projection)>,
}

fn start_index(query: &ListQuery) -> Option<u64> {
    match query.paging {
        Paging::Index(page) => Some(page.start_index),
        Paging::Cursor { .. } => None,
    }
}

/// An id that is not a UUID names no resource scimd could have made: 404, like any unknown id.
fn parse_id(kind: ResourceKind, id: &str) -> Result<ResourceId, Error> {
    id.parse().map_err(|_| missing(kind, id).into())
}

fn missing(kind: ResourceKind, id: impl std::fmt::Display) -> scim::Error {
    scim::Error::not_found(format!("{} {id} not found", kind.as_str()))
}

/// A store error of a write as the client reads it: unknown resource, unknown member.
fn written(e: StoreError, kind: ResourceKind, id: ResourceId) -> Error {
    match e {
        StoreError::InvalidReference { .. } => member_error(e),
        other => not_found(other, kind, id),
    }
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

/// A uniqueness violation from the store as the 409 a client reads (RFC 7644 §3.3), naming the
/// attribute and the value.
fn conflict(e: impl Into<Error>, kind: ResourceKind, doc: &scim::canonical::Document) -> Error {
    match e.into() {
        Error::Store(StoreError::Uniqueness { attribute }) => {
            let value = match MatchingAttribute::parse(attribute) {
                Some(MatchingAttribute::WorkEmail) => doc
                    .get("emails")
                    .and_then(Value::as_array)
                    .and_then(|emails| {
                        emails.iter().find(|e| {
                            e.get("type")
                                .and_then(Value::as_str)
                                .is_some_and(|t| t.eq_ignore_ascii_case("work"))
                        })
                    })
                    .and_then(|e| e.get("value")),
                _ => doc.get(attribute),
            };
            let value = value.and_then(Value::as_str).unwrap_or_default();
            let case = if attribute == "externalId" {
                ""
            } else {
                ", case-insensitively"
            };
            scim::Error::uniqueness(format!(
                "a {} with {attribute} '{value}' already exists ({attribute} is unique{case})",
                kind.as_str()
            ))
            .into()
        }
        other => other,
    }
}
