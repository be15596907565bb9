//! `scimd oauth-client …`: OAuth clients (Entra's "Authorize" button, client credentials).

use clap::{Args, Subcommand};

use super::common::TENANT;
use scimd::StartError;
use scimd::config::Database;
use scimd::service::IssuedClient;

#[derive(Debug, Args)]
pub struct OAuthClient {
    #[command(flatten)]
    database: Database,
    #[command(subcommand)]
    command: OAuthClientCommand,
}

/// The help of a client's id, the same in every command that names one.
const CLIENT_ID: &str = "The client's id, as `scimd oauth-client list` shows it";
/// The help of `--json` where a secret is printed.
const JSON: &str = "Print {\"client_id\": …, \"client_secret\": …}";

#[derive(Debug, Subcommand)]
enum OAuthClientCommand {
    /// Register a client; its id and secret are printed once.
    Add {
        #[arg(long, help = TENANT)]
        tenant: String,
        /// A redirect URI the client may use, matched exactly (repeatable); Entra's is
        /// https://portal.azure.com/TokenAuthorize.
        #[arg(long = "redirect-uri", value_name = "URI", required = true)]
        redirect_uris: Vec<String>,
        #[arg(long, help = JSON)]
        json: bool,
    },
    /// List a tenant's clients (never the secrets).
    List {
        #[arg(long, help = TENANT)]
        tenant: String,
    },
    /// Give a client a new secret, printed once; the old one stops working at once.
    RotateSecret {
        #[arg(help = CLIENT_ID)]
        client_id: String,
        #[arg(long, help = JSON)]
        json: bool,
    },
    /// Remove a client and every token issued to it.
    Remove {
        #[arg(help = CLIENT_ID)]
        client_id: String,
    },
}

impl OAuthClient {
    pub async fn run(self) -> Result<(), StartError> {
        let dir = scimd::open_database(&self.database).await?;
        match self.command {
            OAuthClientCommand::Add {
                tenant,
                redirect_uris,
                json,
            } => show_secret(&dir.add_client(&tenant, &redirect_uris).await?, json),
            OAuthClientCommand::List { tenant } => {
                for c in dir.clients(&tenant).await? {
                    println!(
                        "{}\t{}\t{}",
                        c.client_id,
                        c.redirect_uris.join(" "),
                        c.created.to_rfc3339()
                    );
                }
            }
            OAuthClientCommand::RotateSecret { client_id, json } => {
                show_secret(&dir.rotate_client_secret(&client_id).await?, json);
            }
            OAuthClientCommand::Remove { client_id } => {
                dir.remove_client(&client_id).await?;
                println!("removed OAuth client {client_id} and its tokens");
            }
        }
        Ok(())
    }
}

/// A client's id and its new secret, shown once.
fn show_secret(issued: &IssuedClient, json: bool) {
    if json {
        let out = serde_json::json!({"client_id": issued.client.client_id, "client_secret": issued.secret});
        println!("{out}");
        return;
    }
    eprintln!(
        "OAuth client of tenant {}; the secret is shown once, store it now:",
        issued.client.tenant_name
    );
    println!("client_id:     {}", issued.client.client_id);
    println!("client_secret: {}", issued.secret);
}
