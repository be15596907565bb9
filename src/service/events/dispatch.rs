//! The dispatcher: in every scimd process, a task that claims subscriptions with events due
//! (a lease in the database, so that replicas on one PostgreSQL share the work without
//! sending an event twice) and a worker per claimed subscription that pushes its events in
//! commit order, one at a time. A receiver that fails holds up only its own subscription:
//! the worker records the failure, gives the lease up with a time before which nobody
//! retries, and ends. An event retried for longer than `SCIMD_EVENTS_RETRY_FOR` is parked and
//! the next one goes. A worker that dies (the process is killed) leaves a lease that expires;
//! another process, or the restarted one, then delivers what was not recorded as delivered —
//! again, with the same `jti`.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

use super::set;
use crate::domain::events::{Outcome, Pending, Receiver};
use crate::service::Directory;
use crate::store::EventStore;
use crate::store::StoreError;
use crate::store::events::Failure;
use crate::telemetry;

/// Subscriptions one claim takes at most.
const CLAIM: u32 = 32;
/// Events a worker reads at a time.
const BATCH: u32 = 256;
/// The shortest pause between two claims (a burst of commits wakes the dispatcher often).
const CLAIM_PAUSE: Duration = Duration::from_millis(20);
/// SCIM requests in flight from which a worker paces itself: Entra's requests come first;
/// events catch up as soon as the burst is over.
const BUSY: usize = 4;
/// While scimd is busy, a worker pauses [`PACE`] after every `PACE_EVERY` events: at most
/// about two thousand events a second per subscription then, more than a busy SQLite commits,
/// fewer than PostgreSQL can.
const PACE: Duration = Duration::from_millis(1);
const PACE_EVERY: usize = 2;
/// How often the dispatcher looks without being woken: for other replicas' commits, and
/// for subscriptions whose wait is over.
const POLL: Duration = Duration::from_secs(1);

