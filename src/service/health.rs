//! Each tenant's provisioning health (`domain::health`), read from what scimd records: the
//! tenant's first connection, its cycles of the last day, the current cycle's refusals by
//! cause, and the requests refused since the last accepted one because the tenant's credential
//! stopped working (the auth layer records those 401s under the tenant). The check records the
//! state (and each change of it, for the notifier) and sets the gauges Alertmanager reads;
//! `scimd serve` runs it for every tenant every `SCIMD_HEALTH_INTERVAL`.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::{Directory, Error};
use crate::domain::Tenant;
use crate::domain::activity::{self, minute};
use crate::domain::health::{
    Change, Reading, Reason, Recorded, State, TenantHealth, Thresholds, evaluate,
};
use crate::domain::setup;
use crate::store::{ActivityStore, HealthStore, SetupStore, Tenants};
use crate::telemetry;

/// How far back health reads a tenant's activity.
const WINDOW: TimeDelta = TimeDelta::days(1);

/// Tenants read per statement when every tenant's health is listed.
const PAGE: u32 = 500;

/// How health is checked (`SCIMD_ALERT_*`, `SCIMD_CYCLE_GAP`, `SCIMD_HEALTH_INTERVAL`).
#[derive(Debug, Clone, PartialEq)]
pub struct HealthSettings {
    pub thresholds: Thresholds,
    /// The quiet time that ends a cycle.
    pub gap: TimeDelta,
    /// How often `scimd serve` checks every tenant.
    pub interval: Duration,
}

impl Default for HealthSettings {
    fn default() -> Self {
        Self {
            thresholds: Thresholds::default(),
            gap: TimeDelta::minutes(10),
            interval: Duration::from_secs(15),
        }
    }
}

/// A tenant's health now, with the reading it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub tenant: String,
    pub state: State,
    pub reasons: Vec<Reason>,
    /// The last request scimd accepted with one of the tenant's credentials (to the minute).
    pub last_accepted: Option<DateTime<Utc>>,
    pub reading: Reading,
}

impl Directory {
    /// The health of `tenant`, given the state it was last in (`previous`) and the thresholds;
    /// cycles end after `gap` without a request.
    pub async fn health(
        &self,
        tenant: &Tenant,
        previous: Option<State>,
        thresholds: &Thresholds,
        gap: TimeDelta,
    ) -> Result<Health, Error> {
        let now = self.now();
        let reading = self.reading(tenant, gap, now).await?;
        let (state, reasons) = evaluate(&reading, previous, thresholds, now);
        Ok(Health {
            tenant: tenant.name.clone(),
            state,
            reasons,
            last_accepted: reading.last_accepted,
            reading,
        })
    }

    /// The settings health is checked with.
    pub fn health_settings(&self) -> &HealthSettings {
        &self.health
    }

    /// Checks `tenant`'s health and records it: a change of state (from the one recorded, or
    /// from `not_connected` for a tenant never checked) is recorded once, with its time, for
    /// the notifier; the gauges of `/metrics` follow. When another process recorded the tenant
    /// meanwhile, its record stands and is returned.
    pub async fn check_health(&self, tenant: &Tenant) -> Result<Recorded, Error> {
        let before = self.store.health(tenant.id).await?;
        let was = before.as_ref().map(|r| r.state);
        let settings = &self.health;
        let now_health = self
            .health(tenant, was, &settings.thresholds, settings.gap)
            .await?;
        let now = self.now();
        gauges(&now_health, now);
        let state = now_health.state;
        let changed = was.unwrap_or(State::NotConnected) != state;
        let recorded = Recorded {
            state,
            since: match &before {
                Some(b) if b.state == state => b.since,
                _ => now,
            },
            reasons: now_health.reasons,
            checked: now,
            last_accepted: now_health.last_accepted,
        };
        if let Some(b) = &before
            && b.state == recorded.state
            && b.reasons == recorded.reasons
            && b.last_accepted == recorded.last_accepted
        {
            // nothing new: no write
            return Ok(b.clone());
        }
        let change = changed.then(|| Change {
            seq: 0,
            id: Uuid::new_v4(),
            tenant: tenant.name.clone(),
            previous: was,
            state,
            at: now,
            reasons: recorded.reasons.clone(),
        });
        if self
            .store
            .record_health(tenant.id, was, &recorded, change.as_ref())
            .await?
        {
            if let Some(c) = &change {
                tracing::info!(tenant = %tenant.name, from = ?c.previous.map(State::as_str),
                    to = state.as_str(), "provisioning health changed");
                metrics::counter!("scimd_health_changes_total", "state" => state.as_str())
                    .increment(1);
            }
            return Ok(recorded);
        }
        Ok(self.store.health(tenant.id).await?.unwrap_or(recorded))
    }

    /// Checks every tenant's health; a tenant whose check fails is logged and skipped.
    /// How many were checked.
    pub async fn check_all_health(&self) -> Result<usize, Error> {
        let mut checked = 0;
        for tenant in self.store.tenants().await? {
            match self.check_health(&tenant).await {
                Ok(_) => checked += 1,
                Err(e) => tracing::warn!(tenant = %tenant.name,
                    error = %telemetry::chain(&e), "health not checked"),
            }
        }
        Ok(checked)
    }

    /// Checks every tenant's health every `SCIMD_HEALTH_INTERVAL`, until aborted.
    pub async fn watch_health(self) {
        let mut tick = tokio::time::interval(self.health.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.check_all_health().await {
                tracing::warn!(error = %telemetry::chain(&e), "tenants' health not checked");
            }
        }
    }

