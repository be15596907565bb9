//! What a request brings besides its body ([`Context`]: tenant, preconditions, the
//! `attributes` it wants shown) and what a use case answers with: a resource as the response
//! shows it ([`Shown`], with `members` / `groups` read from the membership table only when the
//! projection shows them), a page of them ([`Page`]), or only a version ([`Answer`]).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::{Directory, Error};
use crate::domain::Tenant;
use crate::domain::activity::Origin;
use crate::scim::list::list_response;
use crate::scim::projection::Projection;
use crate::scim::render::{location, render};
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::{Registry, ResourceKind};
use crate::store::{GroupRef, Groups};

/// A request to the directory as a use case sees it.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub tenant: &'a Tenant,
    /// `If-Match`: write only at a version it names (RFC 7644 §3.14, RFC 7232 §3.1).
    pub if_match: Option<&'a Condition>,
    /// `If-None-Match`: a read at a version it names answers with the version only (304).
    pub if_none_match: Option<&'a Condition>,
    /// `attributes` (RFC 7644 §3.9).
    pub attributes: Option<&'a str>,
    /// `excludedAttributes` (RFC 7644 §3.9).
    pub excluded_attributes: Option<&'a str>,
    /// Where the request came from; the changes of a request with an origin are recorded in
    /// the activity log.
    pub origin: Option<&'a Origin>,
}

impl<'a> Context<'a> {
    /// A request of `tenant` without preconditions, showing the default attributes.
    pub fn of(tenant: &'a Tenant) -> Self {
        Self {
            tenant,
            if_match: None,
            if_none_match: None,
            attributes: None,
            excluded_attributes: None,
            origin: None,
        }
    }

    /// Whether the request names the attributes to show (then a group PATCH shows the group).
    fn names_attributes(&self) -> bool {
        self.attributes.is_some() || self.excluded_attributes.is_some()
    }
}

/// An `If-Match` or `If-None-Match` condition (RFC 7232 §3.1, §3.2): any current version
/// (`*`), or a list of entity tags. Tags are compared weakly, as SCIM's weak ETags are
/// (RFC 7644 §3.14); a tag that is not one of scimd's versions matches nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Any,
    Tags(Vec<Version>),
}

impl Condition {
    pub fn matches(&self, version: Version) -> bool {
        match self {
            Condition::Any => true,
            Condition::Tags(tags) => tags.contains(&version),
        }
    }
}

/// A resource as a response shows it, with the schemas of its tenant.
#[derive(Debug)]
pub struct Shown {
    pub resource: StoredResource,
    projection: Projection,
    registry: Arc<Registry>,
}

impl Shown {
    /// The RFC 7643 JSON representation, with `meta.location` under `base`.
    pub fn render(&self, base: &str) -> Value {
        match self.registry.resource_type(self.resource.kind) {
            Some(rt) => render(
                rt,
                self.registry.common(),
                &self.resource,
                base,
                &self.projection,
            ),
            None => Value::Null,
        }
    }

    /// `<base>/Users/<id>`.
    pub fn location(&self, base: &str) -> String {
        location(base, &self.resource)
    }

    pub fn version(&self) -> Version {
        self.resource.version
    }
}

/// A resource, or only its version (304 for a read at the current version, 204 for a group
/// PATCH that asks for no attributes).
#[derive(Debug)]
pub enum Answer {
    Resource(Shown),
    VersionOnly(Version),
}

impl Answer {
    /// The resource's version, which every answer carries (as its `ETag`).
    pub fn version(&self) -> Version {
        match self {
            Answer::Resource(shown) => shown.version(),
            Answer::VersionOnly(version) => *version,
        }
    }
}

/// One page of a query.
#[derive(Debug)]
pub struct Page {
    pub total: u64,
    /// `startIndex` of an index page; `None` for cursor pages.
    pub start_index: Option<u64>,
    pub next_cursor: Option<String>,
    pub resources: Vec<Shown>,
}

impl Page {
    /// The ListResponse (RFC 7644 §3.4.2).
    pub fn render(&self, base: &str) -> Value {
        list_response(
            self.total,
            self.start_index,
            self.resources.iter().map(|r| r.render(base)).collect(),
            self.next_cursor.clone(),
        )
    }
}

impl Directory {
    /// The projection a request asks for on resources of `kind`.
    pub(super) fn projection(
        registry: &Registry,
        ctx: &Context<'_>,
        kind: ResourceKind,
    ) -> Result<Projection, Error> {
        Ok(Projection::parse(
            registry.served(kind)?,
            registry.common(),
            ctx.attributes,
            ctx.excluded_attributes,
        )?)
    }

