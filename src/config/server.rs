//! [`Config`]: every setting of `scimd serve` (and of `scimd::build_state`), under headings by
//! what they are about.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

use super::{Address, Database, Delivery, Secret, access_token_ttl, duration};
use crate::service::entra_jwt::{self, DEFAULT_METADATA_URL};

/// Members a page of groups shows at most, unless SCIMD_MAX_MEMBERS_PER_PAGE says otherwise.
pub const DEFAULT_MAX_MEMBERS_PER_PAGE: u64 = 10_000;

/// The server's settings. A parser of its own, so that tests and benchmarks build a server's
/// configuration as `scimd serve` would (`Config::parse_from(["scimd", "--database-url", …])`).
#[derive(Debug, Clone, Parser)]
pub struct Config {
    #[command(flatten)]
    pub address: Address,
    /// Proxies whose X-Forwarded-For, -Proto and -Host are believed: comma-separated addresses
    /// or networks (10.0.0.0/8,fd00::/8); from anyone else these headers are ignored.
    #[arg(
        long,
        env = "SCIMD_TRUSTED_PROXIES",
        value_name = "NETWORKS",
        value_delimiter = ',',
        value_parser = crate::http::client::network,
        help_heading = "Address"
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// HTTPS on the main listener.
    #[command(flatten)]
    pub tls: super::Tls,
    #[command(flatten)]
    pub database: Database,
    /// Largest accepted request body in bytes (413 beyond it).
    #[arg(
        long,
        env = "SCIMD_MAX_BODY_BYTES",
        value_name = "BYTES",
        default_value_t = 1024 * 1024,
        help_heading = "Requests"
    )]
    pub max_body_bytes: usize,
    /// How long a client may take to send a request's headers, counted on a kept-alive
    /// connection from the end of its previous request; then the connection is closed.
    #[arg(
        long,
        env = "SCIMD_HEADER_TIMEOUT",
        value_name = "DURATION",
        default_value = "30s",
        value_parser = duration,
        help_heading = "Requests"
    )]
    pub header_timeout: Duration,
    /// How long a request may take; then it is answered 503 with Retry-After and its work is
    /// rolled back.
    #[arg(
        long,
        env = "SCIMD_REQUEST_TIMEOUT",
        value_name = "DURATION",
        default_value = "30s",
        value_parser = duration,
        help_heading = "Requests"
    )]
    pub request_timeout: Duration,
    /// Requests served at once; more are answered 503 with Retry-After at once, not queued.
    #[arg(
        long,
        env = "SCIMD_MAX_CONCURRENT_REQUESTS",
        value_name = "N",
        default_value_t = 128,
        value_parser = clap::value_parser!(u32).range(1..),
        help_heading = "Requests"
    )]
    pub max_concurrent_requests: u32,
    /// SCIM requests served at once, of every tenant; more wait, and a freed slot goes to the
    /// tenants with requests waiting in turn. Unset: SCIMD_DATABASE_MAX_CONNECTIONS.
    #[arg(
        long,
        env = "SCIMD_ADMISSION_SLOTS",
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..),
        help_heading = "Requests"
    )]
    pub admission_slots: Option<u32>,
    /// SCIM requests one tenant may have served or waiting at once; more are answered 429
    /// with Retry-After.
    #[arg(
        long,
        env = "SCIMD_TENANT_MAX_IN_FLIGHT",
        value_name = "N",
        default_value_t = 32,
        value_parser = clap::value_parser!(u32).range(1..),
        help_heading = "Requests"
    )]
    pub tenant_max_in_flight: u32,
    /// Members a page of groups shows at most; a page whose groups hold more is cut short
    /// (fewer groups, at least one).
    #[arg(
        long,
        env = "SCIMD_MAX_MEMBERS_PER_PAGE",
        value_name = "N",
        default_value_t = DEFAULT_MAX_MEMBERS_PER_PAGE,
        value_parser = clap::value_parser!(u64).range(1..),
        help_heading = "Requests"
    )]
    pub max_members_per_page: u64,
    /// A token made valid for tenant `default` at start-up (created if missing), for docker
    /// compose and tests; at least 16 characters.
    #[arg(
        long,
        env = "SCIMD_BOOTSTRAP_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true,
        help_heading = "Connecting Entra"
    )]
    pub bootstrap_token: Option<Secret>,
    /// How long an OAuth access token lasts (`expires_in`): 1h to 6h, as Microsoft's gallery
    /// validation asks.
    #[arg(
        long,
        env = "SCIMD_OAUTH_ACCESS_TOKEN_TTL",
        value_name = "DURATION",
        default_value = "1h",
        value_parser = access_token_ttl,
        help_heading = "Connecting Entra"
    )]
    pub oauth_access_token_ttl: Duration,
    /// How long an OAuth refresh-token family lives at most, however often it rotates; then
    /// the admin authorizes again.
    #[arg(
        long,
        env = "SCIMD_OAUTH_REFRESH_MAX_AGE",
        value_name = "DURATION",
        default_value = "90d",
        value_parser = duration,
        help_heading = "Connecting Entra"
    )]
    pub oauth_refresh_max_age: Duration,
    /// Where an Entra tenant's OpenID configuration is, `{tenant}` standing for its id: its
    /// keys sign the tokens Entra sends when "Secret Token" is left blank.
    #[arg(
        long,
        env = "SCIMD_ENTRA_METADATA_URL",
        value_name = "URL",
        default_value = DEFAULT_METADATA_URL,
        value_parser = metadata_url,
        help_heading = "Connecting Entra"
    )]
    pub entra_metadata_url: String,
    /// How long the activity log keeps its rows.
    #[arg(
        long,
        env = "SCIMD_ACTIVITY_RETENTION",
        value_name = "DURATION",
        default_value = "30d",
        value_parser = duration,
        help_heading = "Activity"
    )]
    pub activity_retention: Duration,
    /// The health check (and the cycle gap it reads cycles with).
    #[command(flatten)]
    pub health: super::AlertThresholds,
    /// How often every tenant's provisioning health is checked (and alerted on a change).
    #[arg(
        long,
        env = "SCIMD_HEALTH_INTERVAL",
        value_name = "DURATION",
        default_value = "15s",
        value_parser = super::health::interval,
        help_heading = "Health and alerts"
    )]
    pub health_interval: Duration,
    /// Where tenants' changes of health are sent.
    #[command(flatten)]
    pub notify: super::Notify,
    /// How long the audit trail of administration keeps its entries.
    #[arg(
        long,
        env = "SCIMD_AUDIT_RETENTION",
        value_name = "DURATION",
        default_value = "365d",
        value_parser = duration,
        help_heading = "Application API"
    )]
    pub audit_retention: Duration,
    /// Requests per second one operator key may make at `/api/v1` (a burst of twice as many
    /// is allowed), on each replica; 0 for no limit.
    #[arg(
        long,
        env = "SCIMD_API_RATE_LIMIT",
        value_name = "N",
        default_value_t = 50,
        help_heading = "Application API"
    )]
    pub api_rate_limit: u32,
    /// How long an event is retried while its receiver fails; then it is parked.
    #[arg(
        long,
        env = "SCIMD_EVENTS_RETRY_FOR",
        value_name = "DURATION",
        default_value = "3d",
        value_parser = duration,
        help_heading = "Events"
    )]
    pub events_retry_for: Duration,
    /// How long delivered events are kept in the outbox (for `scimd events tail`).
    #[arg(
        long,
        env = "SCIMD_EVENTS_RETENTION",
        value_name = "DURATION",
        default_value = "7d",
        value_parser = duration,
        help_heading = "Events"
    )]
    pub events_retention: Duration,
    #[command(flatten)]
    pub delivery: Delivery,
    /// Serve `/metrics` on this address (e.g. 127.0.0.1:9090), without authentication.
    #[arg(
        long,
        env = "SCIMD_METRICS_LISTEN",
        value_name = "ADDRESS",
        help_heading = "Metrics"
    )]
    pub metrics_listen: Option<SocketAddr>,
    /// A bearer token (at least 16 characters) that may read `/metrics` on the main address.
    #[arg(
        long,
        env = "SCIMD_METRICS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true,
        value_parser = long_secret,
        help_heading = "Metrics"
    )]
    pub metrics_token: Option<Secret>,
}

