//! `scimd events tail`: a tenant's SCIM events printed as they commit.

use std::collections::BTreeSet;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::common::TENANT;
use scimd::StartError;
use scimd::config::{Address, Database};
use scimd::service::Directory;
use scimd::service::events::EventSettings;

#[derive(Debug, Args)]
pub struct Events {
    #[command(flatten)]
    database: Database,
    #[command(subcommand)]
    command: EventsCommand,
}

#[derive(Debug, Subcommand)]
enum EventsCommand {
    /// Print a tenant's events as they commit, until interrupted.
    Tail {
        #[arg(long, help = TENANT)]
        tenant: String,
        /// Each event as JSON: the claims of its SET, unsigned.
        #[arg(long)]
        json: bool,
        // the claims name the server as their issuer (`iss`), as the events it sends do
        #[command(flatten)]
        address: Address,
    },
}

/// How often `events tail` looks for new events.
const TAIL_POLL: Duration = Duration::from_millis(300);
/// How far behind the newest event `events tail` looks again, for events of requests that
/// committed after a later one.
const TAIL_WINDOW: i64 = 200;

impl Events {
    pub async fn run(self) -> Result<(), StartError> {
        let EventsCommand::Tail {
            tenant,
            json,
            address,
        } = self.command;
        let settings = EventSettings {
            issuer: scimd::events_issuer(&address),
            ..EventSettings::default()
        };
        let dir = scimd::open_database(&self.database)
            .await?
            .with_events(settings)
            .map_err(StartError::Config)?;
        tail(&dir, &tenant, json).await
    }
}

/// Prints the tenant's events as they commit, until SIGINT or SIGTERM.
async fn tail(dir: &Directory, tenant: &str, json: bool) -> Result<(), StartError> {
    let mut newest = dir.last_event(tenant).await?;
    // what had committed before the tail started is not shown
    let mut seen: BTreeSet<i64> = dir
        .events_after(tenant, (newest - TAIL_WINDOW).max(0), 1_000)
        .await?
        .iter()
        .map(|e| e.seq)
        .collect();
    eprintln!("waiting for events of tenant {tenant} (Ctrl-C to stop)");
    let mut stop = std::pin::pin!(scimd::shutdown_signal());
    loop {
        for event in dir
            .events_after(tenant, (newest - TAIL_WINDOW).max(0), 1_000)
            .await?
        {
            if !seen.insert(event.seq) {
                continue;
            }
            newest = newest.max(event.seq);
            if json {
                println!("{}", dir.event_claims(&event).await);
            } else {
                println!(
                    "{}\t{}\t{} {}\t{}\ttxn {}",
                    event.at.to_rfc3339(),
                    event.kinds,
                    event.resource_type,
                    event.resource_id,
                    event.attributes.join(","),
                    event.txn
                );
            }
        }
        seen.retain(|seq| *seq > newest - 2 * TAIL_WINDOW);
        tokio::select! {
            () = tokio::time::sleep(TAIL_POLL) => {}
            () = &mut stop => return Ok(()),
        }
    }
}
