//! `scimd webhook …` and `scimd events tail`: the application's subscriptions to SCIM events,
//! and a tenant's events printed as they commit.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use scimd::StartError;
use scimd::config::{EventsCommand, WebhookCommand};
use scimd::domain::events::{Kinds, Outcome, Subscription};
use scimd::service::Directory;
use scimd::service::events::IssuedWebhook;

/// How often `events tail` looks for new events.
const TAIL_POLL: Duration = Duration::from_millis(300);
/// How far behind the newest event `events tail` looks again, for events of requests that
/// committed after a later one.
const TAIL_WINDOW: i64 = 200;

pub async fn webhook(dir: &Directory, cmd: WebhookCommand) -> Result<(), StartError> {
    match cmd {
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
        WebhookCommand::Test { id } => {
            let answer = dir.test_webhook(&id).await?;
            let status = answer
                .status
                .map(|s| format!("HTTP {s}"))
                .unwrap_or_else(|| "no answer".to_owned());
            let verdict = match &answer.outcome {
                Outcome::Delivered => "delivered".to_owned(),
                Outcome::Dropped { error, .. } => format!("refused (would be dropped): {error}"),
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

pub async fn events(dir: &Directory, cmd: EventsCommand) -> Result<(), StartError> {
    let EventsCommand::Tail { tenant, json } = cmd;
    let mut newest = dir.last_event(&tenant).await?;
    // what had committed before the tail started is not shown
    let mut seen: BTreeSet<i64> = dir
        .events_after(&tenant, (newest - TAIL_WINDOW).max(0), 1_000)
        .await?
        .iter()
        .map(|e| e.seq)
        .collect();
    eprintln!("waiting for events of tenant {tenant} (Ctrl-C to stop)");
    let mut stop = std::pin::pin!(scimd::shutdown_signal());
    loop {
        for event in dir
            .events_after(&tenant, (newest - TAIL_WINDOW).max(0), 1_000)
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
    if s.paused {
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
        s.url,
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
