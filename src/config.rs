//! The settings, as flags and `SCIMD_*` environment variables (every flag is both), in groups
//! so that each command takes only those it uses: [`Database`] for every command that opens
//! the database, [`Address`] where an issuer is named, [`Logging`] for all, and [`Config`],
//! everything `scimd serve` reads. Secrets are redacted in `Debug`.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use clap::Args;

mod database;
mod duration;
pub mod health;
mod notify;
mod server;
mod tls;
pub use database::{DEFAULT_SQLITE_FILE, Database};
pub use duration::{MAX_DURATION, access_token_ttl, duration, period};
pub use health::AlertThresholds;
pub use notify::Notify;
pub use server::{Config, DEFAULT_MAX_MEMBERS_PER_PAGE};
pub use tls::Tls;

use crate::telemetry::LogFormat;

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

/// Where scimd is reached: the OAuth issuer and the events' `iss` are named from it.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Address")]
pub struct Address {
    /// The address scimd listens on; without SCIMD_PUBLIC_URL, `http://` and it are the OAuth
    /// issuer and the events' `iss`.
    #[arg(
        long,
        env = "SCIMD_LISTEN",
        value_name = "ADDRESS",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: SocketAddr,
    /// The URL clients reach scimd at (https://scim.example.com): `Location`, `meta.location`,
    /// the OAuth issuer and the events' `iss`; unset: each request's Host header.
    #[arg(long, env = "SCIMD_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
}

impl Address {
    /// The root URL scimd is reached at, without a trailing slash: `SCIMD_PUBLIC_URL`, else
    /// `http://` and the listening address. Used where a URL must be fixed rather than read
    /// from a request (the OAuth issuer, the events' `iss`).
    pub fn root_url(&self) -> String {
        self.root_url_with(false)
    }

    /// The same, `https://` and the listening address when the listener serves HTTPS.
    pub fn root_url_with(&self, https: bool) -> String {
        let scheme = if https { "https" } else { "http" };
        let root = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{}", self.listen));
        root.trim_end_matches('/').to_owned()
    }
}

/// How one event is delivered: what `scimd webhook test` needs besides the issuer.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Events")]
pub struct Delivery {
    /// How long one event delivery may take before it counts as failed (and is retried).
    #[arg(
        long,
        env = "SCIMD_EVENTS_TIMEOUT",
        value_name = "DURATION",
        default_value = "10s",
        value_parser = duration
    )]
    pub events_timeout: Duration,
}

/// Where one provisioning cycle ends: what `scimd cycles` needs besides the database.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Activity")]
pub struct CycleGap {
    /// The quiet time after which Entra's next request starts a new provisioning cycle.
    #[arg(
        long,
        env = "SCIMD_CYCLE_GAP",
        value_name = "DURATION",
        default_value = "10m",
        value_parser = duration
    )]
    pub cycle_gap: Duration,
}

/// The log, which every command writes to standard error. The flags are global: they go before
/// or after any command's name.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Logging")]
pub struct Logging {
    /// Log filter, e.g. `info` or `info,scimd=debug`.
    #[arg(
        long,
        env = "SCIMD_LOG",
        value_name = "FILTER",
        default_value = "info,sqlx=warn",
        global = true
    )]
    pub log: String,
    /// Log format: `pretty` (lines for people) or `json` (one object per line).
    // The possible values are named here: their own help would make `--help` print every
    // command's options in the long layout.
    #[arg(
        long,
        env = "SCIMD_LOG_FORMAT",
        value_name = "FORMAT",
        value_enum,
        default_value = "pretty",
        hide_possible_values = true,
        global = true
    )]
    pub log_format: LogFormat,
}
