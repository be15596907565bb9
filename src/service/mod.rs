//! Use cases: what a request or a CLI command asks of the directory. The only caller of the
//! store; store facts become SCIM errors in one place (`error`). `http` and the CLI see the
//! [`Directory`] and nothing behind it.
//!
//! `Directory`'s methods live in the module named for the use case they serve:
//!
//! | module | use case | methods |
//! |---|---|---|
//! | `resources` | SCIM: one user or group | `create`, `get`, `replace`, `patch`, `delete` |
//! | `search` | SCIM: lists and searches | `search`, `search_all` |
//! | `bulk` | SCIM: a BulkRequest | `bulk` |
//! | `discovery` | SCIM: what the service offers | `service_provider_config`, `schemas`, `schema`, `resource_types`, `resource_type_document` |
//! | `tokens` | bearer tokens, and what one is | `tokens`, `issue_token`, `revoke_token`, `authenticate` |
//! | `tenants` | tenants | `create_tenant`, `create_tenant_with`, `tenant_page`, `delete_tenant`, `tenant`, `tenants`, `bootstrap` |
//! | `policy` | a tenant's rules | `set_policy` |
//! | `retained` | users retained by a delete under `retain`: listed, restored, purged | `retained_users`, `restore_retained`, `purge_retained` |
//! | `schemas` | a tenant's extension schemas | `add_schema`, `schemas_of`, `remove_schema`, `set_unknown_attributes` |
//! | `admins` | the application's admins | `add_admin`, `admins`, `set_team_admin`, `set_admin_password`, `remove_admin` |
//! | `invitations` | invitations of admins to set their password | `add_invited_admin`, `invite_admin`, `invitation`, `accept_invitation` |
//! | `oauth` | OAuth: Authorize, the token endpoint, clients | `check_authorize`, `sign_in`, `token`; (`oauth::clients`) `add_client`, `clients`, `rotate_client_secret`, `remove_client` |
//! | `throttle` | the sign-in throttle | `password_checks`, `prune_sign_in_attempts` |
//! | `console` | the console, on one session's tenant | `console_sign_in`, `console_session`, `console_sign_out`, `group_members`, `tenant_webhooks`, `*_tenant_*` |
//! | `activity` | the activity log and cycles | `activity`, `activity_page`, `cycles`, `record_refusal`, `count_lookup`, `flush_lookups`, `prune_activity` |
//! | `events` | SCIM events: subscriptions, the outbox, delivery | `with_events`, `requests_in_flight`, `add_webhook`, `webhooks`, `webhook`, `pause_webhook`, `remove_webhook`, `rotate_webhook_secret`, `webhook_failures`, `retry_parked`, `test_webhook`, `last_event`, `events_after`, (`events::pull`) `add_consumer`, `pull_events`, `event_claims`, `report_events`, `prune_events`, `park_paused`; (`events::dispatch`) `dispatch_events` |
//! | `operators` | the application's API: operator keys, Idempotency-Key answers | `add_operator_key`, `operator_keys`, `remove_operator_key`, `authenticate_operator`, `claim_idempotency_key`, `settle_idempotency_key`, `release_idempotency_key`, `forget_answers` |
//! | `setup` | self-serve setup: setup links and what their page does and shows | `create_setup_link`, `setup_links`, `revoke_setup_link`, `setup_access`, `setup_token`, `setup_team_admin`, `setup_accounts`, `register_ignored`, `note_connected`, `setup_progress` |
//! | `health` | tenants' provisioning health: checked, recorded, listed | `health`, `health_settings`, `check_health`, `check_all_health`, `watch_health`, `tenant_health`, `health_page`, `all_health`, `health_history`, `health_changes` |
//! | `operator_accounts` | operator accounts and their sign-in to the operator page | `add_operator_account`, `operator_accounts`, `set_operator_account_password`, `remove_operator_account`, `operator_sign_in`, `operator_session`, `operator_sign_out` |
//! | `operator_page` | every tenant as the operator page shows it | `operator_overview` |
//! | `notify` | alerts of changes of health: where they go, the notifier | `with_notify`, `notify_addresses`, `set_notify_addresses`, `set_admin_notify`, `admin_notify`, `notifications`, `notify_once`, `send_notifications` |
//! | `audit` | the audit trail of administration | `acting`, `actor`, `audit`, `prune_audit` |
//! | this module | building the directory, its clock, its health | `new`, `with_*`, `clock`, `now`, `ready`, `report_pool`, `caches_tokens` |

