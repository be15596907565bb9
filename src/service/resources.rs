//! Create, read, replace, patch and delete one resource (RFC 7644 §3.3, §3.4.1, §3.5, §3.6).
//! Every body is canonicalised against the schema before anything is stored; replace and
//! patch are compare-and-swap on the version, retried against the new state when a concurrent
//! writer wins.

use std::sync::Arc;

use serde_json::Value;

use super::error::contended;
use super::members::{split_patch, take_members};
use super::policy::{Sent, check_password, check_user};
use super::view::{Answer, Context, Shown, patch_is_quiet};
use super::{Directory, Error};
use super::{activity, renames, retained, schemas};
use crate::domain::{Tenant, UnknownAttributes};
use crate::scim::canonical::{Document, canonicalize_noting};
use crate::scim::fold::fold;
use crate::scim::patch;
use crate::scim::projection::Projection;
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::{Registry, ResourceKind, ResourceType};
use crate::scim::{self};
use crate::store::{
    ActivityStore, Content, GroupChange, Groups, MemberChange, MemberInput, Removal, Resources,
    StoreError, Write,
};

/// A new document, for a group its complete member list, and the names of the attributes
/// the body sent that no schema defines (dropped).
type Prepared = (Document, Option<Vec<MemberInput>>, Vec<String>);

/// How many times a PUT re-reads and retries when a concurrent writer got in between its read
/// and its write.
const PUT_ATTEMPTS: usize = 8;

/// The same for PATCH, whose concurrent writers (Entra's parallel updates of one user, member
/// changes of one group) are more frequent.
const PATCH_ATTEMPTS: usize = 64;

impl Directory {
    /// POST: canonicalise and store a new resource with a server-assigned id.
    pub async fn create(
        &self,
        ctx: &Context<'_>,
        kind: ResourceKind,
        body: &Value,
    ) -> Result<Shown, Error> {
        check_password(ctx.tenant, kind, Sent::Resource, body)?;
        // parsed before the write: a bad projection changes nothing
        let registry = self.registry_of(ctx.tenant).await?;
        let projection = Self::projection(&registry, ctx, kind)?;
        let rt = registry.served(kind)?;
        let id = ResourceId::random();
        let (doc, members, unknown) = cpu_bound(body, || {
            self.prepare(ctx.tenant, &registry, rt, body, None, id)
        })?;
        let folded = fold(rt, registry.common(), &doc);
        let mut row = activity::change(self.now(), ctx, kind, id, "create", 201);
        if let Some(row) = &mut row {
            let members = members.as_ref().is_some_and(|m| !m.is_empty());
            activity::note_change(row, kind, None, &doc, members);
            row.ignored = self.ignored(ctx.tenant, &unknown);
        }
        let write = Write {
            content: Content {
                kind,
                id,
                doc: &doc,
                folded: &folded,
                now: self.now(),
                members: members.as_deref(),
                matching: ctx.tenant.policy.matching,
            },
            activity: row.as_ref(),
        };
        if let Some(restored) = self.restore_on_create(ctx, kind, write.clone()).await? {
            return self
                .show_created(&registry, ctx.tenant, restored, &projection)
                .await;
        }
        let created = self
            .recorded(row.as_ref(), self.store.create(ctx.tenant.id, write))
            .await
            .map_err(|e| schemas::write_error(ctx.tenant.id, rt, &doc, e))?;
        self.show_created(&registry, ctx.tenant, created, &projection)
            .await
    }

    /// GET by id; with `If-None-Match` at the current version, the version only.
    pub async fn get(
        &self,
        ctx: &Context<'_>,
        kind: ResourceKind,
        id: &str,
    ) -> Result<Answer, Error> {
        let registry = self.registry_of(ctx.tenant).await?;
        let projection = Self::projection(&registry, ctx, kind)?;
        let id = parse_id(kind, id)?;
        let resource = self.store.get(ctx.tenant.id, kind, id).await?;
        let current = ctx
            .if_none_match
            .is_some_and(|c| c.matches(resource.version));
        self.answer(&registry, ctx, resource, &projection, current)
            .await
    }

