//! SCIM events (RFC 9967) for the application scimd keeps the directory for: its
//! subscriptions (`scimd webhook …`), the outbox read back (`scimd events tail`), and the
//! upkeep — the pending gauge, parking the queues of long-paused subscriptions, and pruning.
//! Delivery is `dispatch`; the SETs are `set`; the push protocol is `push`.

mod dispatch;
mod pull;
pub mod push;
pub mod set;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use tokio::sync::Notify;
use uuid::Uuid;

use super::tokens::secret;
use super::urls::https_or_loopback;
use super::{Directory, Error};
use crate::domain::TenantId;
use crate::domain::events::{
    Event, FailedDelivery, Kinds, NewSubscription, Receiver, Subscription,
};
use crate::scim;
use crate::scim::schema::Registry;
use crate::store::{EventStore, Tenants};
pub use pull::{Mark, Pulled, PulledEvent};
pub use push::Answer;
pub use set::Issuer;

/// Rows pruned or parked per statement.
const PRUNE_BATCH: u32 = 1_000;

/// How events are delivered (`SCIMD_EVENTS_*`).
#[derive(Debug, Clone)]
pub struct EventSettings {
    /// How long an event is retried before it is parked.
    pub retry_for: Duration,
    /// How long delivered events are kept.
    pub retention: Duration,
    /// How long one delivery may take.
    pub timeout: Duration,
    pub issuer: Issuer,
}

impl Default for EventSettings {
    fn default() -> Self {
        Self {
            retry_for: Duration::from_secs(3 * 24 * 3600),
            retention: Duration::from_secs(7 * 24 * 3600),
            timeout: Duration::from_secs(10),
            issuer: Issuer {
                iss: "http://127.0.0.1:8080".into(),
                scim_base: format!("http://127.0.0.1:8080{}", crate::scim::BASE_PATH),
            },
        }
    }
}

/// The events' part of the directory: settings, the HTTP client, this process's name as a
/// lease holder, and the signal that a change committed.
#[derive(Debug)]
pub struct Events {
    settings: EventSettings,
    http: Option<reqwest::Client>,
    owner: String,
    committed: Notify,
    /// SCIM requests being served (counted by the HTTP layer): while there are several, the
    /// dispatcher paces itself and leaves the cores to them.
    requests: Arc<std::sync::atomic::AtomicUsize>,
}

impl Events {
    pub fn new(settings: EventSettings) -> Result<Self, String> {
        let http = push::client(settings.timeout)?;
        Ok(Self {
            http: Some(http),
            ..Self::without_client(settings)
        })
    }

    fn without_client(settings: EventSettings) -> Self {
        Self {
            settings,
            http: None,
            owner: format!("{}/{}", std::process::id(), Uuid::new_v4().simple()),
            committed: Notify::new(),
            requests: Default::default(),
        }
    }
}

impl Default for Events {
    fn default() -> Self {
        Self::new(EventSettings::default())
            .unwrap_or_else(|_| Self::without_client(EventSettings::default()))
    }
}

/// A subscription just added, or its new secret: shown once.
#[derive(Debug, Clone)]
pub struct IssuedWebhook {
    pub subscription: Subscription,
    pub secret: String,
}

impl Directory {
    /// Delivers events as configured by `settings`.
    pub fn with_events(mut self, settings: EventSettings) -> Result<Self, String> {
        self.events = Arc::new(Events::new(settings)?);
        Ok(self)
    }

    /// The count of SCIM requests being served, which the HTTP layer keeps and the
    /// dispatcher reads.
    pub fn requests_in_flight(&self) -> Arc<std::sync::atomic::AtomicUsize> {
        self.events.requests.clone()
    }

    /// Tells the dispatcher that a change with an event committed.
    pub(super) fn committed(&self) {
        self.events.committed.notify_one();
    }

    /// Subscribes `url` to the events of `tenant` (`kinds` of them; `full` with the resource).
    pub async fn add_webhook(
        &self,
        tenant: &str,
        url: &str,
        kinds: Kinds,
        full: bool,
    ) -> Result<IssuedWebhook, Error> {
        let url = url.trim();
        https_or_loopback("webhook URL", url)?;
        self.subscribe(tenant, url, kinds, full).await
    }

