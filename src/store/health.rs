//! The store's part of provisioning health: each tenant's recorded state (one row, changed
//! only by compare-and-swap, so that of replicas checking at once one records a change), and the
//! changes of state in order, which the notifier sends and the operator page shows.

use std::future::Future;

use crate::domain::TenantId;
pub use crate::domain::health::TenantHealth;
use crate::domain::health::{Change, Recorded, State};
use crate::store::StoreError;

/// Recorded health and its changes.
pub trait HealthStore {
    /// The tenant's recorded health, if it was checked.
    fn health(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Option<Recorded>, StoreError>> + Send;
    /// Every tenant with its recorded health, worst first (a tenant never checked counts as
    /// `not_connected`), then by name; those after `after` (a rank and a name), at most `limit`.
    fn health_page(
        &self,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<TenantHealth>, StoreError>> + Send;
    /// Records `recorded` if the tenant's recorded state is still `expected` (`None`: never
    /// recorded), with `change` when the state changes; whether it was recorded.
    fn record_health(
        &self,
        tenant: TenantId,
        expected: Option<State>,
        recorded: &Recorded,
        change: Option<&Change>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// The changes of state after `after` (a change's `seq`; 0 for all), oldest first, at most
    /// `limit`.
    fn health_changes(
        &self,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Change>, StoreError>> + Send;
    /// The tenant's last `limit` changes, newest first.
    fn tenant_health_changes(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Change>, StoreError>> + Send;
}