mod activity;
mod admins;
mod audit;
mod bulk;
pub mod console;
mod discovery;
pub mod entra_jwt;
mod error;
pub mod events;
pub mod health;
pub mod invitations;
mod members;
pub mod notify;
pub mod oauth;
pub mod operator_accounts;
pub mod operator_page;
pub mod operators;
mod outbound;
mod policy;
mod renames;
mod resources;
mod retained;
mod schemas;
mod search;
pub mod setup;
mod tenants;
pub mod throttle;
mod tokens;
mod urls;
mod view;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::audit::Actor;
use crate::domain::clock::Clock;
pub use crate::domain::clock::now;
use crate::scim::schema::Registry;
use crate::store::{AnyStore, Store};
pub use admins::MIN_PASSWORD_CHARS;
pub use error::{Error, Unavailable};
pub use health::HealthSettings;
pub use oauth::{ENTRA_REDIRECT_URI, IssuedClient};
pub use policy::PolicyChange;
pub use schemas::{MAX_SCHEMAS, MAX_UNIQUE_ATTRIBUTES, RegisteredSchema};
pub use tokens::{BOOTSTRAP_TENANT, IssuedToken, TOKEN_PREFIX, TokenCheck, hash_token};
pub use view::{Answer, Condition, Context, Page, Shown};

/// The directory: the store plus the schema registry that validates what goes in.
#[derive(Debug, Clone)]
pub struct Directory {
    store: AnyStore,
    registry: Arc<Registry>,
    /// The most members a page of groups shows (`SCIMD_MAX_MEMBERS_PER_PAGE`).
    max_members_per_page: u64,
    oauth: oauth::OAuthSettings,
    /// Verifies the tokens Entra signs for tenants that accept them.
    entra: Option<Arc<entra_jwt::EntraKeys>>,
    /// Lookups counted in this process, not yet in the store.
    lookups: Arc<activity::LookupCounts>,
    /// The largest request body (`SCIMD_MAX_BODY_BYTES`), advertised as bulk.maxPayloadSize.
    max_payload: usize,
    /// SCIM events: settings, the delivery client, the commit signal.
    events: Arc<events::Events>,
    /// The registries of tenants with extension schemas of their own.
    schemas: Arc<schemas::SchemaCache>,
    /// What time it is for every use case (tests set it).
    clock: Clock,
    /// Who the changes this directory makes are recorded as (`acting`).
    actor: Arc<Actor>,
    /// The tenants this process has seen a request of (the first is noted in the store).
    known_connected: Arc<setup::KnownConnected>,
    /// How health is checked.
    health: health::HealthSettings,
    /// Where alerts go, and the notifier's lease owner.
    notify: Arc<notify::Notifier>,
}

impl Directory {
    pub fn new(store: AnyStore, registry: Arc<Registry>, max_members_per_page: u64) -> Self {
        Self {
            store,
            registry,
            max_members_per_page,
            oauth: Default::default(),
            entra: None,
            lookups: Default::default(),
            max_payload: 1_048_576,
            events: Default::default(),
            schemas: Default::default(),
            clock: Clock::default(),
            actor: Arc::new(Actor::cli()),
            known_connected: Default::default(),
            health: Default::default(),
            notify: Default::default(),
        }
    }

    /// The clock every use case reads; a test sets or moves it instead of sleeping.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Now, by [`Directory::clock`], to the millisecond.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Accept Entra-signed tokens, verified with the keys these fetch, for the tenants that
    /// name an Entra tenant.
    pub fn with_entra_keys(mut self, keys: entra_jwt::EntraKeys) -> Self {
        self.entra = Some(Arc::new(keys.with_clock(self.clock.clone())));
        self
    }

    /// How tenants' health is checked.
    pub fn with_health(mut self, settings: health::HealthSettings) -> Self {
        self.health = settings;
        self
    }

    /// The largest request body scimd accepts.
    pub fn with_max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }

    /// The lifetime of the access tokens the token endpoint issues.
    pub fn with_access_token_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.oauth.access_ttl = ttl;
        self
    }

    /// The absolute lifetime of OAuth refresh-token families.
    pub fn with_refresh_max_age(mut self, max_age: std::time::Duration) -> Self {
        self.oauth.refresh_max_age = max_age;
        self
    }

    /// Whether the database answers (`/readyz`).
    pub async fn ready(&self) -> Result<(), Error> {
        Ok(self.store.ping().await?)
    }

    /// Reports the store's pool as gauges.
    pub fn report_pool(&self) {
        let (open, idle) = self.store.pool_stats();
        metrics::gauge!("scimd_store_pool_connections", "state" => "open").set(f64::from(open));
        metrics::gauge!("scimd_store_pool_connections", "state" => "idle").set(idle as f64);
    }

    /// Whether valid tokens are served from this process's cache: on PostgreSQL while its
    /// invalidation feed is connected, never on SQLite.
    pub fn caches_tokens(&self) -> bool {
        self.store.caches_tokens()
    }
}
