//! The notifier: sends tenants' changes of health — e-mail through SMTP (lettre) to a tenant's
//! notification addresses and its team admins who opted in, and every change to the operator
//! webhook — from a background worker with outbox rows of its own (`notifications`), so that a
//! slow mail server never touches a request. Each pass fans the changes not yet fanned out into
//! one row per change, channel and recipient (idempotently, whichever replicas do it), then
//! sends the rows that are due under a lease, as the events dispatcher does, retrying failures
//! with the events' backoff for `SCIMD_ALERT_RETRY_FOR`, then giving up with the error kept.

mod addresses;
pub mod email;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use uuid::Uuid;

pub use addresses::{MAX_ADDRESSES, check_address, check_addresses};

use super::{Directory, Error};
use crate::domain::notify::{Channel, Notification, mailed};
use crate::scim;
use crate::service::events::push;
use crate::store::{NotifyStore, OAuthStore};
use crate::telemetry;
use email::{Failure, Mailer};
use webhook::Hook;

/// Changes fanned out, and rows leased, per statement.
const BATCH: u32 = 16;
/// The shortest wait before a failed row is tried again.
const MIN_WAIT: Duration = Duration::from_secs(1);
/// How often `scimd serve` looks for changes and due rows.
const PACE: Duration = Duration::from_secs(2);

/// Where alerts go and for how long they are retried.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    pub mailer: Option<Mailer>,
    pub hook: Option<Hook>,
    pub retry_for: Duration,
    /// `iss` of the webhook's SETs: `SCIMD_PUBLIC_URL` or the listening address.
    pub root: String,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            mailer: None,
            hook: None,
            retry_for: Duration::from_secs(86_400),
            root: String::from("http://127.0.0.1:8080"),
        }
    }
}

impl NotifySettings {
    /// The settings, checked together: `smtp` (lettre's URL and the sender) for e-mail, each
    /// exchange within `timeout`; `hook` (its URL, https or http on loopback as the events'
    /// webhooks, and a secret of at least 16 characters); `root` the URL scimd is reached at.
    pub fn new(
        smtp: (Option<&str>, Option<&str>),
        hook: (Option<&str>, Option<&str>),
        timeout: Duration,
        retry_for: Duration,
        root: String,
    ) -> Result<Self, String> {
        let mailer = match smtp {
            (None, None) => None,
            (Some(url), Some(from)) => Some(Mailer::new(url, from, timeout)?),
            (Some(_), None) => {
                return Err("SCIMD_SMTP_URL needs SCIMD_SMTP_FROM, the sender".into());
            }
            (None, Some(_)) => return Err("SCIMD_SMTP_FROM is set without SCIMD_SMTP_URL".into()),
        };
        let hook = match hook {
            (None, None) => None,
            (Some(url), Some(secret)) => {
                super::urls::https_or_loopback("SCIMD_ALERT_WEBHOOK_URL", url)
                    .map_err(|e| telemetry::chain(&e))?;
                if secret.len() < 16 {
                    return Err("SCIMD_ALERT_WEBHOOK_SECRET must be at least 16 characters".into());
                }
                Some(Hook {
                    url: url.to_owned(),
                    secret: secret.to_owned(),
                    http: push::client(timeout)?,
                })
            }
            (Some(_), None) => {
                return Err("SCIMD_ALERT_WEBHOOK_URL needs SCIMD_ALERT_WEBHOOK_SECRET".into());
            }
            (None, Some(_)) => {
                return Err(
                    "SCIMD_ALERT_WEBHOOK_SECRET is set without SCIMD_ALERT_WEBHOOK_URL".into(),
                );
            }
        };
        Ok(Self {
            mailer,
            hook,
            retry_for,
            root,
        })
    }

    fn console(&self) -> String {
        format!("{}/admin", self.root)
    }
}

/// What one pass of the notifier did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    pub fanned_out: usize,
    pub sent: usize,
    pub failed: usize,
    pub given_up: usize,
}

/// The notifier's settings and the id its leases are taken under.
#[derive(Debug)]
pub struct Notifier {
    settings: NotifySettings,
    owner: String,
}

impl Default for Notifier {
    fn default() -> Self {
        Self::new(NotifySettings::default())
    }
}

