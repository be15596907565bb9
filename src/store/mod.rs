//! Persistence. The contract every backend keeps is the [`Store`] trait and its parts
//! ([`Tenants`], [`Resources`], [`Groups`]); [`SqlStore`] keeps it once, in SQL, for every
//! [`Dialect`] (PostgreSQL and SQLite), and [`AnyStore`] is the one the database URL names.
//! Uniqueness and versions are enforced by the database, never by a read-then-write check.

pub mod activity;
mod any;
pub mod attempts;
mod dialect;
mod error;
pub mod events;
pub mod health;
pub mod invitations;
pub mod notify;
pub mod oauth;
pub mod operator_accounts;
pub mod operators;
mod paging;
pub mod postgres;
pub mod retained;
pub mod schemas;
pub mod sessions;
pub mod setup;
mod shadow;
mod sql;
pub mod sqlite;
pub mod statement;
mod token_cache;

use std::collections::HashMap;
use std::future::Future;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::activity::Activity;
use crate::domain::oauth::TokenRecord;
use crate::domain::{
    Deprovisioning, Limits, Passwords, Precedence, SoftDeleteRenames, Tenant, TenantId, TokenInfo,
};
use crate::scim::canonical::Document;
use crate::scim::list::{CursorPosition, ListQuery};
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::ResourceKind;
pub use activity::ActivityStore;
pub use any::{AnyStore, redact_url};
pub use attempts::{AttemptStore, Attempts};
pub use dialect::Dialect;
pub use error::{Corruption, Missing, StoreError, Unique, name_attribute};
pub use events::EventStore;
pub use health::{HealthStore, TenantHealth};
pub use invitations::InvitationStore;
pub use notify::{NotifyStore, Unfanned};
pub use oauth::OAuthStore;
pub use operator_accounts::OperatorAccountStore;
pub use operators::OperatorStore;
pub use retained::RetainedStore;
pub use schemas::SchemaStore;
pub use sessions::SessionStore;
pub use setup::SetupStore;
pub use shadow::Shadow;
pub use sql::SqlStore;

/// A create or replace, as the service hands it to the store: the resource's new content and
/// the activity row that records the change. The row — and through it the change's SCIM event
/// and its deliveries — is written with the change, in its transaction or its very statement,
/// so that a change is recorded and announced exactly when it commits (README, "What Entra
/// did"). `None` for a change without an origin (the CLI, tests), which records nothing.
#[derive(Debug, Clone)]
pub struct Write<'a> {
    pub content: Content<'a>,
    pub activity: Option<&'a Activity>,
}

/// A write that records nothing: a change without an origin (the CLI's, a test's).
impl<'a> From<Content<'a>> for Write<'a> {
    fn from(content: Content<'a>) -> Self {
        Write {
            content,
            activity: None,
        }
    }
}

/// The deletion of a resource, with the activity row that records it (see [`Write`]); at
/// `expected` only, when given.
#[derive(Debug, Clone)]
pub struct Removal<'a> {
    pub kind: ResourceKind,
    pub id: ResourceId,
    pub expected: Option<Version>,
    pub activity: Option<&'a Activity>,
}

/// A change of a group's members and, with `content`, of its document, with the activity row
/// that records it (see [`Write`]); at `expected` only, when given.
#[derive(Debug, Clone)]
pub struct GroupChange<'a> {
    pub group: ResourceId,
    pub content: Option<Content<'a>>,
    pub expected: Option<Version>,
    pub changes: &'a [MemberChange],
    pub now: DateTime<Utc>,
    pub activity: Option<&'a Activity>,
}

/// What a write stores of a resource: the canonical document, its folded copy (`scim::fold`),
/// when the write happened and, for groups, the complete member list (`None`: members
/// untouched).
#[derive(Debug, Clone)]
pub struct Content<'a> {
    pub kind: ResourceKind,
    pub id: ResourceId,
    pub doc: &'a Document,
    pub folded: &'a Document,
    pub now: DateTime<Utc>,
    pub members: Option<&'a [MemberInput]>,
    /// The tenant's matching attributes, whose values the store keeps unique.
    pub matching: Precedence,
}

/// A member to add to a group: a user or group of the tenant, with the display the client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInput {
    pub id: ResourceId,
    pub display: Option<String>,
}

