//! The commands of SCIM events: the application's subscriptions (`scimd webhook …`) and
//! watching a tenant's events (`scimd events tail`).

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Subscribe a URL to a tenant's events; its id and signing secret are printed once.
    Add {
        #[arg(long)]
        tenant: String,
        /// Where events are POSTed (RFC 8935): https, or http on a loopback address.
        #[arg(long)]
        url: String,
        /// The kinds wanted, comma-separated: create, patch, put, delete, activate,
        /// deactivate, or all.
        #[arg(long, default_value = "all")]
        events: String,
        /// `full` events, with the resource as SCIM shows it, instead of `notice` events that
        /// name the attributes that changed.
        #[arg(long)]
        full: bool,
        /// Print {"id": …, "secret": …}.
        #[arg(long)]
        json: bool,
    },
    /// List subscriptions with their delivery state (never the secrets).
    List {
        /// Only this tenant's.
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A subscription's state and its latest dropped or parked events.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Stop delivering; events keep queueing until `resume`, those waiting longer than
    /// SCIMD_EVENTS_RETRY_FOR are parked (`retry` queues them again).
    Pause { id: String },
    /// Deliver again, starting with what queued meanwhile.
    Resume { id: String },
    /// Queue the parked events (retried too long) again.
    Retry { id: String },
    /// Remove a subscription and what it had still to receive.
    Remove { id: String },
    /// Give a subscription a new signing secret, printed once; the old one stops at once.
    RotateSecret {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Send a test event and print the receiver's answer.
    Test { id: String },
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Print a tenant's events as they commit, until interrupted.
    Tail {
        #[arg(long)]
        tenant: String,
        /// Each event as JSON: the claims of its SET, unsigned.
        #[arg(long)]
        json: bool,
    },
}
