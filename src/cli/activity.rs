//! `scimd activity`: what Entra did, the activity log of a tenant, oldest first: a table for
//! people, JSON lines for scripts (each row as `GET /api/v1/tenants/{name}/activity` serves
//! it).

use clap::Args;

use super::common::{TENANT, since};
use scimd::StartError;
use scimd::config::Database;
use scimd::domain::activity::{Activity as Row, ActivityFilter};
use scimd::http::api::activity::ActivityView;

#[derive(Debug, Args)]
pub struct Activity {
    #[arg(long, help = TENANT)]
    tenant: String,
    /// Only since this long ago (`24h`, `7d`) or this time (RFC 3339).
    #[arg(long, value_name = "WHEN", value_parser = since)]
    since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only before this long ago (`1h`) or this time (RFC 3339).
    #[arg(long, value_name = "WHEN", value_parser = since)]
    until: Option<chrono::DateTime<chrono::Utc>>,
    /// Only rows about this resource id.
    #[arg(long, value_name = "ID")]
    resource: Option<uuid::Uuid>,
    /// Only the rows of this request id.
    #[arg(long, value_name = "ID")]
    request_id: Option<String>,
    /// Only this status class: 2xx, 4xx or 5xx.
    #[arg(long, value_name = "CLASS", value_parser = status_class)]
    status: Option<u16>,
    /// Only this operation: create, replace, patch, delete, read, search.
    #[arg(long)]
    operation: Option<String>,
    /// At most this many rows (the newest).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    limit: u32,
    /// JSON lines instead of a table.
    #[arg(long)]
    json: bool,
    // last: a flattened group's heading would go on to head the arguments after it
    #[command(flatten)]
    database: Database,
}

impl Activity {
    pub async fn run(self) -> Result<(), StartError> {
        let filter = ActivityFilter {
            since: self.since,
            resource: self.resource,
            request_id: self.request_id,
            status_class: self.status,
            operation: self.operation,
            limit: self.limit,
            until: self.until,
            refused: false,
        };
        let dir = scimd::open_database(&self.database).await?;
        print(&dir.activity(&self.tenant, &filter).await?, self.json);
        Ok(())
    }
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

/// The rows as a table for people, or as JSON lines for scripts.
fn print(rows: &[Row], json: bool) {
    for a in rows {
        if json {
            let view = ActivityView::from(a.clone());
            println!("{}", serde_json::to_string(&view).unwrap_or_default());
            continue;
        }
        let what = match &a.paths {
            Some(paths) => format!("{} ({paths})", a.operation),
            None => a.operation.clone(),
        };
        let resource = match (&a.resource_type, a.resource_id) {
            (Some(t), Some(id)) => format!("{t} {id}"),
            (Some(t), None) => t.clone(),
            _ => "-".into(),
        };
        let error = a.note();
        println!(
            "{}  {}  {:<22} {:<48} {}  {}  {}",
            a.at.format("%Y-%m-%d %H:%M:%S%.3f"),
            a.status,
            what,
            resource,
            a.origin.request_id,
            a.origin.credential,
            error
        );
    }
}
