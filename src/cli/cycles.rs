//! `scimd cycles`: Entra's provisioning cycles for a tenant, with their counts: a table for
//! people, JSON lines for scripts.

use clap::Args;

use super::common::{TENANT, since};
use scimd::StartError;
use scimd::config::{CycleGap, Database};
use scimd::domain::activity::{Counts, Cycle};
use scimd::http::api::cycles::CycleView;

#[derive(Debug, Args)]
pub struct Cycles {
    #[arg(long, help = TENANT)]
    tenant: String,
    /// Only since this long ago or this time (default: 30 days).
    #[arg(long, value_name = "WHEN", value_parser = since)]
    since: Option<chrono::DateTime<chrono::Utc>>,
    /// JSON lines instead of a table.
    #[arg(long)]
    json: bool,
    // the settings last: a flattened group's heading would go on to head the arguments after
    // it. The gap is the setting the console's cycles are cut by, so that both show the same.
    #[command(flatten)]
    gap: CycleGap,
    #[command(flatten)]
    database: Database,
}

impl Cycles {
    pub async fn run(self) -> Result<(), StartError> {
        let since = self
            .since
            .unwrap_or_else(|| chrono::Utc::now() - chrono::TimeDelta::days(30));
        let gap = chrono::TimeDelta::from_std(self.gap.cycle_gap)
            .unwrap_or(chrono::TimeDelta::minutes(10));
        let dir = scimd::open_database(&self.database).await?;
        print(&dir.cycles(&self.tenant, since, gap).await?, self.json);
        Ok(())
    }
}

/// The cycles as a table for people, or as JSON lines for scripts.
fn print(cycles: &[Cycle], json: bool) {
    if json {
        for c in cycles {
            let view = CycleView::from(c.clone());
            println!("{}", serde_json::to_string(&view).unwrap_or_default());
        }
        return;
    }
    println!(
        "started (UTC)        last minute  lookups  created  updated  disabled  deleted  refused"
    );
    for c in cycles {
        let n = |c: &Counts| format!("{}/{}", c.users, c.groups);
        println!(
            "{}  {}  {:>7}  {:>7}  {:>7}  {:>8}  {:>7}  {:>7}",
            c.started.format("%Y-%m-%d %H:%M"),
            c.last.format("%H:%M"),
            c.lookups,
            n(&c.created),
            n(&c.updated),
            n(&c.disabled),
            n(&c.deleted),
            n(&c.refused)
        );
    }
    println!("(counts are users/groups)");
}
