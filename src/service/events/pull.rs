//! Events the application pulls (`GET /api/v1/events`; WorkOS's events API, RFC 8936's poll
//! delivery in spirit): a pull consumer is a subscription of its own kind, whose delivery rows
//! hold its unread events against pruning and count in the backlog like a webhook's. Reads go
//! by positions stamped in commit order, so a cursor skips no event that committed late; a
//! read after a cursor acknowledges every event up to it.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::{IssuedWebhook, set, webhook_id};
use crate::domain::events::Kinds;
use crate::scim;
use crate::service::{Directory, Error};
use crate::store::{EventStore, StoreError};

/// Events stamped per transaction.
const STAMP_BATCH: u32 = 1_000;
/// Stamping transactions per read at most: the rest is stamped by the next reads.
const STAMPS_PER_READ: u32 = 50;
/// How much earlier than the event a cursor ends at another event of a later position may
/// have been written (a transaction's time from its write to its commit, well past any
/// request's time limit): a cursor is good for the retention less this.
const COMMIT_SKEW: TimeDelta = TimeDelta::hours(1);

/// Where a consumer's read starts: after the event at `position`, which was written at `at`
/// (or the time of a read that found nothing after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub position: i64,
    pub at: DateTime<Utc>,
}

/// One event read: where it is, and the SET a webhook of the consumer's would carry.
#[derive(Debug, Clone)]
pub struct PulledEvent {
    pub mark: Mark,
    /// The SET signed with the consumer's secret (HS256, `kid` the consumer's id).
    pub set: String,
    /// Its claims, unsigned.
    pub claims: Value,
}

/// What a read gives.
#[derive(Debug, Clone)]
pub enum Pulled {
    /// The events after the mark, and where the next read starts.
    Events {
        events: Vec<PulledEvent>,
        next: Mark,
    },
    /// The mark is older than what scimd keeps: events after it may have been pruned.
    Expired { kept_since: DateTime<Utc> },
}

impl Directory {
    /// A pull consumer of `tenant`'s events (`kinds` of them; `full` with the resource); its
    /// id and the secret its SETs are signed with are shown once.
    pub async fn add_consumer(
        &self,
        tenant: &str,
        kinds: Kinds,
        full: bool,
    ) -> Result<IssuedWebhook, Error> {
        // no URL: nothing is pushed
        self.subscribe(tenant, "", kinds, full).await
    }

    /// The consumer `id`'s events after `after` (from the oldest kept without it), at most
    /// `limit`, in commit order. Reading after a mark acknowledges every event up to it: the
    /// consumer's deliveries of them go, and the events may be pruned once older than
    /// `SCIMD_EVENTS_RETENTION`. A mark that old is refused ([`Pulled::Expired`]); unread
    /// events are kept `SCIMD_EVENTS_RETRY_FOR` (then parked) plus the retention.
    pub async fn pull_events(
        &self,
        id: &str,
        after: Option<Mark>,
        limit: u32,
    ) -> Result<Pulled, Error> {
        // the consumer as the dispatcher reads a webhook: by its key, its backlog not counted
        let mut consumer = match self.store.receiver(consumer_id(id)?).await {
            Ok(r) if r.pull => r,
            Ok(_) | Err(StoreError::NotFound(_)) => return Err(no_consumer(id)),
            Err(e) => return Err(e.into()),
        };
        consumer.url = format!("urn:scimd:consumer:{}", consumer.id);
        let now = self.now();
        let settings = &self.events.settings;
        let retention = TimeDelta::from_std(settings.retention).unwrap_or(TimeDelta::days(7));
        let retry_for = TimeDelta::from_std(settings.retry_for).unwrap_or(TimeDelta::days(3));
        if let Some(mark) = after {
            // unread events are held by the consumer's deliveries until parked, then kept
            // the retention; events it acknowledged, only the retention
            let kept = match mark.position < consumer.acknowledged {
                true => retention,
                false => retry_for + retention,
            };
            let kept_since = now - kept + COMMIT_SKEW;
            if mark.at < kept_since {
                return Ok(Pulled::Expired { kept_since });
            }
            // a replay, or a poll from where it stood, acknowledges nothing: no write
            if mark.position > consumer.acknowledged {
                self.store
                    .acknowledge(consumer.id, mark.position, now)
                    .await?;
            }
        }
        for _ in 0..STAMPS_PER_READ {
            if self
                .store
                .stamp_events(consumer.tenant, STAMP_BATCH)
                .await?
                < u64::from(STAMP_BATCH)
            {
                break;
            }
        }
        let from = after.map_or(0, |m| m.position);
        let stamped = self
            .store
            .stamped_events(consumer.tenant, consumer.kinds, from, limit)
            .await?;
        let registry = self.registry_of_tenant(consumer.tenant).await;
        let mut events = Vec::with_capacity(stamped.len());
        for (position, event) in stamped {
            let claims = set::claims(&settings.issuer, &registry, &event, &consumer);
            let set = set::sign(&claims, consumer.id, &consumer.secret)
                .map_err(|e| Error::Internal(e.into()))?;
            let mark = Mark {
                position,
                at: event.at,
            };
            events.push(PulledEvent { mark, set, claims });
        }
        let next = match events.last() {
            Some(last) => last.mark,
            // nothing after the mark: whatever commits from now on is written from now on
            None => Mark {
                position: from,
                at: now,
            },
        };
        Ok(Pulled::Events { events, next })
    }
}

fn consumer_id(id: &str) -> Result<uuid::Uuid, Error> {
    webhook_id(id).map_err(|_| no_consumer(id))
}

fn no_consumer(id: &str) -> Error {
    scim::Error::not_found(format!("no pull consumer with id {id}")).into()
}
