//! `scimd operator-key …`: the keys the application's backend calls `/api/v1` with.

use clap::{Args, Subcommand};
use serde_json::json;

use scimd::StartError;
use scimd::config::Database;

#[derive(Debug, Args)]
pub struct OperatorKey {
    #[command(flatten)]
    database: Database,
    #[command(subcommand)]
    command: OperatorKeyCommand,
}

#[derive(Debug, Subcommand)]
enum OperatorKeyCommand {
    /// Add a key; it is printed once and never shown again (scimd keeps its SHA-256).
    Add {
        /// A name to tell the key by (unique), e.g. the service that uses it.
        #[arg(long)]
        name: String,
        /// The key may read, not change (GET only).
        #[arg(long)]
        read_only: bool,
        /// Print `{"id": …, "name": …, "key": …}` instead of the key alone.
        #[arg(long)]
        json: bool,
    },
    /// List the keys (names, dates; never the secrets).
    List {
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove a key; requests with it get 401 from then on, on every replica.
    Remove {
        /// The key's name or id, as `scimd operator-key list` shows it.
        key: String,
    },
}

impl OperatorKey {
    pub async fn run(self) -> Result<(), StartError> {
        let dir = scimd::open_database(&self.database).await?;
        match self.command {
            OperatorKeyCommand::Add {
                name,
                read_only,
                json,
            } => {
                let issued = dir.add_operator_key(&name, read_only).await?;
                if json {
                    let line = json!({
                        "id": issued.info.id,
                        "name": issued.info.name,
                        "read_only": issued.info.read_only,
                        "key": issued.key,
                    });
                    println!("{line}");
                } else {
                    eprintln!(
                        "added operator key {} ({}); it is shown once, store it now:",
                        issued.info.name, issued.info.id
                    );
                    println!("{}", issued.key);
                }
            }
            OperatorKeyCommand::List { json } => {
                for k in dir.operator_keys().await? {
                    let used = k.last_used.map(|t| t.to_rfc3339());
                    if json {
                        let line = json!({
                            "id": k.id,
                            "name": k.name,
                            "read_only": k.read_only,
                            "created": k.created.to_rfc3339(),
                            "last_used": used,
                        });
                        println!("{line}");
                    } else {
                        let access = if k.read_only {
                            "read-only"
                        } else {
                            "read-write"
                        };
                        println!(
                            "{}\t{}\t{access}\t{}\tlast used {}",
                            k.id,
                            k.name,
                            k.created.to_rfc3339(),
                            used.unwrap_or_else(|| "never".into())
                        );
                    }
                }
            }
            OperatorKeyCommand::Remove { key } => {
                let removed = dir.remove_operator_key(&key).await?;
                println!("removed operator key {} ({})", removed.name, removed.id);
            }
        }
        Ok(())
    }
}
