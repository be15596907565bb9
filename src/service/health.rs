//! Each tenant's provisioning health (`domain::health`), read from what scimd records: the
//! tenant's first connection, its cycles of the last day, the current cycle's refusals by
//! cause, and the requests refused since the last accepted one because the tenant's credential
//! stopped working (the auth layer records those 401s under the tenant).

use chrono::{DateTime, TimeDelta, Utc};

use super::{Directory, Error};
use crate::domain::Tenant;
use crate::domain::activity::{self, MinuteCount, minute};
use crate::domain::health::{Reading, Reason, State, Thresholds, evaluate};
use crate::domain::setup;
use crate::store::{ActivityStore, SetupStore};

/// How far back health reads a tenant's activity.
const WINDOW: TimeDelta = TimeDelta::days(1);

/// A tenant's health now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub tenant: String,
    pub state: State,
    pub reasons: Vec<Reason>,
    /// The last request scimd accepted with one of the tenant's credentials (to the minute).
    pub last_accepted: Option<DateTime<Utc>>,
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
        })
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
        let last_accepted = last_accepted(&minutes, &lookups);
        // 401s of the minute after the last accepted one on: a refusal in that same minute
        // may have come before it
        let after = last_accepted.map_or(connected, |m| m + TimeDelta::minutes(1));
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

/// The last minute with a request scimd accepted: a change, or a lookup.
fn last_accepted(
    minutes: &[MinuteCount],
    lookups: &[(DateTime<Utc>, u64)],
) -> Option<DateTime<Utc>> {
    let changed = minutes
        .iter()
        .filter(|m| !m.refused)
        .map(|m| m.minute)
        .max();
    let looked = lookups.iter().map(|(m, _)| *m).max();
    changed.max(looked)
}
