//! `scimd webhook …`: the application's subscriptions to a tenant's SCIM events (signed SETs,
//! RFC 9967), their delivery state, and a test event sent to one.

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::common::TENANT;
use scimd::StartError;
use scimd::config::{Address, Database, Delivery};
use scimd::domain::events::{Kinds, Outcome, Subscription};
use scimd::service::events::{EventSettings, IssuedWebhook};

#[derive(Debug, Args)]
pub struct Webhook {
    #[command(flatten)]
    database: Database,
    #[command(subcommand)]
    command: WebhookCommand,
}

/// The help of a subscription's id, the same in every command that names one.
const ID: &str = "The subscription's id, as `scimd webhook list` shows it";
/// The help of `--json` where a secret is printed.
const JSON_SECRET: &str = "Print {\"id\": …, \"secret\": …}";

#[derive(Debug, Subcommand)]
enum WebhookCommand {
    /// Subscribe a URL to a tenant's events; its id and signing secret are printed once.
    Add {
        #[arg(long, help = TENANT)]
        tenant: String,
        /// Where events are POSTed (RFC 8935): https, or http on a loopback address.
        #[arg(long)]
        url: String,
        /// The kinds wanted, comma-separated: create, patch, put, delete, activate,
        /// deactivate, or all.
        #[arg(long, value_name = "KINDS", default_value = "all")]
        events: String,
        /// `full` events, with the resource as SCIM shows it, instead of `notice` events that
        /// name the attributes that changed.
        #[arg(long)]
        full: bool,
        #[arg(long, help = JSON_SECRET)]
        json: bool,
    },
    /// List subscriptions with their delivery state (never the secrets).
    List {
        /// Only this tenant's (its name, as `scimd tenant list` shows it).
        #[arg(long)]
        tenant: Option<String>,
        /// One JSON object a line instead of tab-separated columns.
        #[arg(long)]
        json: bool,
    },
    /// A subscription's state and its latest dropped or parked events.
    Show {
        #[arg(help = ID)]
        id: String,
        /// One JSON object, the failures in it, instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Stop delivering; events keep queueing until `resume`, those waiting longer than
    /// SCIMD_EVENTS_RETRY_FOR are parked (`retry` queues them again).
    Pause {
        #[arg(help = ID)]
        id: String,
    },
    /// Deliver again, starting with what queued meanwhile.
    Resume {
        #[arg(help = ID)]
        id: String,
    },
    /// Queue the parked events (retried too long) again.
    Retry {
        #[arg(help = ID)]
        id: String,
    },
    /// Remove a subscription and what it had still to receive.
    Remove {
        #[arg(help = ID)]
        id: String,
    },
    /// Give a subscription a new signing secret, printed once; the old one stops at once.
    RotateSecret {
        #[arg(help = ID)]
        id: String,
        #[arg(long, help = JSON_SECRET)]
        json: bool,
    },
    /// Send a test event and print the receiver's answer.
    Test {
        #[arg(help = ID)]
        id: String,
        // the event is signed and sent as the server would: its `iss` and the delivery's
        // time limit are the server's settings
        #[command(flatten)]
        address: Address,
        #[command(flatten)]
        delivery: Delivery,
    },
}

impl Webhook {
    pub async fn run(self) -> Result<(), StartError> {
        let dir = scimd::open_database(&self.database).await?;
        match self.command {
            WebhookCommand::Add {
                tenant,
                url,
                events,
                full,
                json,
            } => {
                let kinds = Kinds::parse(&events).map_err(StartError::Config)?;
                show_secret(&dir.add_webhook(&tenant, &url, kinds, full).await?, json);
            }
            WebhookCommand::List { tenant, json } => {
                for s in dir.webhooks(tenant.as_deref()).await? {
                    if json {
                        println!("{}", described(&s));
                    } else {
                        println!("{}", line(&s));
                    }
                }
            }
            WebhookCommand::Show { id, json } => {
                let s = dir.webhook(&id).await?;
                let failures = dir.webhook_failures(&id, 20).await?;
                if json {
                    let mut out = described(&s);
                    out["failures"] = failures
                        .iter()
                        .map(|f| {
                            json!({"seq": f.seq, "event": f.event, "resourceType": f.resource_type,
                                   "resourceId": f.resource_id, "state": f.state,
                                   "attempts": f.attempts, "failedAt": f.failed_at,
                                   "status": f.last_status, "error": f.last_error})
                        })
                        .collect();
                    println!("{out}");
                    return Ok(());
                }
                println!("{}", line(&s));
                for f in failures {
                    println!(
                        "  {}\t{} {}\t{}\tafter {} attempt(s)\t{}{}",
                        f.state,
                        f.resource_type,
                        f.resource_id,
                        f.failed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                        f.attempts,
                        f.last_status
                            .map(|s| format!("HTTP {s}: "))
                            .unwrap_or_default(),
                        f.last_error.unwrap_or_default()
                    );
                }
            }
            WebhookCommand::Pause { id } => {
                let s = dir.pause_webhook(&id, true).await?;
                println!(
                    "paused webhook {}; events queue until it is resumed (those waiting longer \
                     than SCIMD_EVENTS_RETRY_FOR are parked)",
                    s.id
                );
            }
            WebhookCommand::Resume { id } => {
                let s = dir.pause_webhook(&id, false).await?;
                println!("resumed webhook {}; {} event(s) waiting", s.id, s.backlog);
            }
            WebhookCommand::Retry { id } => {
                let n = dir.retry_parked(&id).await?;
                println!("{n} parked event(s) queued again");
            }
            WebhookCommand::Remove { id } => {
                dir.remove_webhook(&id).await?;
                println!("removed webhook {id}");
            }
            WebhookCommand::RotateSecret { id, json } => {
                show_secret(&dir.rotate_webhook_secret(&id).await?, json);
            }
            WebhookCommand::Test {
                id,
                address,
                delivery,
            } => {
                let settings = EventSettings {
                    timeout: delivery.events_timeout,
                    issuer: scimd::events_issuer(&address),
                    ..EventSettings::default()
                };
                let dir = dir.with_events(settings).map_err(StartError::Config)?;
                let answer = dir.test_webhook(&id).await?;
                let status = answer
                    .status
                    .map(|s| format!("HTTP {s}"))
                    .unwrap_or_else(|| "no answer".to_owned());
                let verdict = match &answer.outcome {
                    Outcome::Delivered => "delivered".to_owned(),
                    Outcome::Dropped { error, .. } => {
                        format!("refused (would be dropped): {error}")
                    }
                    Outcome::Retry { error, .. } => format!("failed (would be retried): {error}"),
                };
                println!("{status}: {verdict}");
                if !answer.body.trim().is_empty() {
                    println!("{}", answer.body.trim());
                }
                if answer.outcome != Outcome::Delivered {
                    return Err(StartError::Config(
                        "the receiver did not accept the test event".into(),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A subscription's id and its new secret, shown once.
fn show_secret(issued: &IssuedWebhook, json: bool) {
    let s = &issued.subscription;
    if json {
        let mut out = described(s);
        out["secret"] = json!(issued.secret);
        println!("{out}");
        return;
    }
    eprintln!(
        "webhook of tenant {} to {}; the secret signs its events (HS256) and is shown once, \
         store it now:",
        s.tenant_name, s.url
    );
    println!("id:     {}", s.id);
    println!("secret: {}", issued.secret);
}

/// A subscription as JSON (`list --json`).
fn described(s: &Subscription) -> Value {
    json!({
        "id": s.id,
        "tenant": s.tenant_name,
        "url": s.url,
        "events": s.kinds.to_string(),
        "full": s.full,
        "state": state(s),
        "delivered": s.delivered,
        "backlog": s.backlog,
        "failed": s.failed,
        "lastSuccess": s.last_success,
        "lastError": s.last_error,
        "lastErrorAt": s.last_error_at,
        "retryAt": s.retry_at,
        "created": s.created,
    })
}

fn state(s: &Subscription) -> String {
    if s.pull {
        // read by the application at /api/v1/events, never pushed
        "pull".to_owned()
    } else if s.paused {
        "paused".to_owned()
    } else if let Some(at) = s.retry_at.filter(|at| *at > chrono::Utc::now()) {
        format!("retrying at {}", at.to_rfc3339())
    } else {
        "active".to_owned()
    }
}

/// A subscription in one line (`list`).
fn line(s: &Subscription) -> String {
    format!(
        "{}\t{}\t{}\t{} ({})\t{}\tdelivered {}\tbacklog {}\tfailed {}\tlast success {}{}",
        s.id,
        s.tenant_name,
        if s.pull {
            "(pulled at /api/v1/events)"
        } else {
            &s.url
        },
        s.kinds,
        if s.full { "full" } else { "notice" },
        state(s),
        s.delivered,
        s.backlog,
        s.failed,
        s.last_success
            .map(|t| t.to_rfc3339())
            .unwrap_or_else(|| "never".to_owned()),
        s.last_error
            .as_ref()
            .map(|e| format!("\tlast error: {e}"))
            .unwrap_or_default()
    )
}
