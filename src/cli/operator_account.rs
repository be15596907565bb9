//! `scimd operator-account …`: the application's team (support engineers) who sign in to the
//! operator page at /operator, which lists every tenant's health.

use clap::{Args, Subcommand};
use serde_json::json;

use super::admin::read_password;
use scimd::StartError;
use scimd::config::Database;

#[derive(Debug, Args)]
pub struct OperatorAccount {
    #[command(flatten)]
    database: Database,
    #[command(subcommand)]
    command: OperatorAccountCommand,
}

/// The help of the account's name, the same in every command.
const NAME: &str = "The account's user name, as its owner signs in with it (any letter case)";

#[derive(Debug, Subcommand)]
enum OperatorAccountCommand {
    /// Add an account; the password is read from standard input (prompted for on a terminal).
    Add {
        #[arg(help = NAME)]
        name: String,
    },
    /// List the accounts (names and when they were added; never a password).
    List {
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Set a new password, read from standard input (prompted for on a terminal); the
    /// account's open sessions end.
    Password {
        #[arg(help = NAME)]
        name: String,
    },
    /// Remove an account; its open sessions end.
    Remove {
        #[arg(help = NAME)]
        name: String,
    },
}

impl OperatorAccount {
    pub async fn run(self) -> Result<(), StartError> {
        let dir = scimd::open_database(&self.database).await?;
        match self.command {
            OperatorAccountCommand::Add { name } => {
                let password = read_password()?;
                let account = dir.add_operator_account(&name, &password).await?;
                println!("added operator account {}", account.username);
            }
            OperatorAccountCommand::List { json } => {
                for a in dir.operator_accounts().await? {
                    if json {
                        let line = json!({
                            "id": a.id,
                            "username": a.username,
                            "created": a.created.to_rfc3339(),
                        });
                        println!("{line}");
                    } else {
                        println!("{}\t{}", a.username, a.created.to_rfc3339());
                    }
                }
            }
            OperatorAccountCommand::Password { name } => {
                let password = read_password()?;
                let account = dir.set_operator_account_password(&name, &password).await?;
                println!(
                    "set the password of operator account {}; its sessions ended",
                    account.username
                );
            }
            OperatorAccountCommand::Remove { name } => {
                let account = dir.remove_operator_account(&name).await?;
                println!(
                    "removed operator account {}; its sessions ended",
                    account.username
                );
            }
        }
        Ok(())
    }
}