    /// PUT: full replace (RFC 7644 §3.5.1). With `If-Match` the write happens only at that
    /// version (412 otherwise); without it a concurrent change makes the replace re-validate
    /// against the new state and retry.
    pub async fn replace(
        &self,
        ctx: &Context<'_>,
        kind: ResourceKind,
        id: &str,
        body: &Value,
    ) -> Result<Shown, Error> {
        check_password(ctx.tenant, kind, Sent::Resource, body)?;
        let registry = self.registry_of(ctx.tenant).await?;
        let projection = Self::projection(&registry, ctx, kind)?;
        let rt = registry.served(kind)?;
        let id = parse_id(kind, id)?;
        let replaced = self
            .rewrite(
                ctx,
                &registry,
                Rewrite::new(kind, id, PUT_ATTEMPTS, &[], body).recorded("replace", None, 200),
                |current| {
                    let prepared =
                        self.prepare(ctx.tenant, &registry, rt, body, Some(&current.doc), id)?;
                    Ok(Some(prepared))
                },
            )
            .await?;
        self.show_one(&registry, ctx.tenant, replaced, &projection)
            .await
    }

    /// PATCH (RFC 7644 §3.5.2): the operations apply to a copy of the current document, the
    /// result is validated, then stored with a compare-and-swap on the version, re-read and
    /// re-applied when a concurrent writer wins, so parallel PATCHes lose nothing. A PATCH
    /// that changes nothing stores nothing and keeps the version. Group members change
    /// without reading the member list (`service::members`).
    pub async fn patch(
        &self,
        ctx: &Context<'_>,
        kind: ResourceKind,
        id: &str,
        body: &Value,
    ) -> Result<Answer, Error> {
        check_password(ctx.tenant, kind, Sent::Patch, body)?;
        let registry = self.registry_of(ctx.tenant).await?;
        let projection = Self::projection(&registry, ctx, kind)?;
        let rt = registry.served(kind)?;
        let id = parse_id(kind, id)?;
        let (doc_patch, changes) = match kind {
            ResourceKind::Group => split_patch(body, id)?,
            ResourceKind::User => (Some(body.clone()), Vec::new()),
        };
        let quiet = patch_is_quiet(ctx, kind);
        let status = if quiet { 204 } else { 200 };
        let paths = activity::patch_paths(body);
        let patched = match doc_patch {
            None => {
                let expected = self.expected(ctx, kind, id).await?;
                let mut row = activity::change(self.now(), ctx, kind, id, "patch", status);
                if let Some(row) = &mut row {
                    row.paths = paths;
                    row.changed = vec!["members".to_owned()];
                }
                let change = GroupChange {
                    group: id,
                    content: None,
                    expected,
                    changes: &changes,
                    now: self.now(),
                    activity: row.as_ref(),
                };
                let update = self.store.update_group(ctx.tenant.id, change);
                self.recorded(row.as_ref(), update).await?
            }
            Some(doc_patch) => {
                let write = Rewrite::new(kind, id, PATCH_ATTEMPTS, &changes, body)
                    .recorded("patch", paths, status);
                self.rewrite(ctx, &registry, write, |current| {
                    let mut doc =
                        patch::apply(rt, registry.common(), &current.doc, id, &doc_patch)?;
                    keep_hidden(rt, &current.doc, &mut doc);
                    if kind == ResourceKind::User {
                        check_user(ctx.tenant, &doc)?;
                    }
                    Ok((doc != current.doc || !changes.is_empty()).then_some((
                        doc,
                        None,
                        Vec::new(),
                    )))
                })
                .await?
            }
        };
        self.answer(&registry, ctx, patched, &projection, quiet)
            .await
    }

    /// DELETE (RFC 7644 §3.6); with `If-Match` only at that version.
    pub async fn delete(
        &self,
        ctx: &Context<'_>,
        kind: ResourceKind,
        id: &str,
    ) -> Result<(), Error> {
        let id = parse_id(kind, id)?;
        let expected = self.expected(ctx, kind, id).await?;
        let row = activity::change(self.now(), ctx, kind, id, "delete", 204);
        if retained::retains(ctx.tenant, kind) {
            return self.retain(ctx.tenant, kind, id, expected, row).await;
        }
        let removal = Removal {
            kind,
            id,
            expected,
            activity: row.as_ref(),
        };
        Ok(self
            .recorded(row.as_ref(), self.store.delete(ctx.tenant.id, removal))
            .await?)
    }

