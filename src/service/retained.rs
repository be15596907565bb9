//! Retained users (issue 26, items 1 and 2): a `DELETE` of a user under the tenant's rule
//! `on_delete = retain` keeps it out of SCIM's sight, with its id and document, until its
//! retention has passed; an operator lists and restores retained users; a create whose
//! `externalId` is a retained user's restores that user with its id and the create's values
//! (the rule `restore_on_create`); the housekeeping purges what has expired, in batches.

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::view::Context;
use super::{Directory, Error, activity};
use crate::domain::activity::{Activity, Origin};
use crate::domain::retained::{RESTORED, Retained, retained_until};
use crate::domain::{OnDelete, Tenant, TenantId};
use crate::scim;
use crate::scim::fold::fold;
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::{ResourceKind, ResourceType};
use crate::store::{Content, Removal, Resources, RetainedStore, StoreError, Tenants, Write};

/// Retained users purged per statement.
const PURGE_BATCH: u32 = 500;

/// Whether a `DELETE` of `kind` in `tenant` retains the resource: users under `retain`
/// (groups are always deleted).
pub(super) fn retains(tenant: &Tenant, kind: ResourceKind) -> bool {
    kind == ResourceKind::User && tenant.policy.deprovisioning.on_delete == OnDelete::Retain
}

impl Directory {
    /// The `DELETE` of a user under `retain`: moved out of SCIM with its activity row, whose
    /// note and event say until when it is retained.
    pub(super) async fn retain(
        &self,
        tenant: &Tenant,
        kind: ResourceKind,
        id: ResourceId,
        expected: Option<Version>,
        mut row: Option<Activity>,
    ) -> Result<(), Error> {
        let now = self.now();
        let secs = tenant.policy.deprovisioning.retain_for_secs;
        let purge_after = now
            .checked_add_signed(TimeDelta::seconds(secs))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if let Some(row) = &mut row {
            row.lifecycle = Some(retained_until(purge_after));
        }
        let removal = Removal {
            kind,
            id,
            expected,
            activity: row.as_ref(),
        };
        let retain = self.store.retain(tenant.id, removal, now, purge_after);
        Ok(self.recorded(row.as_ref(), retain).await?)
    }

