//! The store's part of alerts: where a tenant's changes of health go (its notification
//! addresses, its team admins who opted in) and the notifier's outbox, one row per change,
//! channel and recipient, sent under a lease so that one process at a time sends a row.

use std::future::Future;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::TenantId;
use crate::domain::health::Change;
use crate::domain::notify::{Channel, Notification};
use crate::store::StoreError;

/// A change of health not yet fanned out, with its tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct Unfanned {
    pub tenant: TenantId,
    pub change: Change,
}

/// Notification addresses and the outbox.
pub trait NotifyStore {
    /// The tenant's notification addresses, in the order they were set.
    fn notify_addresses(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
    /// Replaces the tenant's notification addresses (checked by the caller).
    fn set_notify_addresses(
        &self,
        tenant: TenantId,
        addresses: &[String],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Sets (or with `None` clears) the address the admin `username` (in any letter case)
    /// receives alerts at; not found when the tenant has no such admin.
    fn set_admin_notify(
        &self,
        tenant: TenantId,
        username: &str,
        email: Option<&str>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The addresses of the tenant's admins who opted in, by username: `(username, address,
    /// team admin)`.
    fn admin_notify(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Vec<(String, String, bool)>, StoreError>> + Send;
    /// Changes of health not yet fanned out, oldest first, at most `limit`.
    fn unfanned(
        &self,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Unfanned>, StoreError>> + Send;
    /// Adds a pending row per `(channel, recipient)` of the change `seq` (none twice, whoever
    /// adds them) and marks the change fanned out, in one transaction.
    fn fan_out(
        &self,
        seq: i64,
        rows: &[(Channel, String)],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Leases to `owner` until `until` at most `limit` pending rows due at `now` whose lease,
    /// if any, lapsed; the rows leased.
    fn claim_notifications(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Notification>, StoreError>> + Send;
    /// Settles a row `owner` holds: sent at `at`; or failed with `error`, to be tried again at
    /// `retry_at`, or given up (`None`). Whether `owner` still held it.
    fn settle_notification(
        &self,
        id: Uuid,
        owner: &str,
        at: DateTime<Utc>,
        failure: Option<(&str, Option<DateTime<Utc>>)>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// How many rows are pending.
    fn pending_notifications(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// The tenant's last `limit` rows, newest first.
    fn notifications(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Notification>, StoreError>> + Send;
}