    /// The version a conditional write must find: with `If-Match`, the current one if the
    /// condition names it (412 otherwise); without, none.
    async fn expected(
        &self,
        ctx: &Context<'_>,
        kind: ResourceKind,
        id: ResourceId,
    ) -> Result<Option<Version>, Error> {
        let Some(condition) = ctx.if_match else {
            return Ok(None);
        };
        let current = self.store.get(ctx.tenant.id, kind, id).await?;
        if !condition.matches(current.version) {
            return Err(not_named(kind, id, current.version));
        }
        Ok(Some(current.version))
    }

    /// The resource shown, or with `version_only` only its version.
    async fn answer(
        &self,
        registry: &Arc<Registry>,
        ctx: &Context<'_>,
        resource: StoredResource,
        projection: &Projection,
        version_only: bool,
    ) -> Result<Answer, Error> {
        if version_only {
            return Ok(Answer::VersionOnly(resource.version));
        }
        let shown = self
            .show_one(registry, ctx.tenant, resource, projection)
            .await?;
        Ok(Answer::Resource(shown))
    }

    /// The canonical document of a body, and for a group its members (kept apart from the
    /// document, in their own table).
    fn prepare(
        &self,
        tenant: &Tenant,
        registry: &Registry,
        rt: &ResourceType,
        body: &Value,
        existing: Option<&Document>,
        id: ResourceId,
    ) -> Result<Prepared, Error> {
        let mut unknown = Vec::new();
        let mut doc = canonicalize_noting(rt, registry.common(), body, existing, &mut unknown)?;
        let mut seen = std::collections::HashSet::new();
        unknown.retain(|name| seen.insert(name.to_ascii_lowercase()));
        if tenant.policy.unknown_attributes == UnknownAttributes::Reject && !unknown.is_empty() {
            return Err(unknown_refused(rt, &unknown));
        }
        let members = match rt.kind {
            ResourceKind::Group => Some(take_members(&mut doc, id)?),
            ResourceKind::User => {
                check_user(tenant, &doc)?;
                None
            }
        };
        Ok((doc, members, unknown))
    }

    /// Reads, computes the new document from the current one (`None`: nothing changes),
    /// writes it at the version read (with the member changes of a group), and starts over
    /// when a concurrent writer got in between, at most `write.attempts` times; with
    /// `If-Match` only at a version it names.
    async fn rewrite(
        &self,
        ctx: &Context<'_>,
        registry: &Registry,
        write: Rewrite<'_>,
        next: impl Fn(&StoredResource) -> Result<Option<Prepared>, Error>,
    ) -> Result<StoredResource, Error> {
        let Rewrite { kind, id, .. } = write;
        let rt = registry.served(kind)?;
        let tenant = ctx.tenant;
        for _ in 0..write.attempts {
            let current = self.store.get(tenant.id, kind, id).await?;
            if ctx.if_match.is_some_and(|c| !c.matches(current.version)) {
                return Err(not_named(kind, id, current.version));
            }
            let Some((mut doc, members, unknown)) = cpu_bound(write.body, || next(&current))?
            else {
                return Ok(current);
            };
            let kept = renames::keep_stored(tenant, kind, &current.doc, &mut doc);
            // a PATCH whose only change was Entra's rename stores nothing, and notes it
            let unchanged = kept.is_some()
                && write.operation == "patch"
                && doc == current.doc
                && write.changes.is_empty();
            let folded = fold(rt, registry.common(), &doc);
            let content = Content {
                kind,
                id,
                doc: &doc,
                folded: &folded,
                now: self.now(),
                members: members.as_deref(),
                matching: tenant.policy.matching,
            };
            let (expected, changes) = (current.version, write.changes);
            let mut row =
                activity::change(self.now(), ctx, kind, id, write.operation, write.status);
            if let Some(row) = &mut row {
                row.paths = write.paths.clone();
                let members = members.is_some() || !changes.is_empty();
                activity::note_change(row, kind, Some(&current.doc), &doc, members);
                row.ignored = self.ignored(tenant, &unknown);
                row.kept = kept;
                row.unchanged = unchanged;
            }
            if unchanged {
                if let Some(row) = &row {
                    self.store.record(row).await?;
                }
                return Ok(current);
            }
            let activity = row.as_ref();
            let written = match changes {
                [] => {
                    let write = Write { content, activity };
                    self.recorded(activity, self.store.replace(tenant.id, write, expected))
                        .await
                }
                _ => {
                    let change = GroupChange {
                        group: id,
                        content: Some(content),
                        expected: Some(expected),
                        changes,
                        now: self.now(),
                        activity,
                    };
                    self.recorded(activity, self.store.update_group(tenant.id, change))
                        .await
                }
            };
            match written {
                Err(StoreError::VersionMismatch { .. }) if ctx.if_match.is_none() => continue,
                Err(e) => return Err(schemas::write_error(tenant.id, rt, &doc, e)),
                Ok(written) => return Ok(written),
            }
        }
        Err(contended(kind, id))
    }
}