impl Directory {
    /// Delivers events until the task is dropped.
    pub async fn dispatch_events(self) {
        let mut poll = tokio::time::interval(POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = poll.tick() => {}
                () = self.events.committed.notified() => {}
            }
            self.claim_and_deliver().await;
            tokio::time::sleep(CLAIM_PAUSE).await;
        }
    }

    /// Claims the subscriptions that have events due and starts a worker for each.
    async fn claim_and_deliver(&self) {
        let now = self.now();
        let until = now + lease(self.events.settings.timeout);
        match self
            .store
            .claim(&self.events.owner, now, until, CLAIM)
            .await
        {
            Ok(receivers) => {
                for receiver in receivers {
                    let dir = self.clone();
                    tokio::spawn(async move { dir.deliver_to(receiver).await });
                }
            }
            Err(e) => {
                tracing::warn!(error = %telemetry::chain(&e), "cannot claim event subscriptions")
            }
        }
    }

    /// Pushes `receiver`'s pending events in order while it holds the lease and they are
    /// delivered, dropped or parked; stops at the first to retry, or when none is left.
    async fn deliver_to(self, receiver: Receiver) {
        let owner = self.events.owner.clone();
        if let Err(e) = self.work(&receiver, &owner).await {
            tracing::warn!(subscription = %receiver.id, error = %telemetry::chain(&e),
                "event delivery stopped; the lease lapses and delivery resumes after it");
        }
    }

    async fn work(&self, receiver: &Receiver, owner: &str) -> Result<(), StoreError> {
        let timeout = self.events.settings.timeout;
        let mut renewed = Instant::now();
        let mut sent: usize = 0;
        loop {
            let batch = self.store.pending(receiver.id, BATCH).await?;
            if batch.is_empty() {
                return self.store.release(receiver.id, owner, None).await;
            }
            // the subscription as it is now, read after the batch: events committed after a
            // rotate-secret are signed with the new secret
            let receiver = &match self.store.receiver(receiver.id).await {
                Ok(current) => current,
                Err(StoreError::NotFound(_)) => return Ok(()), // removed meanwhile
                Err(e) => return Err(e),
            };
            // the tenant's schemas as they are now: `full` events show its extensions
            let registry = self.registry_of_tenant(receiver.tenant).await;
            let mut delivered = Vec::new();
            for pending in batch {
                if renewed.elapsed() > lease(timeout) / 3 {
                    self.store
                        .delivered(receiver.id, &delivered, self.now())
                        .await?;
                    delivered.clear();
                    let until = self.now() + lease(timeout);
                    if !self.store.renew(receiver.id, owner, until).await? {
                        // paused, removed, or taken over after a stall: stop here
                        return self.store.release(receiver.id, owner, None).await;
                    }
                    renewed = Instant::now();
                }
                sent += 1;
                if sent % PACE_EVERY == 0 && self.busy() {
                    tokio::time::sleep(PACE).await;
                }
                let claims = set::claims(
                    &self.events.settings.issuer,
                    &registry,
                    &pending.event,
                    receiver,
                );
                let answer = self.push(receiver, &claims).await;
                metrics::counter!("scimd_events_delivered_total", "outcome" => answer.outcome.label())
                    .increment(1);
                match answer.outcome {
                    Outcome::Delivered => {
                        let lag = self.clock().since(pending.event.at);
                        metrics::histogram!("scimd_events_lag_seconds").record(lag.as_secs_f64());
                        delivered.push(pending.event.seq);
                    }
                    Outcome::Dropped { status, error } => {
                        tracing::warn!(subscription = %receiver.id, seq = pending.event.seq,
                            status, %error, "the receiver refused an event; dropped");
                        let failure =
                            failure(&pending, "dropped", (Some(status), error), self.now());
                        self.store.failed(receiver.id, &failure).await?;
                    }
                    Outcome::Retry {
                        status,
                        error,
                        after,
                    } => {
                        self.store
                            .delivered(receiver.id, &delivered, self.now())
                            .await?;
                        let mut failure = failure(&pending, "pending", (status, error), self.now());
                        let retry_for = TimeDelta::from_std(self.events.settings.retry_for)
                            .unwrap_or(TimeDelta::days(3));
                        if failure.at - failure.first_failure >= retry_for {
                            failure.state = "parked";
                            tracing::warn!(subscription = %receiver.id, seq = pending.event.seq,
                                error = %failure.error, "an event failed for too long; parked");
                            self.store.failed(receiver.id, &failure).await?;
                            delivered.clear();
                            continue;
                        }
                        let wait = super::push::backoff(failure.attempts, after);
                        tracing::info!(subscription = %receiver.id, seq = pending.event.seq,
                            attempts = failure.attempts, wait_ms = wait.as_millis() as u64,
                            error = %failure.error, "event delivery failed; retrying later");
                        self.store.failed(receiver.id, &failure).await?;
                        let retry_at = failure.at
                            + TimeDelta::from_std(wait).unwrap_or(TimeDelta::minutes(10));
                        return self.store.release(receiver.id, owner, Some(retry_at)).await;
                    }
                }
            }
            self.store
                .delivered(receiver.id, &delivered, self.now())
                .await?;
        }
    }
}

impl Directory {
    /// Whether scimd serves [`BUSY`] requests or more.
    fn busy(&self) -> bool {
        self.events
            .requests
            .load(std::sync::atomic::Ordering::Relaxed)
            >= BUSY
    }
}

/// How long a claim holds a subscription: long enough for a few deliveries that time out.
fn lease(timeout: Duration) -> Duration {
    (timeout * 3).max(Duration::from_secs(30))
}

/// The record of a failed attempt of `pending`, at `at`.
fn failure(
    pending: &Pending,
    state: &'static str,
    (status, error): (Option<u16>, String),
    at: DateTime<Utc>,
) -> Failure {
    Failure {
        seq: pending.event.seq,
        state,
        attempts: pending.attempts.saturating_add(1),
        first_failure: pending.first_failure.unwrap_or(at),
        status,
        error,
        at,
    }
}
