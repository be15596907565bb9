//! The store's part of the activity log: rows read back, refusals recorded on their own,
//! lookups counted per minute, old rows pruned in small batches. A change's own row is written
//! by the write itself, in its transaction (or its statement): it is a field of the write the
//! service hands to the store ([`crate::store::Write`], [`crate::store::Removal`],
//! [`crate::store::GroupChange`]).

use std::future::Future;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::TenantId;
use crate::domain::activity::{Activity, ActivityFilter, MinuteCount};
use crate::store::StoreError;

/// Reading and maintaining the activity log.
pub trait ActivityStore {
    /// Records a refused request (or any row) on its own.
    fn record(&self, activity: &Activity) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The tenant's rows that match, oldest first (the newest `filter.limit`).
    fn activity(
        &self,
        tenant: TenantId,
        filter: &ActivityFilter,
    ) -> impl Future<Output = Result<Vec<Activity>, StoreError>> + Send;
    /// The tenant's rows that match, newest first, at most `filter.limit` of them; with
    /// `before`, only those older than that row's (time, id) — the keyset of a page after it.
    fn activity_page(
        &self,
        tenant: TenantId,
        filter: &ActivityFilter,
        before: Option<(DateTime<Utc>, Uuid)>,
    ) -> impl Future<Output = Result<Vec<Activity>, StoreError>> + Send;
    /// The tenant's activity since `since`, counted per minute and kind.
    fn minute_counts(
        &self,
        tenant: TenantId,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<MinuteCount>, StoreError>> + Send;
    /// The tenant's lookups per minute since `since`.
    fn lookup_counts(
        &self,
        tenant: TenantId,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<(DateTime<Utc>, u64)>, StoreError>> + Send;
    /// Adds lookups to their minutes.
    fn add_lookups(
        &self,
        counts: &[(TenantId, DateTime<Utc>, u64)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Deletes at most `batch` rows older than `before` (and lookup counts); how many went.
    fn prune_activity(
        &self,
        before: DateTime<Utc>,
        batch: u32,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