    /// `resources` shown under `projection`, with the derived multi-valued references it asks
    /// for: `members` of groups and `groups` of users (RFC 7643 §4.1.2, §4.2), read from the
    /// membership table — not at all when the projection leaves them out (Entra reads groups
    /// with `excludedAttributes=members`). `read_groups`: the users' groups when the list
    /// query already read them.
    pub(super) async fn show(
        &self,
        registry: &Arc<Registry>,
        tenant: &Tenant,
        mut resources: Vec<StoredResource>,
        projection: &Projection,
        read_groups: Option<HashMap<ResourceId, Vec<GroupRef>>>,
    ) -> Result<Vec<Shown>, Error> {
        self.add_members(tenant, &mut resources, projection).await?;
        self.add_groups(tenant, &mut resources, projection, read_groups)
            .await?;
        resources
            .into_iter()
            .map(|resource| Shown {
                projection: projection.clone(),
                registry: registry.clone(),
                resource,
            })
            .map(Ok)
            .collect()
    }

    /// One resource shown under `projection`.
    pub(super) async fn show_one(
        &self,
        registry: &Arc<Registry>,
        tenant: &Tenant,
        resource: StoredResource,
        projection: &Projection,
    ) -> Result<Shown, Error> {
        self.show_single(registry, tenant, resource, projection, None)
            .await
    }

    /// A resource just created: no group can name it yet, so its `groups` are not read.
    pub(super) async fn show_created(
        &self,
        registry: &Arc<Registry>,
        tenant: &Tenant,
        resource: StoredResource,
        projection: &Projection,
    ) -> Result<Shown, Error> {
        let no_groups = HashMap::new();
        self.show_single(registry, tenant, resource, projection, Some(no_groups))
            .await
    }

    async fn show_single(
        &self,
        registry: &Arc<Registry>,
        tenant: &Tenant,
        resource: StoredResource,
        projection: &Projection,
        groups: Option<HashMap<ResourceId, Vec<GroupRef>>>,
    ) -> Result<Shown, Error> {
        let mut shown = self
            .show(registry, tenant, vec![resource], projection, groups)
            .await?;
        shown
            .pop()
            .ok_or_else(|| Error::internal("a shown resource went missing"))
    }

    /// Whether the projection shows the attribute `name` of resources of `kind`.
    pub(super) fn wants(&self, kind: ResourceKind, name: &str, projection: &Projection) -> bool {
        self.registry
            .resource_type(kind)
            .and_then(|rt| rt.schema.attribute(name))
            .is_some_and(|attr| projection.wants(None, attr))
    }

    async fn add_members(
        &self,
        tenant: &Tenant,
        resources: &mut [StoredResource],
        projection: &Projection,
    ) -> Result<(), Error> {
        let ids = ids_of(resources, ResourceKind::Group);
        if ids.is_empty() || !self.wants(ResourceKind::Group, "members", projection) {
            return Ok(());
        }
        let mut members = self.store.members(tenant.id, &ids).await?;
        for r in resources
            .iter_mut()
            .filter(|r| r.kind == ResourceKind::Group)
        {
            let list: Vec<Value> = members
                .remove(&r.id)
                .unwrap_or_default()
                .into_iter()
                .map(|m| {
                    let mut v = json!({"value": m.id.to_string(), "type": m.kind.as_str()});
                    if let Some(display) = m.display {
                        v["display"] = Value::String(display);
                    }
                    v
                })
                .collect();
            if !list.is_empty() {
                r.doc.insert("members".into(), Value::Array(list));
            }
        }
        Ok(())
    }

    async fn add_groups(
        &self,
        tenant: &Tenant,
        resources: &mut [StoredResource],
        projection: &Projection,
        read_groups: Option<HashMap<ResourceId, Vec<GroupRef>>>,
    ) -> Result<(), Error> {
        let ids = ids_of(resources, ResourceKind::User);
        if ids.is_empty() || !self.wants(ResourceKind::User, "groups", projection) {
            return Ok(());
        }
        let mut groups = match read_groups {
            Some(groups) => groups,
            None => self.store.groups_of(tenant.id, &ids).await?,
        };
        for r in resources
            .iter_mut()
            .filter(|r| r.kind == ResourceKind::User)
        {
            let list: Vec<Value> = groups
                .remove(&r.id)
                .unwrap_or_default()
                .into_iter()
                .map(|g| json!({"value": g.id.to_string(), "display": g.display, "type": "direct"}))
                .collect();
            if !list.is_empty() {
                r.doc.insert("groups".into(), Value::Array(list));
            }
        }
        Ok(())
    }
}

fn ids_of(resources: &[StoredResource], kind: ResourceKind) -> Vec<ResourceId> {
    resources
        .iter()
        .filter(|r| r.kind == kind)
        .map(|r| r.id)
        .collect()
}

/// Whether a PATCH of `kind` answers with the version only: a group PATCH that names no
/// attributes (Microsoft's guidance: never echo a large member list).
pub(super) fn patch_is_quiet(ctx: &Context<'_>, kind: ResourceKind) -> bool {
    kind == ResourceKind::Group && !ctx.names_attributes()
}