impl Config {
    /// The root URL scimd is reached at (see [`Address::root_url`]), `https://` when the main
    /// listener serves HTTPS.
    pub fn root_url(&self) -> String {
        self.address.root_url_with(self.tls.enabled())
    }

    /// The SCIM requests served at once: SCIMD_ADMISSION_SLOTS, else one per database
    /// connection, so that an admitted request never queues for a connection behind requests
    /// of other tenants (`cargo bench --bench fairness` with twice as many slots: a quiet
    /// tenant's lookups took 21 ms at p50 instead of 3 ms, and the flood was no faster).
    pub fn admission_slots(&self) -> usize {
        self.admission_slots.map_or_else(
            || self.database.database_max_connections.max(1) as usize,
            |n| n as usize,
        )
    }
}

/// A secret of at least 16 characters.
fn long_secret(text: &str) -> Result<Secret, String> {
    if text.trim().chars().count() < 16 {
        return Err("use at least 16 characters".into());
    }
    Ok(Secret(text.trim().to_owned()))
}

/// An Entra metadata URL template: an http(s) URL naming the tenant with `{tenant}`.
fn metadata_url(text: &str) -> Result<String, String> {
    entra_jwt::check_metadata_url(text)
        .map(|()| text.to_owned())
        .map_err(|e| e.to_string())
}