    /// Subscribes `tenant`'s events: pushed to `url`, or pulled by the application when it
    /// is empty; with a new secret, shown once.
    pub(super) async fn subscribe(
        &self,
        tenant: &str,
        url: &str,
        kinds: Kinds,
        full: bool,
    ) -> Result<IssuedWebhook, Error> {
        let tenant = self.tenant(tenant).await?;
        let secret = secret("whsec_")?;
        let pull = url.is_empty();
        let new = NewSubscription {
            tenant: tenant.id,
            url: url.to_owned(),
            kinds,
            full,
            secret: secret.clone(),
            pull,
        };
        let subscription = self.store.add_subscription(&new, self.now()).await?;
        let detail = format!("events: {}; full: {full}", kinds.names().join(","));
        let action = if pull { "consumer.add" } else { "webhook.add" };
        self.audited(
            action,
            Some(&tenant.name),
            Some(subscription.id.to_string()),
            Some(detail),
        )
        .await;
        Ok(IssuedWebhook {
            subscription,
            secret,
        })
    }

    /// Every subscription, or those of `tenant`, with their delivery state.
    pub async fn webhooks(&self, tenant: Option<&str>) -> Result<Vec<Subscription>, Error> {
        let tenant = match tenant {
            Some(name) => Some(self.tenant(name).await?.id),
            None => None,
        };
        Ok(self.store.subscriptions(tenant).await?)
    }

    pub async fn webhook(&self, id: &str) -> Result<Subscription, Error> {
        Ok(self.store.subscription(webhook_id(id)?).await?)
    }

    /// Stops (or resumes) delivering to a subscription; its events keep queueing meanwhile,
    /// and those that wait longer than `SCIMD_EVENTS_RETRY_FOR` are parked ([`Self::park_paused`]).
    pub async fn pause_webhook(&self, id: &str, paused: bool) -> Result<Subscription, Error> {
        let id = webhook_id(id)?;
        self.store.set_paused(id, paused).await?;
        if !paused {
            self.committed();
        }
        let subscription = self.store.subscription(id).await?;
        let action = if paused {
            "webhook.pause"
        } else {
            "webhook.resume"
        };
        self.audited(
            action,
            Some(&subscription.tenant_name),
            Some(id.to_string()),
            None,
        )
        .await;
        Ok(subscription)
    }

    /// Removes a subscription and the events it had still to receive.
    pub async fn remove_webhook(&self, id: &str) -> Result<(), Error> {
        let id = webhook_id(id)?;
        let tenant = self.store.subscription(id).await?.tenant_name;
        self.store.remove_subscription(id).await?;
        self.audited("webhook.remove", Some(&tenant), Some(id.to_string()), None)
            .await;
        Ok(())
    }

    /// A new signing secret; the old one stops signing at once.
    pub async fn rotate_webhook_secret(&self, id: &str) -> Result<IssuedWebhook, Error> {
        let id = webhook_id(id)?;
        let secret = secret("whsec_")?;
        self.store.set_secret(id, &secret).await?;
        let subscription = self.store.subscription(id).await?;
        self.audited(
            "webhook.rotate",
            Some(&subscription.tenant_name),
            Some(id.to_string()),
            None,
        )
        .await;
        Ok(IssuedWebhook {
            subscription,
            secret,
        })
    }

    /// The subscription's dropped and parked events, newest first.
    pub async fn webhook_failures(
        &self,
        id: &str,
        limit: u32,
    ) -> Result<Vec<FailedDelivery>, Error> {
        Ok(self.store.failures(webhook_id(id)?, limit).await?)
    }

    /// Parked events of a subscription queued again; how many.
    pub async fn retry_parked(&self, id: &str) -> Result<u64, Error> {
        let id = webhook_id(id)?;
        let tenant = self.store.subscription(id).await?.tenant_name;
        let n = self.store.requeue(id).await?;
        self.committed();
        self.audited(
            "webhook.retry",
            Some(&tenant),
            Some(id.to_string()),
            Some(format!("{n} parked event(s) queued again")),
        )
        .await;
        Ok(n)
    }

    /// Sends a test event to the subscription and returns the receiver's answer.
    pub async fn test_webhook(&self, id: &str) -> Result<Answer, Error> {
        let receiver = self.store.receiver(webhook_id(id)?).await?;
        let claims = set::test_claims(&self.events.settings.issuer, &receiver, self.now());
        Ok(self.push(&receiver, &claims).await)
    }

    /// Signs and pushes `claims` to `receiver`.
    async fn push(&self, receiver: &Receiver, claims: &Value) -> Answer {
        let Some(http) = &self.events.http else {
            return Answer::none("scimd has no HTTP client for events".into());
        };
        match set::sign(claims, receiver.id, &receiver.secret) {
            Ok(token) => push::push(http, &receiver.url, token).await,
            Err(e) => Answer::none(e),
        }
    }