    /// A create of a user whose `externalId` is a retained user's, when the tenant's rule
    /// `restore_on_create` is on: that user back with its id, its `meta.created`, its next
    /// version and the create's document. `None` when there is none to restore (the create
    /// goes on as one), or when another request restored it first.
    pub(super) async fn restore_on_create(
        &self,
        ctx: &Context<'_>,
        kind: ResourceKind,
        write: Write<'_>,
    ) -> Result<Option<StoredResource>, Error> {
        let tenant = ctx.tenant;
        // only while the tenant retains: a tenant that deletes pays no lookup per create
        if !retains(tenant, kind) || !tenant.policy.deprovisioning.restore_on_create {
            return Ok(None);
        }
        let content = &write.content;
        let Some(external) = content.doc.get("externalId").and_then(|v| v.as_str()) else {
            return Ok(None);
        };
        let found = self
            .store
            .retained_by_external_id(tenant.id, kind, external);
        let Some(retained) = found.await? else {
            return self.restore_deactivated(ctx, kind, write, external).await;
        };
        let row = restored_row(self.now(), ctx, kind, ResourceId(retained.id), &write);
        let write = Write {
            content: Content {
                id: ResourceId(retained.id),
                ..write.content.clone()
            },
            activity: row.as_ref(),
        };
        let restore = self
            .store
            .restore(tenant.id, write, retained.version + 1, retained.created);
        match self.recorded(row.as_ref(), restore).await {
            Ok(restored) => Ok(Some(restored)),
            // restored or purged by another request meanwhile: a create as any other
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A create (under the same rule) whose `externalId` is that of one deactivated user
    /// still in SCIM — the person came back before the hard delete, under another matching
    /// value: that user, with its id and `meta.created`, takes the create's document at its
    /// next version. `None` when there is none, or several (which of them is the person is not
    /// scimd's to guess), or when the user changed meanwhile: the create goes on as one.
    async fn restore_deactivated(
        &self,
        ctx: &Context<'_>,
        kind: ResourceKind,
        write: Write<'_>,
        external: &str,
    ) -> Result<Option<StoredResource>, Error> {
        let tenant = ctx.tenant;
        let found = self
            .store
            .deactivated_by_external_id(tenant.id, kind, external)
            .await?;
        let [user] = found.as_slice() else {
            return Ok(None);
        };
        let row = restored_row(self.now(), ctx, kind, user.id, &write);
        let write = Write {
            content: Content {
                id: user.id,
                ..write.content.clone()
            },
            activity: row.as_ref(),
        };
        let replace = self.store.replace(tenant.id, write, user.version);
        match self.recorded(row.as_ref(), replace).await {
            Ok(restored) => Ok(Some(restored)),
            // deleted, or changed (perhaps enabled) meanwhile: a create as any other
            Err(StoreError::NotFound(_) | StoreError::VersionMismatch { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A page of the retained users of the tenant called `name`, in the order they were
    /// deleted, after `after` (`deleted_at`, id), at most `limit`.
    pub async fn retained_users(
        &self,
        name: &str,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> Result<Vec<Retained>, Error> {
        let tenant = self.tenant(name).await?;
        Ok(self.store.retained_page(tenant.id, after, limit).await?)
    }

    /// Restores the retained user `id` of the tenant called `name`: back in SCIM with its id,
    /// its document, its `meta.created`, a new version and `lastModified`; its activity row
    /// and its `create` event say `restored`. 404 when the tenant retains no such user, 409
    /// naming the attribute when a value it holds was taken meanwhile.
    pub async fn restore_retained(&self, name: &str, id: Uuid) -> Result<StoredResource, Error> {
        let tenant = self.tenant(name).await?;
        let kind = ResourceKind::User;
        let Some(retained) = self.store.retained(tenant.id, id).await? else {
            return Err(not_retained(&tenant.name, id));
        };
        let registry = self.registry_of(&tenant).await?;
        let rt: &ResourceType = registry.served(kind)?;
        let folded = fold(rt, registry.common(), &retained.doc);
        let origin = self.restore_origin();
        let mut row = Activity::change(tenant.id, self.now(), &origin, "create", 201);
        row.resource_type = Some(kind.as_str().to_owned());
        row.resource_id = Some(id);
        row.lifecycle = Some(RESTORED.to_owned());
        activity::note_change(&mut row, kind, None, &retained.doc, false);
        let write = Write {
            content: Content {
                kind,
                id: ResourceId(id),
                doc: &retained.doc,
                folded: &folded,
                now: self.now(),
                members: None,
                matching: tenant.policy.matching,
            },
            activity: Some(&row),
        };
        let restore = self
            .store
            .restore(tenant.id, write, retained.version + 1, retained.created);
        let restored = match self.recorded(Some(&row), restore).await {
            Err(StoreError::NotFound(_)) => return Err(not_retained(&tenant.name, id)),
            other => {
                other.map_err(|e| super::schemas::write_error(tenant.id, rt, &retained.doc, e))?
            }
        };
        self.audited(
            "retained.restore",
            Some(&tenant.name),
            Some(id.to_string()),
            retained.user_name.clone(),
        )
        .await;
        Ok(restored)
    }

    /// Purges the retained users whose retention has passed, in batches; how many. Nothing is
    /// sent to SCIM clients (they saw the delete); the audit trail notes each tenant's batch.
    pub async fn purge_retained(&self) -> Result<u64, Error> {
        let mut total = 0;
        loop {
            let purged = self.store.purge_retained(self.now(), PURGE_BATCH).await?;
            let mut per_tenant: Vec<(TenantId, u64)> = Vec::new();
            for (tenant, _) in &purged {
                match per_tenant.iter_mut().find(|(t, _)| t == tenant) {
                    Some((_, n)) => *n += 1,
                    None => per_tenant.push((*tenant, 1)),
                }
            }
            for (tenant, n) in per_tenant {
                if let Ok(tenant) = self.store.tenant_by_id(tenant).await {
                    let detail = format!("{n} retained user(s) purged after their retention");
                    self.audited("retained.purge", Some(&tenant.name), None, Some(detail))
                        .await;
                }
            }
            total += purged.len() as u64;
            if purged.len() < PURGE_BATCH as usize {
                return Ok(total);
            }
        }
    }

    /// Where an operator's restore comes from, for its activity row and event (`txn`).
    fn restore_origin(&self) -> Origin {
        let actor = self.actor();
        Origin {
            request_id: Uuid::new_v4().to_string(),
            credential: format!("{}:{}", actor.kind.as_str(), actor.name),
            method: "POST".to_owned(),
            route: "/api/v1/tenants/{name}/retained/{id}/restore".to_owned(),
        }
    }
}

/// 404: the tenant retains no user `id` (never retained, restored, purged, or another
/// tenant's).
fn not_retained(tenant: &str, id: Uuid) -> Error {
    scim::Error::not_found(format!("tenant {tenant} retains no user {id}")).into()
}

/// The activity row of a create that restores `id`: the create's own notes, `restored`.
fn restored_row(
    now: DateTime<Utc>,
    ctx: &Context<'_>,
    kind: ResourceKind,
    id: ResourceId,
    write: &Write<'_>,
) -> Option<Activity> {
    let mut row = activity::change(now, ctx, kind, id, "create", 201);
    if let Some(row) = &mut row {
        let before = write.activity.cloned();
        row.changed = before
            .as_ref()
            .map(|b| b.changed.clone())
            .unwrap_or_default();
        row.ignored = before.and_then(|b| b.ignored);
        row.lifecycle = Some(RESTORED.to_owned());
    }
    row
}
