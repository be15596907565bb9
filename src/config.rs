//! Configuration from flags and `SCIMD_*` environment variables (every flag is both).
//! Secrets are redacted in `Debug`.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand};

mod duration;
mod events;
mod schemas;
pub use duration::{MAX_DURATION, access_token_ttl, duration};
pub use events::{EventsCommand, WebhookCommand};
pub use schemas::SchemaCommand;

use crate::domain::MatchingAttribute;
use crate::service::entra_jwt::{self, DEFAULT_METADATA_URL};
use crate::telemetry::LogFormat;

/// The file of the embedded store when no database URL is configured.
pub const DEFAULT_SQLITE_FILE: &str = "scimd.db";

/// A value that must not appear in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

/// scimd: a SCIM 2.0 provisioning service for Microsoft Entra ID.
#[derive(Debug, Parser)]
#[command(name = "scimd", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Settings shared by every command.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(
        long,
        env = "SCIMD_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,
    /// Database URL: postgres://user:password@host:port/database or sqlite://path/to/file.db;
    /// created if it does not exist. Default: the SQLite file scimd.db in SCIMD_DATA_DIR.
    #[arg(
        long,
        env = "SCIMD_DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    pub database_url: Option<Secret>,
    /// Directory of the default SQLite file (created if missing); the working directory when unset.
    #[arg(long, env = "SCIMD_DATA_DIR", global = true)]
    pub data_dir: Option<std::path::PathBuf>,
    /// Largest number of database connections in the pool.
    #[arg(
        long,
        env = "SCIMD_DATABASE_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    pub database_max_connections: u32,
    /// A token made valid for tenant `default` at start-up (created if missing), for
    /// docker compose and tests. At least 16 characters.
    #[arg(
        long,
        env = "SCIMD_BOOTSTRAP_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub bootstrap_token: Option<Secret>,
    /// The URL clients reach scimd at, e.g. https://scim.example.com; used for `Location` and
    /// `meta.location`. Derived from each request's Host header when unset.
    #[arg(long, env = "SCIMD_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Log filter, e.g. `info` or `info,scimd=debug`.
    #[arg(
        long,
        env = "SCIMD_LOG",
        default_value = "info,sqlx=warn",
        global = true
    )]
    pub log: String,
    /// Log format.
    #[arg(
        long,
        env = "SCIMD_LOG_FORMAT",
        value_enum,
        default_value = "pretty",
        global = true
    )]
    pub log_format: LogFormat,
    /// Largest accepted request body in bytes (413 beyond it).
    #[arg(long, env = "SCIMD_MAX_BODY_BYTES", default_value_t = 1024 * 1024, global = true)]
    pub max_body_bytes: usize,
    /// Seconds a client may take to send a request's headers, counted from the end of its
    /// previous request on a kept-alive connection; then the connection is closed.
    #[arg(long, env = "SCIMD_HEADER_TIMEOUT", default_value_t = 30, value_parser = seconds, global = true)]
    pub header_timeout: u64,
    /// Seconds a request may take; then it is answered 503 with Retry-After and its work is
    /// rolled back.
    #[arg(long, env = "SCIMD_REQUEST_TIMEOUT", default_value_t = 30, value_parser = seconds, global = true)]
    pub request_timeout: u64,
    /// Requests served at once; more are answered 503 with Retry-After at once, not queued.
    #[arg(long, env = "SCIMD_MAX_CONCURRENT_REQUESTS", default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_concurrent_requests: u32,
    /// Members a page of groups shows at most; a page whose groups hold more is cut short
    /// (fewer groups, at least one; `itemsPerPage` and `nextCursor` say where the next starts).
    #[arg(long, env = "SCIMD_MAX_MEMBERS_PER_PAGE", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub max_members_per_page: u64,
    /// Seconds an OAuth access token lasts (`expires_in`): 3600 to 21600, as Microsoft's
    /// gallery validation asks (60 to 360 minutes).
    #[arg(
        long,
        env = "SCIMD_OAUTH_ACCESS_TOKEN_TTL",
        default_value_t = 3600,
        global = true
    )]
    pub oauth_access_token_ttl: u64,
    /// How long an OAuth refresh-token family lives at most, however often it rotates
    /// (`90d`); then the admin authorizes again.
    #[arg(long, env = "SCIMD_OAUTH_REFRESH_MAX_AGE", default_value = "90d", value_parser = duration, global = true)]
    pub oauth_refresh_max_age: std::time::Duration,
    /// Serve `/metrics` on this address (e.g. 127.0.0.1:9090), without authentication. Without
    /// it, `/metrics` is served on the main address only to bearers of SCIMD_METRICS_TOKEN.
    #[arg(long, env = "SCIMD_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,
    /// A bearer token (at least 16 characters) that may read `/metrics` on the main address.
    #[arg(
        long,
        env = "SCIMD_METRICS_TOKEN",
        hide_env_values = true,
        value_parser = long_secret,
        global = true
    )]
    pub metrics_token: Option<Secret>,
    /// Proxies whose X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host are believed:
    /// comma-separated addresses or networks (10.0.0.0/8,fd00::/8). From anyone else these
    /// headers are ignored, and the client is the TCP peer.
    #[arg(long, env = "SCIMD_TRUSTED_PROXIES", value_delimiter = ',', value_parser = crate::http::client::network, global = true)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long the activity log keeps its rows (`30d`, `12h`, `90m`, `3600s`).
    #[arg(long, env = "SCIMD_ACTIVITY_RETENTION", default_value = "30d", value_parser = duration, global = true)]
    pub activity_retention: std::time::Duration,
    /// The quiet time after which Entra's next request starts a new provisioning cycle.
    #[arg(long, env = "SCIMD_CYCLE_GAP", default_value = "10m", value_parser = duration, global = true)]
    pub cycle_gap: std::time::Duration,
    /// Seconds one database statement may run (PostgreSQL `statement_timeout`).
    #[arg(long, env = "SCIMD_DATABASE_STATEMENT_TIMEOUT", default_value_t = 10, value_parser = seconds, global = true)]
    pub database_statement_timeout: u64,
    /// Seconds a write may wait for a lock (PostgreSQL `lock_timeout`, SQLite's busy timeout).
    #[arg(long, env = "SCIMD_DATABASE_LOCK_TIMEOUT", default_value_t = 5, value_parser = seconds, global = true)]
    pub database_lock_timeout: u64,
    /// Where an Entra tenant's OpenID configuration is, `{tenant}` standing for its id: its
    /// `jwks_uri` names the keys that sign the tokens Entra's provisioning service sends when
    /// "Secret Token" is left blank.
    #[arg(long, env = "SCIMD_ENTRA_METADATA_URL", default_value = DEFAULT_METADATA_URL, value_parser = metadata_url, global = true)]
    pub entra_metadata_url: String,
    /// How long an event is retried while its receiver fails (`3d`, `12h`); then it is parked.
    #[arg(long, env = "SCIMD_EVENTS_RETRY_FOR", default_value = "3d", value_parser = duration, global = true)]
    pub events_retry_for: std::time::Duration,
    /// How long delivered events are kept in the outbox (for `scimd events tail`).
    #[arg(long, env = "SCIMD_EVENTS_RETENTION", default_value = "7d", value_parser = duration, global = true)]
    pub events_retention: std::time::Duration,
    /// Seconds one event delivery may take before it counts as failed (and is retried).
    #[arg(long, env = "SCIMD_EVENTS_TIMEOUT", default_value_t = 10, value_parser = seconds, global = true)]
    pub events_timeout: u64,
}