    /// The seq of the tenant's last event (where a tail starts).
    pub async fn last_event(&self, tenant: &str) -> Result<i64, Error> {
        let tenant = self.tenant(tenant).await?;
        Ok(self.store.last_event(tenant.id).await?)
    }

    /// The tenant's events after `after`, in commit order.
    pub async fn events_after(
        &self,
        tenant: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Event>, Error> {
        let tenant = self.tenant(tenant).await?;
        Ok(self.store.events_after(tenant.id, after, limit).await?)
    }

    /// The registry of the tenant `id`'s requests, read now; scimd's own if the tenant cannot
    /// be read (its events then show only the attributes scimd knows).
    async fn registry_of_tenant(&self, id: TenantId) -> Arc<Registry> {
        match self.store.tenant_by_id(id).await {
            Ok(tenant) => match self.registry_of(&tenant).await {
                Ok(registry) => registry,
                Err(_) => self.cached_registry(id),
            },
            Err(_) => self.cached_registry(id),
        }
    }

    /// An event as a SET's claims (unsigned, every kind, `full` when the outbox kept the
    /// resource): what `scimd events tail --json` prints.
    pub async fn event_claims(&self, event: &Event) -> Value {
        let registry = self.registry_of_tenant(event.tenant).await;
        let everyone = Receiver {
            id: Uuid::nil(),
            tenant: event.tenant,
            url: String::new(),
            kinds: Kinds::ALL,
            full: true,
            secret: String::new(),
            pull: false,
            acknowledged: 0,
        };
        let mut claims = set::claims(&self.events.settings.issuer, &registry, event, &everyone);
        if let Some(c) = claims.as_object_mut() {
            c.remove("aud");
            c.insert("jti".into(), Value::String(event.id.simple().to_string()));
        }
        claims
    }

    /// Deliveries pending, as the gauge `scimd_events_pending`.
    pub async fn report_events(&self) -> Result<(), Error> {
        let pending = self.store.pending_count().await?;
        metrics::gauge!("scimd_events_pending").set(pending as f64);
        Ok(())
    }

    /// Deletes events older than the retention at `now` that no delivery needs any more, and
    /// failed deliveries as old; how many rows went.
    pub async fn prune_events(&self, now: DateTime<Utc>) -> Result<u64, Error> {
        let retention = self.events.settings.retention;
        let before = now - TimeDelta::from_std(retention).unwrap_or(TimeDelta::days(7));
        let mut total = 0;
        loop {
            let pruned = self.store.prune_events(before, PRUNE_BATCH).await?;
            total += pruned;
            if pruned == 0 {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }

    /// Parks the pending events of paused subscriptions that have waited longer than
    /// `SCIMD_EVENTS_RETRY_FOR` at `now`, as a receiver that fails that long has its events
    /// parked: a paused queue is never sent, so its events could otherwise never be pruned,
    /// and one paused webhook would keep its tenant's outbox growing. `scimd webhook retry`
    /// queues them again. How many.
    pub async fn park_paused(&self, now: DateTime<Utc>) -> Result<u64, Error> {
        let retry_for = self.events.settings.retry_for;
        let before = now - TimeDelta::from_std(retry_for).unwrap_or(TimeDelta::days(3));
        let error = format!(
            "events waited longer than SCIMD_EVENTS_RETRY_FOR ({}) in a paused webhook or \
             an unread pull consumer: resume the webhook and retry the parked events, or read \
             the consumer's events, which acknowledges them",
            shown(retry_for)
        );
        let mut total = 0;
        loop {
            let parked = self
                .store
                .park_paused(before, now, &error, PRUNE_BATCH)
                .await?;
            total += parked;
            if parked == 0 {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }
}

/// A duration as the settings write it: in its largest whole unit (`3d`, `12h`, `90m`, `45s`).
fn shown(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{}ms", d.as_millis()),
        _ if s % 86_400 == 0 => format!("{}d", s / 86_400),
        _ if s % 3_600 == 0 => format!("{}h", s / 3_600),
        _ if s % 60 == 0 => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

/// A subscription id; one that is not a UUID names none.
pub(super) fn webhook_id(id: &str) -> Result<Uuid, Error> {
    id.trim()
        .parse()
        .map_err(|_| scim::Error::not_found(format!("no webhook with id {id}")).into())
}