impl Notifier {
    pub fn new(settings: NotifySettings) -> Self {
        Self {
            settings,
            owner: format!("notifier-{}", Uuid::new_v4().simple()),
        }
    }
}

impl Directory {
    /// Sends alerts with `settings`.
    pub fn with_notify(mut self, settings: NotifySettings) -> Self {
        self.notify = Arc::new(Notifier::new(settings));
        self
    }

    /// The tenant's notification addresses.
    pub async fn notify_addresses(&self, tenant: &str) -> Result<Vec<String>, Error> {
        let tenant = self.tenant(tenant).await?;
        Ok(self.store.notify_addresses(tenant.id).await?)
    }

    /// Replaces the tenant's notification addresses (at most [`MAX_ADDRESSES`], each an
    /// address, none twice); the list as stored.
    pub async fn set_notify_addresses(
        &self,
        tenant: &str,
        addresses: &[String],
    ) -> Result<Vec<String>, Error> {
        let checked = check_addresses(addresses)?;
        let tenant = self.tenant(tenant).await?;
        self.store.set_notify_addresses(tenant.id, &checked).await?;
        self.audited(
            "tenant.notify",
            Some(&tenant.name),
            None,
            Some(checked.join(",")),
        )
        .await;
        Ok(checked)
    }

    /// Opts the team admin `username` in to the tenant's alerts at `email`, or out (`None`).
    /// Only team admins receive alerts: others are refused.
    pub async fn set_admin_notify(
        &self,
        tenant: &str,
        username: &str,
        email: Option<&str>,
    ) -> Result<Option<String>, Error> {
        let email = email.map(check_address).transpose()?;
        let tenant = self.tenant(tenant).await?;
        let admins = self.store.admins(tenant.id).await?;
        let admin = admins
            .iter()
            .find(|a| a.username.eq_ignore_ascii_case(username.trim()));
        match admin {
            Some(a) if !a.team_admin && email.is_some() => {
                return Err(scim::Error::invalid_value(format!(
                    "'{}' is not a team admin: only team admins receive alerts",
                    a.username
                ))
                .into());
            }
            Some(_) => {}
            None => {
                return Err(scim::Error::not_found(format!("no admin '{username}'")).into());
            }
        }
        self.store
            .set_admin_notify(tenant.id, username.trim(), email.as_deref())
            .await?;
        self.audited(
            "admin.notify",
            Some(&tenant.name),
            Some(username.trim().to_owned()),
            Some(email.clone().unwrap_or_else(|| "off".into())),
        )
        .await;
        Ok(email)
    }

    /// The addresses of the tenant's team admins who opted in, by username.
    pub async fn admin_notify(&self, tenant: &str) -> Result<Vec<(String, String)>, Error> {
        let tenant = self.tenant(tenant).await?;
        let all = self.store.admin_notify(tenant.id).await?;
        Ok(all
            .into_iter()
            .filter(|(_, _, team)| *team)
            .map(|(name, email, _)| (name, email))
            .collect())
    }

    /// The tenant's last `limit` alerts, newest first.
    pub async fn notifications(
        &self,
        tenant: &str,
        limit: u32,
    ) -> Result<Vec<Notification>, Error> {
        let tenant = self.tenant(tenant).await?;
        Ok(self.store.notifications(tenant.id, limit).await?)
    }

    /// One pass of the notifier: fans out the new changes, then sends what is due.
    pub async fn notify_once(&self) -> Result<Pass, Error> {
        let mut pass = Pass {
            fanned_out: self.fan_out().await?,
            ..Pass::default()
        };
        loop {
            let now = self.now();
            let lease = self.lease();
            let rows = self
                .store
                .claim_notifications(&self.notify.owner, now, now + lease, BATCH)
                .await?;
            let last = rows.len() < BATCH as usize;
            let mut sends = tokio::task::JoinSet::new();
            for row in rows {
                let dir = self.clone();
                sends.spawn(async move {
                    let result = dir.send(&row).await;
                    (row, result)
                });
            }
            while let Some(done) = sends.join_next().await {
                let Ok((row, result)) = done else { continue };
                self.settle(&row, result, &mut pass).await?;
            }
            if last {
                break;
            }
        }
        let pending = self.store.pending_notifications().await?;
        metrics::gauge!("scimd_notifications_pending").set(pending as f64);
        Ok(pass)
    }

