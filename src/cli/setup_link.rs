//! `scimd setup-link …`: the links the application's team sends a customer's identity admin,
//! whose page walks them through connecting their identity provider on their own.

use clap::{Args, Subcommand};
use serde_json::json;
use uuid::Uuid;

use super::common::TENANT;
use scimd::StartError;
use scimd::config::{Address, Database};
use scimd::domain::setup::SetupLink;
use scimd::service::Directory;
use scimd::service::setup::SETUP_LINKS_PAGE;

#[derive(Debug, Args)]
pub struct SetupLinkArgs {
    #[command(flatten)]
    database: Database,
    #[command(subcommand)]
    command: SetupLinkCommand,
}

#[derive(Debug, Subcommand)]
enum SetupLinkCommand {
    /// Make a setup link for a tenant: prints its URL once (the token in it is kept hashed).
    Create {
        #[arg(long, help = TENANT)]
        tenant: String,
        /// How long the link works: 90m, 12h, 3d (1 hour to 30 days).
        #[arg(long, value_name = "VALIDITY", default_value = "7d")]
        expires: String,
        /// Print {"id": …, "url": …, "expires_at": …}.
        #[arg(long)]
        json: bool,
        // the link is on the URL the server is reached at (SCIMD_PUBLIC_URL)
        #[command(flatten)]
        address: Address,
    },
    /// List a tenant's setup links, newest first, with their state (never their URL).
    List {
        #[arg(long, help = TENANT)]
        tenant: String,
        /// Print a JSON array of the links.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a setup link by id: its page says the link no longer works.
    Revoke {
        #[arg(long, help = TENANT)]
        tenant: String,
        /// The link's id, as `scimd setup-link list` shows it.
        id: Uuid,
    },
}

impl SetupLinkArgs {
    pub async fn run(self) -> Result<(), StartError> {
        let dir = scimd::open_database(&self.database).await?;
        match self.command {
            SetupLinkCommand::Create {
                tenant,
                expires,
                json,
                address,
            } => {
                let issued = dir
                    .create_setup_link(&tenant, Some(&expires), &address.root_url())
                    .await?;
                let link = &issued.link;
                if json {
                    let shown = json!({
                        "id": link.id,
                        "url": issued.url,
                        "expires_at": link.expires.to_rfc3339(),
                    });
                    println!("{shown}");
                } else {
                    println!(
                        "setup link {} for tenant {tenant}; send it to the customer's identity \
                         admin. It is shown once, valid until {}:",
                        link.id,
                        link.expires.to_rfc3339()
                    );
                    println!("{}", issued.url);
                }
            }
            SetupLinkCommand::List { tenant, json } => {
                let links = all(&dir, &tenant).await?;
                let now = dir.now();
                if json {
                    let shown: Vec<_> = links.iter().map(|l| view(l, now)).collect();
                    println!("{}", serde_json::Value::Array(shown));
                    return Ok(());
                }
                for l in &links {
                    let used = l.last_used.map_or("never used".to_owned(), |u| {
                        format!("last used {}", u.to_rfc3339())
                    });
                    println!(
                        "{}\t{}\texpires {}\t{used}\tmade {} by {}",
                        l.id,
                        l.state(now),
                        l.expires.to_rfc3339(),
                        l.created.to_rfc3339(),
                        l.created_by
                    );
                }
            }
            SetupLinkCommand::Revoke { tenant, id } => {
                let link = dir.revoke_setup_link(&tenant, id).await?;
                println!(
                    "revoked setup link {} of tenant {}: its page now says the link no longer works",
                    link.id, link.tenant_name
                );
            }
        }
        Ok(())
    }
}

/// Every link of the tenant, newest first, page after page.
async fn all(dir: &Directory, tenant: &str) -> Result<Vec<SetupLink>, StartError> {
    let mut links: Vec<SetupLink> = Vec::new();
    loop {
        let before = links.last().map(|l| (l.created, l.id));
        let page = dir.setup_links(tenant, before, SETUP_LINKS_PAGE).await?;
        let full = page.len() == usize::try_from(SETUP_LINKS_PAGE).unwrap_or(usize::MAX);
        links.extend(page);
        if !full {
            return Ok(links);
        }
    }
}

/// A link as `--json` prints it: the fields of the API's list, never a URL.
fn view(l: &SetupLink, now: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    json!({
        "id": l.id,
        "state": l.state(now),
        "expires_at": l.expires.to_rfc3339(),
        "created_at": l.created.to_rfc3339(),
        "created_by": l.created_by,
        "revoked_at": l.revoked.map(|r| r.to_rfc3339()),
        "last_used_at": l.last_used.map(|u| u.to_rfc3339()),
    })
}