    /// The tenant's health, checked now.
    pub async fn tenant_health(&self, name: &str) -> Result<TenantHealth, Error> {
        let tenant = self.tenant(name).await?;
        let recorded = self.check_health(&tenant).await?;
        Ok(TenantHealth {
            tenant: tenant.name,
            id: tenant.id,
            recorded: Some(recorded),
        })
    }

    /// Tenants' recorded health, worst first then by name, after `after` (a state and a
    /// tenant's name), at most `limit`. A tenant never checked is `not_connected`.
    pub async fn health_page(
        &self,
        after: Option<(State, &str)>,
        limit: u32,
    ) -> Result<Vec<TenantHealth>, Error> {
        let after = after.map(|(s, name)| (s.rank(), name));
        Ok(self.store.health_page(after, limit).await?)
    }

    /// Every tenant's recorded health, worst first.
    pub async fn all_health(&self) -> Result<Vec<TenantHealth>, Error> {
        let mut all: Vec<TenantHealth> = Vec::new();
        loop {
            let after = all.last().map(|t| (state_of(t), t.tenant.as_str()));
            let page = self.health_page(after, PAGE).await?;
            let done = page.len() < PAGE as usize;
            all.extend(page);
            if done {
                return Ok(all);
            }
        }
    }

    /// The tenant's last `limit` changes of state, newest first.
    pub async fn health_history(&self, name: &str, limit: u32) -> Result<Vec<Change>, Error> {
        let tenant = self.tenant(name).await?;
        Ok(self.store.tenant_health_changes(tenant.id, limit).await?)
    }

    /// The changes of state of every tenant after `after` (0: from the first), oldest first.
    pub async fn health_changes(&self, after: i64, limit: u32) -> Result<Vec<Change>, Error> {
        Ok(self.store.health_changes(after, limit).await?)
    }

    async fn reading(
        &self,
        tenant: &Tenant,
        gap: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Reading, Error> {
        let connected = self.store.connected(tenant.id).await?.map(|c| c.at);
        let Some(connected) = connected else {
            return Ok(Reading::default());
        };
        self.flush_lookups().await?;
        let since = minute(now - WINDOW).max(minute(connected));
        let minutes = self.store.minute_counts(tenant.id, since).await?;
        let lookups = self.store.lookup_counts(tenant.id, since).await?;
        // the last accepted change is known to the millisecond, a lookup only by its minute:
        // 401s count from just after the change, or from the start of the lookup's minute (so
        // that a refusal in that minute before the lookup counts until the next minute's)
        let changed = self.store.last_accepted_change(tenant.id, since).await?;
        let looked = lookups.iter().map(|(m, _)| *m).max();
        let last_accepted = changed.max(looked);
        let after = match (changed, looked) {
            (Some(c), Some(l)) => (c + TimeDelta::milliseconds(1)).max(l),
            (Some(c), None) => c + TimeDelta::milliseconds(1),
            (None, Some(l)) => l.max(connected),
            (None, None) => connected,
        };
        let (rejected, last_rejected) = self.store.credential_refusals(tenant.id, after).await?;
        let cycle = activity::cycles(&minutes, &lookups, gap).pop();
        let causes = match &cycle {
            Some(c) if c.refused.total() > 0 => {
                let until = c.last + TimeDelta::minutes(1);
                let groups = self
                    .store
                    .refusal_groups(tenant.id, c.started, until)
                    .await?;
                setup::causes(&groups, &tenant.policy.matching)
                    .into_iter()
                    .filter(|c| c.status != 401)
                    .collect()
            }
            _ => Vec::new(),
        };
        Ok(Reading {
            connected: Some(connected),
            last_accepted: last_accepted.or(Some(connected)),
            rejected,
            last_rejected,
            cycle,
            causes,
        })
    }
}

/// A listed tenant's state: `not_connected` before its first check.
pub fn state_of(t: &TenantHealth) -> State {
    t.recorded.as_ref().map_or(State::NotConnected, |r| r.state)
}

/// The gauges Alertmanager's rules read: `scimd_tenant_health{tenant,state}` (1 for the
/// tenant's state, 0 for the others) and the counts behind it.
fn gauges(h: &Health, now: DateTime<Utc>) {
    let tenant = h.tenant.clone();
    for s in State::ALL {
        let value = if s == h.state { 1.0 } else { 0.0 };
        metrics::gauge!("scimd_tenant_health", "tenant" => tenant.clone(), "state" => s.as_str())
            .set(value);
    }
    let (operations, refused) = h.reading.cycle.as_ref().map_or((0, 0), |c| {
        let refused = c.refused.total();
        let done = c.created.total() + c.updated.total() + c.disabled.total() + c.deleted.total();
        (refused + done, refused)
    });
    metrics::gauge!("scimd_tenant_cycle_operations", "tenant" => tenant.clone())
        .set(operations as f64);
    metrics::gauge!("scimd_tenant_cycle_refused", "tenant" => tenant.clone()).set(refused as f64);
    metrics::gauge!("scimd_tenant_credentials_refused", "tenant" => tenant.clone())
        .set(h.reading.rejected as f64);
    let quiet = h
        .last_accepted
        .map_or(0.0, |t| (now - t).num_seconds().max(0) as f64);
    metrics::gauge!("scimd_tenant_quiet_seconds", "tenant" => tenant).set(quiet);
}
