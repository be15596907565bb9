//! `scimd health`: each tenant's provisioning health — its state, since when, why and what to
//! do — checked now: a table for people, JSON lines for scripts. A change of state it finds is
//! recorded, and alerted by a running `scimd serve`, as the server's own check would.

use clap::Args;

use super::common::TENANT;
use scimd::StartError;
use scimd::config::{AlertThresholds, Database};
use scimd::http::api::health::HealthView;
use scimd::service::HealthSettings;

#[derive(Debug, Args)]
pub struct Health {
    /// Only this tenant (all tenants otherwise, worst first).
    #[arg(long, help = TENANT)]
    tenant: Option<String>,
    /// JSON lines (one object per tenant: tenant, state, since, reasons, checked,
    /// last_accepted) instead of a table.
    #[arg(long)]
    json: bool,
    // the settings last: a flattened group's heading would go on to head the arguments after it
    #[command(flatten)]
    settings: AlertThresholds,
    #[command(flatten)]
    database: Database,
}

impl Health {
    pub async fn run(self) -> Result<(), StartError> {
        let dir = scimd::open_database(&self.database)
            .await?
            .with_health(self.settings.settings(HealthSettings::default().interval));
        let views: Vec<HealthView> = match &self.tenant {
            Some(name) => vec![dir.tenant_health(name).await?.into()],
            None => {
                dir.check_all_health().await?;
                dir.all_health()
                    .await?
                    .into_iter()
                    .map(HealthView::from)
                    .collect()
            }
        };
        print(&views, self.json);
        Ok(())
    }
}

/// The tenants' health as a table with their reasons beneath, or as JSON lines.
fn print(views: &[HealthView], json: bool) {
    if json {
        for v in views {
            println!("{}", serde_json::to_string(v).unwrap_or_default());
        }
        return;
    }
    println!("{:<24}  {:<20}  since (UTC)", "tenant", "state");
    for v in views {
        let state = serde_json::to_value(v.state)
            .ok()
            .and_then(|s| s.as_str().map(str::to_owned))
            .unwrap_or_default();
        let since = v.since.map_or_else(
            || "-".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M").to_string(),
        );
        println!("{:<24}  {:<20}  {since}", v.tenant, state);
        for r in &v.reasons {
            println!("    {}", r.what);
            println!("      fix: {}", r.fix);
        }
    }
}
