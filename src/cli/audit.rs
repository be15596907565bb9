//! `scimd audit`: the audit trail of administration, newest first — every change made through
//! the API, the CLI or the console: a table for people, JSON lines (the entries of
//! `GET /api/v1/audit`) for scripts.

use clap::Args;

use scimd::StartError;
use scimd::config::Database;
use scimd::domain::audit::AuditFilter;
use scimd::http::api::audit::AuditView;

#[derive(Debug, Args)]
pub struct Audit {
    /// Only the changes of this tenant (by name; a deleted tenant's too).
    #[arg(long)]
    tenant: Option<String>,
    /// At most this many entries (the newest).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    limit: u32,
    /// JSON lines instead of a table.
    #[arg(long)]
    json: bool,
    // last: a flattened group's heading would go on to head the arguments after it
    #[command(flatten)]
    database: Database,
}

impl Audit {
    pub async fn run(self) -> Result<(), StartError> {
        let dir = scimd::open_database(&self.database).await?;
        let filter = AuditFilter {
            tenant: self.tenant,
            before: None,
            limit: self.limit,
        };
        for entry in dir.audit(&filter).await? {
            let view = AuditView::from(entry);
            if self.json {
                println!("{}", serde_json::to_string(&view).unwrap_or_default());
                continue;
            }
            let who = match &view.actor.address {
                Some(address) => format!("{} {} ({address})", view.actor.kind, view.actor.name),
                None => format!("{} {}", view.actor.kind, view.actor.name),
            };
            println!(
                "{}  {:<16} {:<20} {:<36} {:<40} {}",
                view.at.format("%Y-%m-%d %H:%M:%S"),
                view.action,
                view.tenant.as_deref().unwrap_or("-"),
                view.target.as_deref().unwrap_or("-"),
                who,
                view.detail.as_deref().unwrap_or("")
            );
        }
        Ok(())
    }
}
