//! `scimd token …`: the bearer tokens Entra (or any SCIM client) sends, issued per tenant.

use clap::{Args, Subcommand};

use super::common::TENANT;
use scimd::StartError;
use scimd::config::Database;

#[derive(Debug, Args)]
pub struct Token {
    #[command(flatten)]
    database: Database,
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Issue a new token for a tenant; it is printed once and never shown again.
    Issue {
        #[arg(long, help = TENANT)]
        tenant: String,
        /// A label to tell the token by in `scimd token list`.
        #[arg(long)]
        label: Option<String>,
    },
    /// List a tenant's tokens (ids, labels, dates; never the secrets).
    List {
        #[arg(long, help = TENANT)]
        tenant: String,
    },
    /// Revoke a token by id; requests with it get 401 from then on.
    Revoke {
        /// The token's id, as `scimd token list` shows it.
        id: uuid::Uuid,
    },
}

impl Token {
    pub async fn run(self) -> Result<(), StartError> {
        let dir = scimd::open_database(&self.database).await?;
        match self.command {
            TokenCommand::Issue { tenant, label } => {
                let issued = dir.issue_token(&tenant, label.as_deref()).await?;
                eprintln!(
                    "issued token {} for tenant {}; it is shown once, store it now:",
                    issued.info.id, issued.info.tenant
                );
                println!("{}", issued.token);
            }
            TokenCommand::List { tenant } => {
                for t in dir.tokens(&tenant).await? {
                    let state = t.revoked.map_or("active".to_owned(), |r| {
                        format!("revoked {}", r.to_rfc3339())
                    });
                    println!(
                        "{}\t{}\t{}\t{}",
                        t.id,
                        t.label.unwrap_or_default(),
                        t.created.to_rfc3339(),
                        state
                    );
                }
            }
            TokenCommand::Revoke { id } => {
                let t = dir.revoke_token(id).await?;
                println!("revoked token {} of tenant {}", t.id, t.tenant);
            }
        }
        Ok(())
    }
}
