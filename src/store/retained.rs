//! The store's part of retained users (the tenant's rule `on_delete = retain`): a delete that
//! moves the user out of `resources` into `retained_resources` in one transaction, the
//! operator's listing, a create's lookup by `externalId`, the restore that moves it back with
//! its id, and the purge after the retention period. No SCIM query reads the retained table:
//! a retained user is not found, not listed and holds no unique value.

use std::future::Future;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::TenantId;
use crate::domain::retained::Retained;
use crate::scim::resource::StoredResource;
use crate::scim::schema::ResourceKind;
use crate::store::{Removal, StoreError, Write};

/// Retained users: kept, listed, restored, purged.
pub trait RetainedStore {
    /// Moves the resource into the retained table, `deleted_at` and purged after
    /// `purge_after`, with its activity row and event (written while the resource's row still
    /// holds it), at `removal.expected` only when given. Its memberships go as a delete's do.
    fn retain(
        &self,
        tenant: TenantId,
        removal: Removal<'_>,
        deleted_at: DateTime<Utc>,
        purge_after: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// A page of the tenant's retained resources in the order they were deleted: after
    /// `after` (`deleted_at`, id), at most `limit`.
    fn retained_page(
        &self,
        tenant: TenantId,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Retained>, StoreError>> + Send;
    /// The tenant's retained resource `id`.
    fn retained(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<Retained>, StoreError>> + Send;
    /// The tenant's retained resource of `kind` whose `externalId` is `external_id` (exactly),
    /// the last deleted when there are several.
    fn retained_by_external_id(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        external_id: &str,
    ) -> impl Future<Output = Result<Option<Retained>, StoreError>> + Send;
    /// The tenant's users of `kind` in SCIM whose `externalId` is `external_id` (exactly) and
    /// that are deactivated (`active` false), at most two: a create with that `externalId`
    /// restores the one there is.
    fn deactivated_by_external_id(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        external_id: &str,
    ) -> impl Future<Output = Result<Vec<StoredResource>, StoreError>> + Send;
    /// Moves the retained resource `write.content.id` back into `resources` with the content
    /// of `write`, at `version` and with its `created`, recording its activity row and event;
    /// `NotFound` when it is no longer retained, a uniqueness conflict when a value it holds
    /// was taken meanwhile (then it stays retained).
    fn restore(
        &self,
        tenant: TenantId,
        write: Write<'_>,
        version: i64,
        created: DateTime<Utc>,
    ) -> impl Future<Output = Result<StoredResource, StoreError>> + Send;
    /// Deletes at most `batch` retained resources, of any tenant, whose `purge_after` is not
    /// after `now`; the tenant and id of each.
    fn purge_retained(
        &self,
        now: DateTime<Utc>,
        batch: u32,
    ) -> impl Future<Output = Result<Vec<(TenantId, Uuid)>, StoreError>> + Send;
}