/// A secret of at least 16 characters.
fn long_secret(text: &str) -> Result<Secret, String> {
    if text.trim().chars().count() < 16 {
        return Err("use at least 16 characters".into());
    }
    Ok(Secret(text.trim().to_owned()))
}

/// A number of seconds, at least 1.
fn seconds(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "'{text}' is not a whole number of seconds (at least 1)"
        )),
    }
}

/// An Entra metadata URL template: an http(s) URL naming the tenant with `{tenant}`.
fn metadata_url(text: &str) -> Result<String, String> {
    entra_jwt::check_metadata_url(text)
        .map(|()| text.to_owned())
        .map_err(|e| e.to_string())
}

impl Config {
    /// The root URL scimd is reached at, without a trailing slash: `SCIMD_PUBLIC_URL`, else
    /// `http://` and the listening address. Used where a URL must be fixed rather than read
    /// from a request (the OAuth issuer, the events' `iss`).
    pub fn root_url(&self) -> String {
        let root = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen));
        root.trim_end_matches('/').to_owned()
    }

    /// The database URL: the configured one, else the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => {
                let dir = self.data_dir.clone().unwrap_or_default();
                format!("sqlite://{}", dir.join(DEFAULT_SQLITE_FILE).display())
            }
        }
    }
}

/// What to do; `serve` when none is named.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the SCIM server (creates the database and applies migrations first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage tenants (one per connected Entra provisioning job).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage the application's admins, who sign in to authorize Entra (OAuth).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage OAuth clients (Entra's "Authorize" button, client credentials).
    #[command(subcommand)]
    OauthClient(OAuthClientCommand),
    /// What Entra did: the activity log of a tenant, oldest first.
    Activity {
        #[arg(long)]
        tenant: String,
        /// Only since this long ago (`24h`, `7d`) or this time (RFC 3339).
        #[arg(long, value_parser = since)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// Only rows about this resource id.
        #[arg(long)]
        resource: Option<uuid::Uuid>,
        /// Only the rows of this request id.
        #[arg(long)]
        request_id: Option<String>,
        /// Only this status class: 2xx, 4xx or 5xx.
        #[arg(long, value_parser = status_class)]
        status: Option<u16>,
        /// Only this operation: create, replace, patch, delete, read, search.
        #[arg(long)]
        operation: Option<String>,
        /// At most this many rows (the newest).
        #[arg(long, default_value_t = 1000)]
        limit: u32,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Manage the application's subscriptions to SCIM events (signed SETs, RFC 9967).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Watch a tenant's SCIM events.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Manage tenants' extension schemas (custom attributes Entra's mapping sends).
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Entra's provisioning cycles for a tenant, with their counts.
    Cycles {
        #[arg(long)]
        tenant: String,
        /// Only since this long ago or this time (default: 30 days).
        #[arg(long, value_parser = since)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        #[arg(long)]
        json: bool,
    },
}