    /// Runs the notifier every two seconds, until aborted.
    pub async fn send_notifications(self) {
        let mut tick = tokio::time::interval(PACE);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.notify_once().await {
                tracing::warn!(error = %telemetry::chain(&e), "alerts not sent; retrying");
            }
        }
    }

    /// How long a batch's rows are held: every send may take its whole timeout.
    fn lease(&self) -> TimeDelta {
        let timeout = self
            .notify
            .settings
            .mailer
            .as_ref()
            .map_or(Duration::from_secs(10), |m| m.timeout);
        TimeDelta::from_std(timeout.saturating_mul(4) + Duration::from_secs(60))
            .unwrap_or(TimeDelta::MAX)
    }

    async fn fan_out(&self) -> Result<usize, Error> {
        let settings = &self.notify.settings;
        let mut fanned = 0;
        loop {
            let changes = self.store.unfanned(BATCH).await?;
            let done = changes.len() < BATCH as usize;
            for u in changes {
                let mut rows: Vec<(Channel, String)> = Vec::new();
                if settings.mailer.is_some() && mailed(&u.change) {
                    let mut to = self.store.notify_addresses(u.tenant).await?;
                    for (_, email, team) in self.store.admin_notify(u.tenant).await? {
                        if team && !to.iter().any(|a| a.eq_ignore_ascii_case(&email)) {
                            to.push(email);
                        }
                    }
                    rows.extend(to.into_iter().map(|a| (Channel::Email, a)));
                }
                if let Some(hook) = &settings.hook {
                    rows.push((Channel::Webhook, hook.url.clone()));
                }
                self.store.fan_out(u.change.seq, &rows, self.now()).await?;
                fanned += 1;
            }
            if done {
                return Ok(fanned);
            }
        }
    }

    async fn send(&self, row: &Notification) -> Result<(), Failure> {
        let settings = &self.notify.settings;
        let console = settings.console();
        let gone = |what: &str| Failure {
            error: format!("{what} is no longer configured"),
            permanent: true,
            after: None,
        };
        match row.channel {
            Channel::Email => match &settings.mailer {
                Some(mailer) => mailer.send(&row.change, &row.recipient, &console).await,
                None => Err(gone("SCIMD_SMTP_URL")),
            },
            Channel::Webhook => match &settings.hook {
                Some(hook) => {
                    let claims = webhook::claims(
                        &row.change,
                        &settings.root,
                        &hook.url,
                        &console,
                        self.now(),
                    );
                    hook.send(&claims).await
                }
                None => Err(gone("SCIMD_ALERT_WEBHOOK_URL")),
            },
        }
    }

    async fn settle(
        &self,
        row: &Notification,
        result: Result<(), Failure>,
        pass: &mut Pass,
    ) -> Result<(), Error> {
        let channel = row.channel.as_str();
        let now = self.now();
        let owner = &self.notify.owner;
        let Err(failure) = result else {
            if self
                .store
                .settle_notification(row.id, owner, now, None)
                .await?
            {
                metrics::counter!("scimd_notifications_sent_total", "channel" => channel)
                    .increment(1);
                pass.sent += 1;
            }
            return Ok(());
        };
        metrics::counter!("scimd_notifications_failed_total", "channel" => channel).increment(1);
        pass.failed += 1;
        let attempts = row.attempts.saturating_add(1);
        // at least a second, whatever a receiver's Retry-After says: a row is never tried
        // twice in one pass
        let wait = push::backoff(attempts, failure.after).max(MIN_WAIT);
        let deadline = row.created
            + TimeDelta::from_std(self.notify.settings.retry_for).unwrap_or(TimeDelta::MAX);
        let retry_at = now + TimeDelta::from_std(wait).unwrap_or(TimeDelta::MAX);
        let retry_at = (!failure.permanent && now < deadline).then_some(retry_at);
        tracing::warn!(tenant = %row.change.tenant, channel, recipient = %row.recipient,
            attempts, error = %failure.error, retry_at = ?retry_at, "alert not sent");
        let failed = Some((failure.error.as_str(), retry_at));
        if self
            .store
            .settle_notification(row.id, owner, now, failed)
            .await?
            && retry_at.is_none()
        {
            metrics::counter!("scimd_notifications_given_up_total", "channel" => channel)
                .increment(1);
            pass.given_up += 1;
        }
        Ok(())
    }
}