/// A member as read: its kind from the member itself, its display as sent or derived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: ResourceId,
    pub kind: ResourceKind,
    pub display: Option<String>,
}

/// A group a resource belongs to (`User.groups`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    pub id: ResourceId,
    pub display: Option<String>,
}

/// One change of a group's members, as a PATCH operation asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    Add(Vec<MemberInput>),
    Remove(Vec<ResourceId>),
    RemoveAll,
    Replace(Vec<MemberInput>),
}

impl MemberChange {
    /// How many members the change names.
    pub fn len(&self) -> usize {
        match self {
            MemberChange::Add(list) | MemberChange::Replace(list) => list.len(),
            MemberChange::Remove(ids) => ids.len(),
            MemberChange::RemoveAll => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One page of a listing, the number of matches in all pages, and where the next cursor page
/// starts when there is one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Listing {
    pub total: u64,
    pub resources: Vec<StoredResource>,
    pub next: Option<CursorPosition>,
    /// The users' groups, read in the page's query when `ListQuery::with_groups` asked.
    pub groups: Option<HashMap<ResourceId, Vec<GroupRef>>>,
}

/// Database settings beyond the URL.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub max_connections: u32,
    /// How long one statement may run (PostgreSQL `statement_timeout`).
    pub statement_timeout: std::time::Duration,
    /// How long a write may wait for a lock (PostgreSQL `lock_timeout`, SQLite's busy timeout).
    pub lock_timeout: std::time::Duration,
}

impl Options {
    /// `max_connections` with the default timeouts.
    pub fn with_connections(max_connections: u32) -> Self {
        Self {
            max_connections,
            statement_timeout: std::time::Duration::from_secs(10),
            lock_timeout: std::time::Duration::from_secs(5),
        }
    }
}

/// Everything scimd persists. Every resource method takes the tenant: there is no query
/// without one.
pub trait Store:
    Tenants
    + Tokens
    + Resources
    + Groups
    + OAuthStore
    + ActivityStore
    + EventStore
    + SchemaStore
    + Clone
    + Send
    + Sync
    + 'static
{
    /// Whether the database answers (for `/readyz`).
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Applies the embedded migrations.
    fn migrate(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Whether valid tokens are served from the cache (its invalidation feed is connected).
    fn caches_tokens(&self) -> bool;
    /// Open and idle connections of the pools.
    fn pool_stats(&self) -> (u32, usize);
}

/// Tenants and their rules.
pub trait Tenants {
    fn create_tenant(&self, name: &str) -> impl Future<Output = Result<Tenant, StoreError>> + Send;
    /// The tenant called `name`, created if missing.
    fn ensure_tenant(&self, name: &str) -> impl Future<Output = Result<Tenant, StoreError>> + Send;
    fn tenants(&self) -> impl Future<Output = Result<Vec<Tenant>, StoreError>> + Send;
    /// A page of tenants by name (code point order): those whose name starts with `prefix`,
    /// after `after`, at most `limit`.
    fn tenant_page(
        &self,
        prefix: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Tenant>, StoreError>> + Send;
    /// Deletes a tenant and everything of it (resources, memberships, credentials, admins,
    /// sessions, subscriptions, events, activity, schemas' rows), resources in batches so that
    /// no statement runs long; announced, so that every replica forgets its tokens. Its
    /// extension indexes are the caller's to drop first.
    fn delete_tenant(
        &self,
        tenant: TenantId,
        batch: u32,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn tenant(&self, name: &str) -> impl Future<Output = Result<Tenant, StoreError>> + Send;
    fn tenant_by_id(&self, id: TenantId)
    -> impl Future<Output = Result<Tenant, StoreError>> + Send;
    /// Sets the tenant's matching attributes, recomputing every user's keys in one
    /// transaction; fails with the conflicts of the first attribute whose values users would
    /// share (or hold several of), changing nothing.
    fn set_matching(
        &self,
        tenant: TenantId,
        matching: Precedence,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Sets what Entra's soft-delete rename of a user's name gets.
    fn set_soft_delete_renames(
        &self,
        tenant: TenantId,
        rule: SoftDeleteRenames,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Sets what a `DELETE` of a user does and whether a create restores a retained user.
    fn set_deprovisioning(
        &self,
        tenant: TenantId,
        rule: Deprovisioning,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Sets the tenant's rate and ceiling of requests in flight.
    fn set_limits(
        &self,
        tenant: TenantId,
        limits: Limits,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Sets what a user's `password` in a request gets.
    fn set_passwords(
        &self,
        tenant: TenantId,
        rule: Passwords,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Sets (or, with `None`, clears) the Entra tenant whose signed tokens the tenant accepts.
    fn set_entra_tenant(
        &self,
        tenant: TenantId,
        entra: Option<Uuid>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The tenant that accepts the tokens of Entra tenant `entra`.
    fn tenant_by_entra(
        &self,
        entra: Uuid,
    ) -> impl Future<Output = Result<Option<Tenant>, StoreError>> + Send;
    /// Sets the tenant's role rules.
    fn set_roles(
        &self,
        tenant: TenantId,
        allowed: Option<&[String]>,
        require: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Bearer tokens, stored as hashes.
pub trait Tokens {
    /// Stores a new token's hash. A hash the tenant has already is that token, as it is: a
    /// revoked token stays revoked. A hash of another tenant's token is a uniqueness conflict.
    fn put_token(
        &self,
        tenant: TenantId,
        label: Option<&str>,
        hash: &[u8],
    ) -> impl Future<Output = Result<TokenInfo, StoreError>> + Send;
    /// The tenant's tokens in the order they were issued.
    fn tokens(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Vec<TokenInfo>, StoreError>> + Send;
    fn revoke_token(&self, id: Uuid) -> impl Future<Output = Result<TokenInfo, StoreError>> + Send;
    /// The token with this hash, revoked or expired or not, with its tenant and the stored
    /// hash for a constant-time comparison.
    fn token_tenant(
        &self,
        hash: &[u8],
    ) -> impl Future<Output = Result<Option<TokenRecord>, StoreError>> + Send;
}

/// Users and groups as documents: create, read, compare-and-swap, delete, list.
pub trait Resources {
    fn create(
        &self,
        tenant: TenantId,
        write: Write<'_>,
    ) -> impl Future<Output = Result<StoredResource, StoreError>> + Send;
    fn get(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: ResourceId,
    ) -> impl Future<Output = Result<StoredResource, StoreError>> + Send;
    /// Replaces the document if the stored version is still `expected` (compare-and-swap).
    fn replace(
        &self,
        tenant: TenantId,
        write: Write<'_>,
        expected: Version,
    ) -> impl Future<Output = Result<StoredResource, StoreError>> + Send;
    /// Deletes the resource, if `expected` is given only at that version.
    fn delete(
        &self,
        tenant: TenantId,
        removal: Removal<'_>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// One page of the resources that match the query's filter, in its order (creation
    /// order when unsorted).
    fn list(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Listing, StoreError>> + Send;
}

/// Group membership, kept in its own table: changed member by member, read per page.
pub trait Groups {
    /// Changes a group's members and, with content, its document, atomically; with `expected`
    /// only at that version. A change that changes nothing keeps the version and records
    /// nothing.
    fn update_group(
        &self,
        tenant: TenantId,
        change: GroupChange<'_>,
    ) -> impl Future<Output = Result<StoredResource, StoreError>> + Send;
    /// The members of each group, in the order they were added.
    fn members(
        &self,
        tenant: TenantId,
        groups: &[ResourceId],
    ) -> impl Future<Output = Result<HashMap<ResourceId, Vec<Member>>, StoreError>> + Send;
    /// One page of a group's members, in the order they were added: `limit` from `offset`.
    fn member_page(
        &self,
        tenant: TenantId,
        group: ResourceId,
        offset: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Member>, StoreError>> + Send;
    /// How many members each of `groups` has (groups without members are left out).
    fn member_counts(
        &self,
        tenant: TenantId,
        groups: &[ResourceId],
    ) -> impl Future<Output = Result<HashMap<ResourceId, u64>, StoreError>> + Send;
    /// The groups each resource is a direct member of, by group name.
    fn groups_of(
        &self,
        tenant: TenantId,
        members: &[ResourceId],
    ) -> impl Future<Output = Result<HashMap<ResourceId, Vec<GroupRef>>, StoreError>> + Send;
}
