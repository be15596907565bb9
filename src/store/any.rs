//! The store the database URL names — PostgreSQL or SQLite, as [`SqlStore`] over each dialect —
//! and every store trait implemented for it by handing each method to that backend.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::*;
use crate::domain::activity::{Activity, ActivityFilter, MinuteCount};
use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::events::{
    Event, FailedDelivery, Kinds, NewSubscription, Pending, Receiver, Subscription,
};
use crate::domain::health::{Change, Recorded, State};
use crate::domain::notify::{Channel, Notification};
use crate::domain::oauth::{
    Admin, CodeGrant, Invitation, OAuthClient, Rotation, TokenGrant, TokenRecord,
};
use crate::domain::operator::{OperatorAccount, OperatorKey, Remembered};
use crate::domain::retained::Retained;
use crate::domain::setup::{Connected, RefusalGroup, SetupLink};
use crate::domain::{
    Deprovisioning, Limits, Passwords, Precedence, SoftDeleteRenames, Tenant, TenantId, TokenInfo,
    UnknownAttributes,
};
use crate::scim::list::ListQuery;
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::ResourceKind;
use crate::store::events::Failure;
use crate::store::schemas::{StoredSchema, UniqueIndex};

/// The backend the database URL names.
#[derive(Debug, Clone)]
pub enum AnyStore {
    Postgres(postgres::PgStore),
    Sqlite(sqlite::SqliteStore),
}

impl AnyStore {
    /// Connects to the database at `url`, creating the database if it does not exist.
    pub async fn open(url: &str, options: Options) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(AnyStore::Postgres(SqlStore::open(url, options).await?));
        }
        if url.starts_with("sqlite:") {
            return Ok(AnyStore::Sqlite(SqlStore::open(url, options).await?));
        }
        Err(StoreError::InvalidUrl {
            url: redact_url(url),
            reason: "unsupported scheme: use postgres://… or sqlite://…".into(),
        })
    }
}