/// A point in time: a duration ago (`24h`) or an RFC 3339 time.
fn since(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&chrono::Utc));
    }
    let ago = duration(text)?;
    Ok(chrono::Utc::now() - chrono::TimeDelta::from_std(ago).map_err(|e| e.to_string())?)
}

/// `4xx` → 4.
fn status_class(text: &str) -> Result<u16, String> {
    match text.to_ascii_lowercase().as_str() {
        "2xx" => Ok(2),
        "4xx" => Ok(4),
        "5xx" => Ok(5),
        _ => Err(format!("'{text}': use 2xx, 4xx or 5xx")),
    }
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Add an admin; the password is read from standard input (prompted for on a terminal).
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        /// May authorize Entra's connection (the "team admin" right).
        #[arg(long)]
        team_admin: bool,
    },
    /// List a tenant's admins.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Give or take the team-admin right.
    Set {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        #[arg(
            long,
            conflicts_with = "no_team_admin",
            required_unless_present = "no_team_admin"
        )]
        team_admin: bool,
        #[arg(long)]
        no_team_admin: bool,
    },
    /// Set a new password, read from standard input (prompted for on a terminal).
    Password {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
    },
    /// Remove an admin.
    Remove {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OAuthClientCommand {
    /// Register a client; its id and secret are printed once.
    Add {
        #[arg(long)]
        tenant: String,
        /// A redirect URI the client may use, matched exactly (repeatable); Entra's is
        /// https://portal.azure.com/TokenAuthorize.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// Print {"client_id": …, "client_secret": …}.
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's clients (never the secrets).
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Give a client a new secret, printed once; the old one stops working at once.
    RotateSecret {
        client_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a client and every token issued to it.
    Remove { client_id: String },
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant.
    Create {
        /// A name for the tenant, e.g. the customer or the Entra tenant it connects.
        name: String,
    },
    /// List tenants with their rules.
    List,
    /// Change a tenant's rules: the matching attribute and the roles users may or must carry.
    Set {
        /// The tenant.
        name: String,
        /// The attribute Entra matches users on; unique in the tenant: userName (default),
        /// externalId, or 'emails[type eq "work"].value'. Fails, listing them, if users
        /// already share values.
        #[arg(long)]
        matching_attribute: Option<MatchingAttribute>,
        /// Role values users may carry, comma-separated (e.g. Organizer,Attendee).
        #[arg(long, value_delimiter = ',', conflicts_with = "any_role")]
        allowed_roles: Option<Vec<String>>,
        /// Allow any role value again.
        #[arg(long)]
        any_role: bool,
        /// Every active user must carry a role (Entra's "Default Access" is refused).
        #[arg(long, conflicts_with = "no_require_role")]
        require_role: bool,
        /// Users need no role (the default).
        #[arg(long)]
        no_require_role: bool,
        /// Accept the tokens this Entra tenant (its tenant id, a GUID) signs when the Secret
        /// Token is left blank.
        #[arg(long, conflicts_with = "no_entra_tenant_id")]
        entra_tenant_id: Option<uuid::Uuid>,
        /// Stop accepting Entra-signed tokens.
        #[arg(long)]
        no_entra_tenant_id: bool,
        /// What attributes no schema of the tenant defines get: `ignore` (dropped, counted
        /// and noted in the activity log; the default) or `reject` (400 naming them).
        #[arg(long)]
        unknown_attributes: Option<crate::domain::UnknownAttributes>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a new token for a tenant; it is printed once and never shown again.
    Issue {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        label: Option<String>,
    },
    /// List a tenant's tokens (ids, labels, dates; never the secrets).
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Revoke a token by id; requests with it get 401 from then on.
    Revoke { id: uuid::Uuid },
}
