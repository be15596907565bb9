//! `scimd retained …`: the users a `DELETE` retained under the tenant's rule `--on-delete
//! retain`: listed (a table, or JSON lines as `GET /api/v1/tenants/{name}/retained` shows
//! them) and restored with their id.

use clap::{Args, Subcommand};
use uuid::Uuid;

use scimd::StartError;
use scimd::config::Database;
use scimd::http::api::retained::RetainedView;

#[derive(Debug, Args)]
pub struct Retained {
    #[command(subcommand)]
    command: RetainedCommand,
    // last: a flattened group's heading would go on to head the arguments after it
    #[command(flatten)]
    database: Database,
}

#[derive(Debug, Subcommand)]
enum RetainedCommand {
    /// List a tenant's retained users, in the order they were deleted.
    List {
        /// The tenant's name, as `scimd tenant list` shows it.
        #[arg(long)]
        tenant: String,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Restore a retained user: back in SCIM with its id, its document, a new version; its
    /// activity row and its `create` event say restored.
    Restore {
        /// The tenant's name, as `scimd tenant list` shows it.
        #[arg(long)]
        tenant: String,
        /// The retained user's id, as `scimd retained list` shows it.
        id: Uuid,
    },
}

/// Retained users read per page.
const PAGE: u32 = 500;

impl Retained {
    pub async fn run(self) -> Result<(), StartError> {
        let dir = scimd::open_database(&self.database).await?;
        match self.command {
            RetainedCommand::List { tenant, json } => {
                let mut after = None;
                loop {
                    let page = dir.retained_users(&tenant, after, PAGE).await?;
                    after = page.last().map(|r| (r.deleted_at, r.id));
                    let full = page.len() == PAGE as usize;
                    for retained in page {
                        let view = RetainedView::from(retained);
                        if json {
                            println!("{}", serde_json::to_string(&view).unwrap_or_default());
                            continue;
                        }
                        println!(
                            "{}\t{}\t{}\tdeleted {}\tpurged after {}",
                            view.id,
                            view.user_name.as_deref().unwrap_or("-"),
                            view.external_id.as_deref().unwrap_or("-"),
                            view.deleted_at.format("%Y-%m-%d %H:%M:%S"),
                            view.purge_after.format("%Y-%m-%d %H:%M:%S"),
                        );
                    }
                    if !full {
                        break;
                    }
                }
            }
            RetainedCommand::Restore { tenant, id } => {
                let restored = dir.restore_retained(&tenant, id).await?;
                let name = restored.doc.get("userName").and_then(|v| v.as_str());
                println!(
                    "restored user {id} ({}) of tenant {tenant} at version {}",
                    name.unwrap_or("-"),
                    restored.version.0
                );
            }
        }
        Ok(())
    }
}