/// The URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Implements a store trait for [`AnyStore`] by handing each method to the chosen backend.
macro_rules! delegate {
    ($trait:ident {
        $(async $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*
        $(fn $sync:ident() -> $sync_ret:ty;)*
    }) => {
        impl $trait for AnyStore {
            $(
                async fn $name(&self, $($arg: $ty),*) -> $ret {
                    match self {
                        AnyStore::Postgres(s) => s.$name($($arg),*).await,
                        AnyStore::Sqlite(s) => s.$name($($arg),*).await,
                    }
                }
            )*
            $(
                fn $sync(&self) -> $sync_ret {
                    match self {
                        AnyStore::Postgres(s) => s.$sync(),
                        AnyStore::Sqlite(s) => s.$sync(),
                    }
                }
            )*
        }
    };
}

delegate!(Store {
    async ping() -> Result<(), StoreError>;
    async migrate() -> Result<(), StoreError>;
    fn caches_tokens() -> bool;
    fn pool_stats() -> (u32, usize);
});

delegate!(Tenants {
    async create_tenant(name: &str) -> Result<Tenant, StoreError>;
    async ensure_tenant(name: &str) -> Result<Tenant, StoreError>;
    async tenants() -> Result<Vec<Tenant>, StoreError>;
    async tenant_page(prefix: Option<&str>, after: Option<&str>, limit: u32) -> Result<Vec<Tenant>, StoreError>;
    async delete_tenant(tenant: TenantId, batch: u32) -> Result<(), StoreError>;
    async tenant(name: &str) -> Result<Tenant, StoreError>;
    async tenant_by_id(id: TenantId) -> Result<Tenant, StoreError>;
    async set_matching(tenant: TenantId, matching: Precedence) -> Result<(), StoreError>;
    async set_roles(tenant: TenantId, allowed: Option<&[String]>, require: bool) -> Result<(), StoreError>;
    async set_passwords(tenant: TenantId, rule: Passwords) -> Result<(), StoreError>;
    async set_soft_delete_renames(tenant: TenantId, rule: SoftDeleteRenames) -> Result<(), StoreError>;
    async set_deprovisioning(tenant: TenantId, rule: Deprovisioning) -> Result<(), StoreError>;
    async set_limits(tenant: TenantId, limits: Limits) -> Result<(), StoreError>;
    async set_entra_tenant(tenant: TenantId, entra: Option<Uuid>) -> Result<(), StoreError>;
    async tenant_by_entra(entra: Uuid) -> Result<Option<Tenant>, StoreError>;
});

delegate!(Tokens {
    async put_token(tenant: TenantId, label: Option<&str>, hash: &[u8]) -> Result<TokenInfo, StoreError>;
    async tokens(tenant: TenantId) -> Result<Vec<TokenInfo>, StoreError>;
    async revoke_token(id: Uuid) -> Result<TokenInfo, StoreError>;
    async token_tenant(hash: &[u8]) -> Result<Option<TokenRecord>, StoreError>;
});

delegate!(Resources {
    async create(tenant: TenantId, write: Write<'_>) -> Result<StoredResource, StoreError>;
    async get(tenant: TenantId, kind: ResourceKind, id: ResourceId) -> Result<StoredResource, StoreError>;
    async replace(tenant: TenantId, write: Write<'_>, expected: Version) -> Result<StoredResource, StoreError>;
    async delete(tenant: TenantId, removal: Removal<'_>) -> Result<(), StoreError>;
    async list(tenant: TenantId, kind: ResourceKind, query: &ListQuery) -> Result<Listing, StoreError>;
});

delegate!(Groups {
    async update_group(tenant: TenantId, change: GroupChange<'_>) -> Result<StoredResource, StoreError>;
    async members(tenant: TenantId, groups: &[ResourceId]) -> Result<HashMap<ResourceId, Vec<Member>>, StoreError>;
    async member_page(tenant: TenantId, group: ResourceId, offset: u64, limit: u32) -> Result<Vec<Member>, StoreError>;
    async member_counts(tenant: TenantId, groups: &[ResourceId]) -> Result<HashMap<ResourceId, u64>, StoreError>;
    async groups_of(tenant: TenantId, members: &[ResourceId]) -> Result<HashMap<ResourceId, Vec<GroupRef>>, StoreError>;
});

delegate!(ActivityStore {
    async record(activity: &Activity) -> Result<(), StoreError>;
    async activity(tenant: TenantId, filter: &ActivityFilter) -> Result<Vec<Activity>, StoreError>;
    async activity_page(tenant: TenantId, filter: &ActivityFilter, before: Option<(DateTime<Utc>, Uuid)>) -> Result<Vec<Activity>, StoreError>;
    async minute_counts(tenant: TenantId, since: DateTime<Utc>) -> Result<Vec<MinuteCount>, StoreError>;
    async lookup_counts(tenant: TenantId, since: DateTime<Utc>) -> Result<Vec<(DateTime<Utc>, u64)>, StoreError>;
    async add_lookups(counts: &[(TenantId, DateTime<Utc>, u64)]) -> Result<(), StoreError>;
    async prune_activity(before: DateTime<Utc>, batch: u32) -> Result<u64, StoreError>;
});

delegate!(EventStore {
    async add_subscription(new: &NewSubscription, now: DateTime<Utc>) -> Result<Subscription, StoreError>;
    async subscriptions(tenant: Option<TenantId>) -> Result<Vec<Subscription>, StoreError>;
    async subscription(id: Uuid) -> Result<Subscription, StoreError>;
    async receiver(id: Uuid) -> Result<Receiver, StoreError>;
    async set_paused(id: Uuid, paused: bool) -> Result<(), StoreError>;
    async set_secret(id: Uuid, secret: &str) -> Result<(), StoreError>;
    async remove_subscription(id: Uuid) -> Result<(), StoreError>;
    async claim(owner: &str, now: DateTime<Utc>, until: DateTime<Utc>, limit: u32) -> Result<Vec<Receiver>, StoreError>;
    async renew(id: Uuid, owner: &str, until: DateTime<Utc>) -> Result<bool, StoreError>;
    async release(id: Uuid, owner: &str, retry_at: Option<DateTime<Utc>>) -> Result<(), StoreError>;
    async pending(id: Uuid, limit: u32) -> Result<Vec<Pending>, StoreError>;
    async delivered(id: Uuid, seqs: &[i64], at: DateTime<Utc>) -> Result<(), StoreError>;
    async failed(id: Uuid, failure: &Failure) -> Result<(), StoreError>;
    async failures(id: Uuid, limit: u32) -> Result<Vec<FailedDelivery>, StoreError>;
    async requeue(id: Uuid) -> Result<u64, StoreError>;
    async events_after(tenant: TenantId, after: i64, limit: u32) -> Result<Vec<Event>, StoreError>;
    async last_event(tenant: TenantId) -> Result<i64, StoreError>;
    async pending_count() -> Result<u64, StoreError>;
    async prune_events(before: DateTime<Utc>, batch: u32) -> Result<u64, StoreError>;
    async park_paused(before: DateTime<Utc>, now: DateTime<Utc>, error: &str, batch: u32) -> Result<u64, StoreError>;
    async stamp_events(tenant: TenantId, batch: u32) -> Result<u64, StoreError>;
    async stamped_events(tenant: TenantId, kinds: Kinds, after: i64, limit: u32) -> Result<Vec<(i64, Event)>, StoreError>;
    async acknowledge(id: Uuid, position: i64, now: DateTime<Utc>) -> Result<u64, StoreError>;
});

delegate!(SchemaStore {
    async tenant_schemas(tenant: TenantId) -> Result<Vec<StoredSchema>, StoreError>;
    async building_schema(tenant: TenantId, urn: &str) -> Result<Option<StoredSchema>, StoreError>;
    async add_tenant_schema(tenant: TenantId, urn: &str, schema: &StoredSchema, unique: &[UniqueIndex]) -> Result<(), StoreError>;
    async remove_tenant_schema(tenant: TenantId, urn: &str, unique: &[UniqueIndex]) -> Result<bool, StoreError>;
    async set_unknown_attributes(tenant: TenantId, rule: UnknownAttributes) -> Result<(), StoreError>;
});

delegate!(AttemptStore {
    async count_attempt(keys: &[String], window_after: DateTime<Utc>, now: DateTime<Utc>) -> Result<Vec<Attempts>, StoreError>;
    async forget_attempts(key: &str) -> Result<(), StoreError>;
    async prune_attempts(before: DateTime<Utc>) -> Result<u64, StoreError>;
});

delegate!(InvitationStore {
    async put_invitation(token_hash: &[u8], admin: &Admin, now: DateTime<Utc>, expires: DateTime<Utc>) -> Result<(), StoreError>;
    async invitation(token_hash: &[u8]) -> Result<Option<Invitation>, StoreError>;
    async use_invitation(token_hash: &[u8], now: DateTime<Utc>) -> Result<Option<Invitation>, StoreError>;
});

delegate!(SetupStore {
    async put_setup_link(link: &SetupLink, token_hash: &[u8]) -> Result<(), StoreError>;
    async setup_links(tenant: TenantId, before: Option<(DateTime<Utc>, Uuid)>, limit: u32) -> Result<Vec<SetupLink>, StoreError>;
    async setup_link_by_token(token_hash: &[u8]) -> Result<Option<SetupLink>, StoreError>;
    async revoke_setup_link(tenant: TenantId, id: Uuid, now: DateTime<Utc>) -> Result<Option<SetupLink>, StoreError>;
    async touch_setup_link(id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError>;
    async note_connected(tenant: TenantId, connected: &Connected) -> Result<(), StoreError>;
    async connected(tenant: TenantId) -> Result<Option<Connected>, StoreError>;
    async refusal_groups(tenant: TenantId, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<RefusalGroup>, StoreError>;
    async ignored_notes(tenant: TenantId, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<(String, u64)>, StoreError>;
    async last_accepted_change(tenant: TenantId, since: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError>;
    async credential_refusals(tenant: TenantId, since: DateTime<Utc>) -> Result<(u64, Option<DateTime<Utc>>), StoreError>;
});

delegate!(HealthStore {
    async health(tenant: TenantId) -> Result<Option<Recorded>, StoreError>;
    async health_page(after: Option<(i64, &str)>, limit: u32) -> Result<Vec<TenantHealth>, StoreError>;
    async record_health(tenant: TenantId, expected: Option<State>, recorded: &Recorded, change: Option<&Change>) -> Result<bool, StoreError>;
    async health_changes(after: i64, limit: u32) -> Result<Vec<Change>, StoreError>;
    async tenant_health_changes(tenant: TenantId, limit: u32) -> Result<Vec<Change>, StoreError>;
});

delegate!(NotifyStore {
    async notify_addresses(tenant: TenantId) -> Result<Vec<String>, StoreError>;
    async set_notify_addresses(tenant: TenantId, addresses: &[String]) -> Result<(), StoreError>;
    async set_admin_notify(tenant: TenantId, username: &str, email: Option<&str>) -> Result<(), StoreError>;
    async admin_notify(tenant: TenantId) -> Result<Vec<(String, String, bool)>, StoreError>;
    async unfanned(limit: u32) -> Result<Vec<Unfanned>, StoreError>;
    async fan_out(seq: i64, rows: &[(Channel, String)], now: DateTime<Utc>) -> Result<(), StoreError>;
    async claim_notifications(owner: &str, now: DateTime<Utc>, until: DateTime<Utc>, limit: u32) -> Result<Vec<Notification>, StoreError>;
    async settle_notification(id: Uuid, owner: &str, at: DateTime<Utc>, failure: Option<(&str, Option<DateTime<Utc>>)>) -> Result<bool, StoreError>;
    async pending_notifications() -> Result<u64, StoreError>;
    async notifications(tenant: TenantId, limit: u32) -> Result<Vec<Notification>, StoreError>;
});

delegate!(SessionStore {
    async put_session(session_hash: &[u8], admin: &Admin, csrf: &str, now: DateTime<Utc>) -> Result<(), StoreError>;
    async session(session_hash: &[u8], idle_since: DateTime<Utc>, opened_since: DateTime<Utc>, now: DateTime<Utc>) -> Result<Option<(Admin, Tenant, String)>, StoreError>;
    async delete_session(session_hash: &[u8]) -> Result<(), StoreError>;
});

delegate!(OAuthStore {
    async add_admin(tenant: TenantId, username: &str, password_hash: &str, team_admin: bool) -> Result<Admin, StoreError>;
    async admins(tenant: TenantId) -> Result<Vec<Admin>, StoreError>;
    async admin_credentials(tenant: TenantId, username: &str) -> Result<Option<(Admin, String)>, StoreError>;
    async update_admin(tenant: TenantId, username: &str, team_admin: Option<bool>, password_hash: Option<&str>) -> Result<Admin, StoreError>;
    async remove_admin(tenant: TenantId, username: &str) -> Result<(), StoreError>;
    async add_client(tenant: TenantId, client_id: &str, secret_hash: &[u8], redirect_uris: &[String]) -> Result<OAuthClient, StoreError>;
    async clients(tenant: TenantId) -> Result<Vec<OAuthClient>, StoreError>;
    async client(client_id: &str) -> Result<Option<OAuthClient>, StoreError>;
    async set_client_secret(client_id: &str, secret_hash: &[u8]) -> Result<OAuthClient, StoreError>;
    async remove_client(client_id: &str) -> Result<(), StoreError>;
    async put_code(code_hash: &[u8], grant: &CodeGrant) -> Result<(), StoreError>;
    async take_code(code_hash: &[u8], now: DateTime<Utc>) -> Result<Option<(CodeGrant, bool)>, StoreError>;
    async store_tokens(grant: &TokenGrant, now: DateTime<Utc>) -> Result<(), StoreError>;
    async rotate_refresh(old: &[u8], client: Uuid, next: &TokenGrant, now: DateTime<Utc>, max_age: std::time::Duration) -> Result<Rotation, StoreError>;
    async revoke_family(family: Uuid, now: DateTime<Utc>) -> Result<(), StoreError>;
});

delegate!(OperatorAccountStore {
    async add_operator_account(username: &str, password_hash: &str, now: DateTime<Utc>) -> Result<OperatorAccount, StoreError>;
    async operator_accounts() -> Result<Vec<OperatorAccount>, StoreError>;
    async operator_account_credentials(username: &str) -> Result<Option<(OperatorAccount, String)>, StoreError>;
    async set_operator_account_password(username: &str, password_hash: &str) -> Result<OperatorAccount, StoreError>;
    async remove_operator_account(username: &str) -> Result<OperatorAccount, StoreError>;
    async put_operator_session(session_hash: &[u8], account: &OperatorAccount, csrf: &str, now: DateTime<Utc>) -> Result<(), StoreError>;
    async operator_session(session_hash: &[u8], idle_since: DateTime<Utc>, opened_since: DateTime<Utc>, now: DateTime<Utc>) -> Result<Option<(OperatorAccount, String)>, StoreError>;
    async delete_operator_session(session_hash: &[u8]) -> Result<(), StoreError>;
});

delegate!(OperatorStore {
    async add_operator_key(name: &str, read_only: bool, hash: &[u8], now: DateTime<Utc>) -> Result<OperatorKey, StoreError>;
    async operator_keys() -> Result<Vec<OperatorKey>, StoreError>;
    async operator_key(hash: &[u8], now: DateTime<Utc>) -> Result<Option<(OperatorKey, Vec<u8>)>, StoreError>;
    async remove_operator_key(id_or_name: &str) -> Result<OperatorKey, StoreError>;
    async remembered(key: Uuid, idempotency_key: &str) -> Result<Option<Remembered>, StoreError>;
    async remember(key: Uuid, idempotency_key: &str, answer: &Remembered) -> Result<bool, StoreError>;
    async settle(key: Uuid, idempotency_key: &str, answer: &Remembered) -> Result<(), StoreError>;
    async forget_answer(key: Uuid, idempotency_key: &str) -> Result<(), StoreError>;
    async forget_answers(before: DateTime<Utc>) -> Result<u64, StoreError>;
    async record_audit(entry: &AuditEntry) -> Result<(), StoreError>;
    async audit(filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError>;
    async prune_audit(before: DateTime<Utc>, batch: u32) -> Result<u64, StoreError>;
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            redact_url("postgres://scimd:s3cret@db:5432/scimd"),
            "postgres://scimd:***@db:5432/scimd"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/scimd"),
            "postgres://postgres@127.0.0.1/scimd"
        );
    }
}

delegate!(RetainedStore {
    async retain(tenant: TenantId, removal: Removal<'_>, deleted_at: DateTime<Utc>, purge_after: DateTime<Utc>) -> Result<(), StoreError>;
    async retained_page(tenant: TenantId, after: Option<(DateTime<Utc>, Uuid)>, limit: u32) -> Result<Vec<Retained>, StoreError>;
    async retained(tenant: TenantId, id: Uuid) -> Result<Option<Retained>, StoreError>;
    async retained_by_external_id(tenant: TenantId, kind: ResourceKind, external_id: &str) -> Result<Option<Retained>, StoreError>;
    async deactivated_by_external_id(tenant: TenantId, kind: ResourceKind, external_id: &str) -> Result<Vec<StoredResource>, StoreError>;
    async restore(tenant: TenantId, write: Write<'_>, version: i64, created: DateTime<Utc>) -> Result<StoredResource, StoreError>;
    async purge_retained(now: DateTime<Utc>, batch: u32) -> Result<Vec<(TenantId, Uuid)>, StoreError>;
});
