//! Queries (RFC 7644 §3.4.2, §3.4.3): on one resource endpoint, or across every resource type
//! (`POST /.search`, `GET /` with a filter). Filters run in the store; a page comes back with
//! its resources shown as the query's projection asks.

use std::sync::Arc;

use super::view::{Page, Shown};
use super::{Directory, Error};
use crate::domain::Tenant;
use crate::scim::list::{CursorPosition, ListQuery, Page as IndexPage, Paging};
use crate::scim::projection::Projection;
use crate::scim::query::SearchParams;
use crate::scim::resource::ResourceId;
use crate::scim::schema::{Registry, ResourceKind};
use crate::scim::{self};
use crate::store::{Groups, Listing, Resources};

impl Directory {
    /// A query on one resource endpoint (`GET /Users`, `POST /Users/.search`).
    pub async fn search(
        &self,
        tenant: &Tenant,
        kind: ResourceKind,
        params: &SearchParams,
    ) -> Result<Page, Error> {
        let registry = self.registry_of(tenant).await?;
        let rt = registry.served(kind)?;
        let (query, projection) = params.compile(rt, registry.common())?;
        let (total, shown, next) = self
            .list(&registry, tenant, kind, &query, &projection)
            .await?;
        let start_index = match query.paging {
            Paging::Index(page) => Some(page.start_index),
            Paging::Cursor { .. } => None,
        };
        Ok(Page {
            total,
            start_index,
            next_cursor: next.map(|p| params.encode_cursor(p)),
            resources: shown,
        })
    }

    /// A query across every resource type (RFC 7644 §3.4.2.1, §3.4.3): resource types in
    /// registry order, each in its own order, one index page over all of them. A resource type
    /// whose schema the filter does not fit contributes nothing.
    pub async fn search_all(&self, tenant: &Tenant, params: &SearchParams) -> Result<Page, Error> {
        if params.cursor.is_some() {
            return Err(scim::Error::invalid_value(
                "cursor pagination is available on /Users and /Groups, not across resource types",
            )
            .into());
        }
        let registry = self.registry_of(tenant).await?;
        let compiled = compile_across(&registry, params)?;
        let Some(Paging::Index(page)) = compiled.first().map(|(_, query, _)| query.paging) else {
            return Err(scim::Error::bad_request("cursor pagination is not available here").into());
        };
        let (mut skip, mut wanted) = (page.offset(), u64::from(page.count));
        let mut out = Page {
            total: 0,
            start_index: Some(page.start_index),
            next_cursor: None,
            resources: Vec::new(),
        };
        for (kind, mut query, projection) in compiled {
            // the rest of the page, from where this type's resources start
            query.paging = Paging::Index(IndexPage {
                start_index: skip + 1,
                count: u32::try_from(wanted).unwrap_or(u32::MAX),
            });
            let (total, shown, _) = self
                .list(&registry, tenant, kind, &query, &projection)
                .await?;
            out.total += total;
            skip = skip.saturating_sub(total);
            wanted = wanted.saturating_sub(shown.len() as u64);
            out.resources.extend(shown);
        }
        Ok(out)
    }

    /// One page from the store, shown
    /// One page from the store, shown; a page of groups whose members would exceed
    /// `SCIMD_MAX_MEMBERS_PER_PAGE` is read again with fewer groups.
    async fn list(
        &self,
        registry: &Arc<Registry>,
        tenant: &Tenant,
        kind: ResourceKind,
        query: &ListQuery,
        projection: &Projection,
    ) -> Result<(u64, Vec<Shown>, Option<CursorPosition>), Error> {
        let keyed;
        let fixed = query
            .filter
            .as_ref()
            .and_then(|f| tenant.policy.matching.email_fixed_by(f));
        let query = match (kind, fixed) {
            (ResourceKind::User, Some(key)) => {
                keyed = ListQuery {
                    email_key: Some(key.to_owned()),
                    ..query.clone()
                };
                &keyed
            }
            _ => query,
        };
        let mut listing = self.store.list(tenant.id, kind, query).await?;
        if let Some(fit) = self.groups_that_fit(tenant, &listing, projection).await? {
            let mut shorter = query.clone();
            shorter.paging = with_count(query.paging, fit);
            listing = self.store.list(tenant.id, kind, &shorter).await?;
        }
        let groups = listing.groups.take();
        let shown = self
            .show(registry, tenant, listing.resources, projection, groups)
            .await?;
        Ok((listing.total, shown, listing.next))
    }
}

impl Directory {
    /// When the groups of `listing` would show more members together than a page may (RFC
    /// 7644 §3.4.2.4 lets a page hold fewer resources than `count`): how many of them fit, at
    /// least one. `None`: all of them.
    async fn groups_that_fit(
        &self,
        tenant: &Tenant,
        listing: &Listing,
        projection: &Projection,
    ) -> Result<Option<u32>, Error> {
        let groups: Vec<ResourceId> = listing
            .resources
            .iter()
            .filter(|r| r.kind == ResourceKind::Group)
            .map(|r| r.id)
            .collect();
        if groups.len() < 2 || !self.wants(ResourceKind::Group, "members", projection) {
            return Ok(None);
        }
        let counts = self.store.member_counts(tenant.id, &groups).await?;
        let mut shown = 0;
        for (fit, id) in groups.iter().enumerate() {
            shown += counts.get(id).copied().unwrap_or(0);
            if shown > self.max_members_per_page && fit > 0 {
                return Ok(Some(u32::try_from(fit).unwrap_or(u32::MAX)));
            }
        }
        Ok(None)
    }
}

/// `paging` with a page of `count`.
fn with_count(paging: Paging, count: u32) -> Paging {
    match paging {
        Paging::Index(page) => Paging::Index(IndexPage { count, ..page }),
        Paging::Cursor { position, .. } => Paging::Cursor { position, count },
    }
}

/// The query and projection of every resource type. The filter must name attributes some
/// resource type defines (a typo is still 400); each type then reads attributes it lacks as
/// absent.
fn compile_across(
    registry: &Registry,
    params: &SearchParams,
) -> Result<Vec<(ResourceKind, ListQuery, Projection)>, Error> {
    let types = registry.resource_types();
    let common = registry.common();
    let strict: Vec<_> = types.iter().map(|rt| params.compile(rt, common)).collect();
    if !strict.iter().any(Result::is_ok) {
        if let Some(Err(e)) = strict.into_iter().next() {
            return Err(e.into());
        }
    }
    types
        .iter()
        .map(|rt| {
            let (query, projection) = params.compile_across(rt, common)?;
            Ok((rt.kind, query, projection))
        })
        .collect()
}
