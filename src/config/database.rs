//! The database settings: what every command that opens the database takes, `scimd serve`
//! among them.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{Secret, duration};
use crate::store::Options;

/// The file of the embedded store when no database URL is configured.
pub const DEFAULT_SQLITE_FILE: &str = "scimd.db";

/// Which database, and how scimd uses it. The flags are global, so that a group of commands
/// (`scimd tenant --database-url … list`) and each of its commands (`scimd tenant list
/// --database-url …`) take them alike.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Database")]
pub struct Database {
    /// postgres://user:password@host:port/database or sqlite://path/to/file.db, created if
    /// missing; unset: the SQLite file scimd.db in SCIMD_DATA_DIR
    #[arg(
        long,
        env = "SCIMD_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true,
        global = true
    )]
    pub database_url: Option<Secret>,
    /// Directory of the default SQLite file (created if missing); unset: the working directory
    #[arg(long, env = "SCIMD_DATA_DIR", value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Largest number of database connections in the pool
    #[arg(
        long,
        env = "SCIMD_DATABASE_MAX_CONNECTIONS",
        value_name = "N",
        default_value_t = 10,
        global = true
    )]
    pub database_max_connections: u32,
    /// How long one database statement may run (PostgreSQL `statement_timeout`)
    #[arg(
        long,
        env = "SCIMD_DATABASE_STATEMENT_TIMEOUT",
        value_name = "DURATION",
        default_value = "10s",
        value_parser = duration,
        global = true
    )]
    pub database_statement_timeout: Duration,
    /// How long a write may wait for a lock (PostgreSQL `lock_timeout`, SQLite's busy timeout)
    #[arg(
        long,
        env = "SCIMD_DATABASE_LOCK_TIMEOUT",
        value_name = "DURATION",
        default_value = "5s",
        value_parser = duration,
        global = true
    )]
    pub database_lock_timeout: Duration,
}

impl Database {
    /// The database URL: the configured one, else the SQLite file in the data directory.
    pub fn url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => {
                let dir = self.data_dir.clone().unwrap_or_default();
                format!("sqlite://{}", dir.join(DEFAULT_SQLITE_FILE).display())
            }
        }
    }

    /// The pool's size and the timeouts.
    pub fn options(&self) -> Options {
        Options {
            max_connections: self.database_max_connections,
            statement_timeout: self.database_statement_timeout,
            lock_timeout: self.database_lock_timeout,
        }
    }
}