/// What a compare-and-swap loop rewrites: which resource, how often it may try, the member
/// changes of a group, and the request body (whose size decides where the CPU work runs).
#[derive(Clone)]
struct Rewrite<'a> {
    kind: ResourceKind,
    id: ResourceId,
    attempts: usize,
    changes: &'a [MemberChange],
    body: &'a Value,
    /// What the activity log records: the operation, its paths, the status it answers.
    operation: &'static str,
    paths: Option<String>,
    status: u16,
}

impl<'a> Rewrite<'a> {
    fn new(
        kind: ResourceKind,
        id: ResourceId,
        attempts: usize,
        changes: &'a [MemberChange],
        body: &'a Value,
    ) -> Self {
        Self {
            kind,
            id,
            attempts,
            changes,
            body,
            operation: "replace",
            paths: None,
            status: 200,
        }
    }

    fn recorded(mut self, operation: &'static str, paths: Option<String>, status: u16) -> Self {
        self.operation = operation;
        self.paths = paths;
        self.status = status;
        self
    }
}

/// JSON nodes beyond which a request body is worth a thread of its own.
const HEAVY_NODES: usize = 4_096;

/// Runs `work`, the canonicalisation or PATCH of `body`: on a large body, in a way that lets
/// the runtime move its other tasks to other threads meanwhile (a 1 MiB body of values takes
/// milliseconds of CPU, which must not stall the requests sharing the thread).
fn cpu_bound<T>(body: &Value, work: impl FnOnce() -> T) -> T {
    let multi_threaded = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_threaded && nodes_beyond(body, HEAVY_NODES) {
        tokio::task::block_in_place(work)
    } else {
        work()
    }
}

/// Whether `value` has more than `limit` nodes (counting stops there).
fn nodes_beyond(value: &Value, limit: usize) -> bool {
    let mut seen = 0;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        seen += 1;
        if seen > limit {
            return true;
        }
        match v {
            Value::Array(items) => stack.extend(items),
            Value::Object(members) => stack.extend(members.values()),
            _ => {}
        }
    }
    false
}

/// 412: the resource is at a version the request's `If-Match` does not name.
fn not_named(kind: ResourceKind, id: ResourceId, current: Version) -> Error {
    scim::Error::precondition_failed(format!(
        "{} {id} is at version {}, which If-Match does not name; read it again and retry",
        kind.as_str(),
        current.etag()
    ))
    .into()
}

/// Puts back into `doc` the values `current` holds under extensions `rt` no longer has (a
/// removed schema): a PATCH changes what it names and keeps them, for a re-registration to
/// show again; only a PUT, which replaces the resource, drops them.
fn keep_hidden(rt: &ResourceType, current: &Document, doc: &mut Document) {
    for (key, value) in current {
        if key.starts_with("urn:") && rt.extension(key).is_none() && !doc.contains_key(key) {
            doc.insert(key.clone(), value.clone());
        }
    }
}

/// 400 for a body with attributes no schema of the tenant defines (the tenant's rule
/// `--unknown-attributes reject`), naming them.
fn unknown_refused(rt: &ResourceType, unknown: &[String]) -> Error {
    let shown: Vec<String> = unknown.iter().take(10).map(|n| format!("'{n}'")).collect();
    let more = unknown.len().saturating_sub(shown.len());
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    scim::Error::invalid_value(format!(
        "attribute(s) {}{more} are in no schema of {}: register the extension that defines \
         them (scimd schema add), or have the tenant ignore unknown attributes",
        shown.join(", "),
        rt.kind.as_str()
    ))
    .into()
}

/// An id that is not a UUID names no resource scimd could have made: 404, like any unknown id.
fn parse_id(kind: ResourceKind, id: &str) -> Result<ResourceId, Error> {
    id.parse()
        .map_err(|_| scim::Error::not_found(format!("{} {id} not found", kind.as_str())).into())
}
