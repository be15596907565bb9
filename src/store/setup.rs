//! The store's part of self-serve setup: setup links (kept as the SHA-256 of their token), when
//! a tenant was first reached with one of its credentials, and the activity log's refusals and
//! ignored attributes of a time range, grouped for the setup page.

use std::future::Future;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::TenantId;
use crate::domain::setup::{Connected, RefusalGroup, SetupLink};
use crate::store::StoreError;

/// Setup links and the setup page's readings.
pub trait SetupStore {
    /// Stores a new link of `tenant`.
    fn put_setup_link(
        &self,
        link: &SetupLink,
        token_hash: &[u8],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The tenant's links, newest first, at most `limit`, those older than `before` (the
    /// keyset: creation time and id).
    fn setup_links(
        &self,
        tenant: TenantId,
        before: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<SetupLink>, StoreError>> + Send;
    /// The link of this token, expired or revoked too; `None` when there is none.
    fn setup_link_by_token(
        &self,
        token_hash: &[u8],
    ) -> impl Future<Output = Result<Option<SetupLink>, StoreError>> + Send;
    /// Revokes the tenant's link `id` (a revoked link stays revoked at its first time); the
    /// link, or `None` when the tenant has no such link.
    fn revoke_setup_link(
        &self,
        tenant: TenantId,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<SetupLink>, StoreError>> + Send;
    /// Notes that the link was used at `now`.
    fn touch_setup_link(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Notes the tenant's first request with one of its credentials, unless one is noted.
    fn note_connected(
        &self,
        tenant: TenantId,
        connected: &Connected,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The tenant's first request with one of its credentials, if any.
    fn connected(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Option<Connected>, StoreError>> + Send;
    /// The tenant's refused requests from `since` until before `until`, counted by status,
    /// `scimType`, note and resource type, the most frequent first (at most 50 groups).
    fn refusal_groups(
        &self,
        tenant: TenantId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<RefusalGroup>, StoreError>> + Send;
    /// The notes of attributes in no schema from `since` until before `until`, each with how
    /// many requests had it (at most 50 notes).
    fn ignored_notes(
        &self,
        tenant: TenantId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<(String, u64)>, StoreError>> + Send;
    /// The time of the tenant's last change scimd accepted at or after `since`.
    fn last_accepted_change(
        &self,
        tenant: TenantId,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>, StoreError>> + Send;
    /// The tenant's requests refused as unauthenticated (401) at or after `since`: how many,
    /// and when the last was.
    fn credential_refusals(
        &self,
        tenant: TenantId,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<(u64, Option<DateTime<Utc>>), StoreError>> + Send;
}
