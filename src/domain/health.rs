//! A tenant's provisioning health, read from what scimd records (the activity log's cycles and
//! refusals, the tenant's first connection, refused credentials), with the rules Entra applies
//! before it quarantines a provisioning job (Microsoft's "Application provisioning in
//! quarantine status", <https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-quarantine-status>):
//! it evaluates after 5 000 failures and quarantines when more than 40 % of a cycle's
//! operations fail or failures pass 40 000, and at once when the credentials are invalid.
//! scimd warns earlier: `degraded` at a lower ratio, `at_risk` at 30 %. A state is left only
//! when its condition is clearly gone (half its threshold), so that it does not flap.

use chrono::{DateTime, TimeDelta, Utc};

use super::activity::Cycle;
use super::setup::Cause;

/// A tenant's health, from best to worst known.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// No request with any of the tenant's credentials yet.
    NotConnected,
    Healthy,
    /// The current cycle refuses more than it should.
    Degraded,
    /// Entra is likely to stop sending: the tenant was active and has gone quiet.
    Silent,
    /// The current cycle approaches Entra's quarantine rules.
    AtRisk,
    /// The tenant's requests are refused as unauthenticated: Entra quarantines at once.
    CredentialsRejected,
}

impl State {
    pub const ALL: [State; 6] = [
        State::NotConnected,
        State::Healthy,
        State::Degraded,
        State::Silent,
        State::AtRisk,
        State::CredentialsRejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::NotConnected => "not_connected",
            State::Healthy => "healthy",
            State::Degraded => "degraded",
            State::Silent => "silent",
            State::AtRisk => "at_risk",
            State::CredentialsRejected => "credentials_rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Its place from best (0, `not_connected`) to worst, as stored for "worst first".
    pub fn rank(self) -> i64 {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0) as i64
    }

    /// The state in a sentence, in the identity admin's words.
    pub fn headline(self) -> &'static str {
        match self {
            State::NotConnected => "Entra has not connected yet",
            State::Healthy => "Provisioning is healthy",
            State::Degraded => {
                "Provisioning is degraded: Entra's current cycle has many refused changes"
            }
            State::Silent => {
                "Entra has stopped sending: its provisioning job may be quarantined or stopped"
            }
            State::AtRisk => "Entra is likely to quarantine provisioning at the end of this cycle",
            State::CredentialsRejected => {
                "Entra's requests are refused: the credentials it sends no longer work"
            }
        }
    }

    /// Whether someone should look: every state but `healthy` and `not_connected`.
    pub fn alerting(self) -> bool {
        self > State::Healthy
    }
}

/// The thresholds an operator sets (`SCIMD_ALERT_FAILURE_RATIO`, `SCIMD_ALERT_MIN_REQUESTS`,
/// `SCIMD_ALERT_SILENCE`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// The share of a cycle's changes refused that makes it `degraded` (0.10).
    pub failure_ratio: f64,
    /// The fewest changes a cycle must have before its ratio counts (50).
    pub min_requests: u64,
    /// How long a tenant that was active may send nothing before it is `silent` (2 h: three
    /// missed 40-minute cycles).
    pub silence: TimeDelta,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            failure_ratio: 0.10,
            min_requests: 50,
            silence: TimeDelta::hours(2),
        }
    }
}

/// The share of refusals at which a cycle is `at_risk`, and the size it needs for that.
const AT_RISK_RATIO: f64 = 0.30;
const AT_RISK_MIN_OPERATIONS: u64 = 1_000;
/// Refusals that make a cycle `at_risk` whatever its size (Entra quarantines at 40 000).
const AT_RISK_REFUSALS: u64 = 30_000;

/// What scimd recorded of a tenant, as health reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    /// The first request with one of the tenant's credentials.
    pub connected: Option<DateTime<Utc>>,
    /// The last request scimd accepted with one of them.
    pub last_accepted: Option<DateTime<Utc>>,
    /// Requests refused as unauthenticated with a credential of the tenant (revoked, expired)
    /// since `last_accepted`, and the last of them.
    pub rejected: u64,
    pub last_rejected: Option<DateTime<Utc>>,
    /// The tenant's current (or last) cycle.
    pub cycle: Option<Cycle>,
    /// That cycle's refusals by cause, most frequent first.
    pub causes: Vec<Cause>,
}

/// Why a tenant is in its state: what happened, how often, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reason {
    pub kind: String,
    pub count: u64,
    /// The refusals' HTTP status, `scimType` and attribute, where the reason is refusals.
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub scim_type: Option<String>,
    #[serde(default)]
    pub attribute: Option<String>,
    pub what: String,
    pub fix: String,
}

/// A tenant's health as the health check last recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub state: State,
    /// When the tenant entered `state`.
    pub since: DateTime<Utc>,
    pub reasons: Vec<Reason>,
    /// When it was last checked.
    pub checked: DateTime<Utc>,
    /// The last request scimd accepted with one of the tenant's credentials (to the minute).
    pub last_accepted: Option<DateTime<Utc>>,
}

/// One tenant's recorded health, for listings: `None` before its first check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantHealth {
    pub tenant: String,
    pub id: super::TenantId,
    pub recorded: Option<Recorded>,
}

/// A change of a tenant's state, as the health check records it once (whichever replica saw it
/// first) and the notifier sends it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    /// Its place in the order of all changes.
    pub seq: i64,
    pub id: uuid::Uuid,
    pub tenant: String,
    /// `None` for a tenant's first recorded state.
    pub previous: Option<State>,
    pub state: State,
    pub at: DateTime<Utc>,
    pub reasons: Vec<Reason>,
}

/// The state a reading puts a tenant in, given the state it was in (`previous`): a worse state
/// is entered as soon as its condition holds; a state is left only once its condition is
/// clearly gone (a ratio below half its threshold, a request after the silence, an accepted
/// request after the refused credentials).
pub fn evaluate(
    reading: &Reading,
    previous: Option<State>,
    thresholds: &Thresholds,
    now: DateTime<Utc>,
) -> (State, Vec<Reason>) {
    let Some(_) = reading.connected else {
        return (State::NotConnected, Vec::new());
    };
    let was = |s: State| previous == Some(s);
    if reading.rejected > 0 {
        let last = reading.last_rejected.map_or_else(String::new, |t| {
            format!(", the last at {}", t.format("%Y-%m-%d %H:%M UTC"))
        });
        let reason = Reason {
            kind: "credentials".to_owned(),
            count: reading.rejected,
            status: Some(401),
            scim_type: None,
            attribute: None,
            what: format!(
                "{} refused as not authenticated since the last accepted one{last}",
                requests(reading.rejected)
            ),
            fix: "the Secret Token was revoked or the authorization ended: generate a new token \
                  (or click Authorize again), paste it under Admin Credentials, Test Connection, \
                  and restart provisioning if Entra quarantined the job"
                .to_owned(),
        };
        return (State::CredentialsRejected, vec![reason]);
    }
    let quiet_since = reading.last_accepted.or(reading.connected);
    if let Some(quiet) = quiet_since.filter(|q| now - *q > thresholds.silence) {
        let hours = (now - quiet).num_minutes() as f64 / 60.0;
        let reason = Reason {
            kind: "silence".to_owned(),
            count: 0,
            status: None,
            scim_type: None,
            attribute: None,
            what: format!(
                "no request for {hours:.1} hours, where Entra sends a cycle about every 40 minutes"
            ),
            fix: "in Entra, open the application's Provisioning page: the job may be quarantined \
                  (its status says why), stopped, or have nobody in scope"
                .to_owned(),
        };
        return (State::Silent, vec![reason]);
    }
    let Some(cycle) = &reading.cycle else {
        return (State::Healthy, Vec::new());
    };
    let refused = cycle.refused.total();
    let operations = refused
        + cycle.created.total()
        + cycle.updated.total()
        + cycle.disabled.total()
        + cycle.deleted.total();
    let ratio = if operations == 0 {
        0.0
    } else {
        refused as f64 / operations as f64
    };
    // entering needs the threshold; staying needs half of it
    let holds = |threshold: f64, kept: bool| {
        if kept {
            ratio >= threshold / 2.0
        } else {
            ratio >= threshold
        }
    };
    let reasons = || -> Vec<Reason> {
        reading
            .causes
            .iter()
            .take(3)
            .map(|c| Reason {
                kind: c.kind.to_owned(),
                count: c.count,
                status: Some(c.status),
                scim_type: c.scim_type.clone(),
                attribute: c.attribute.clone(),
                what: c.what.clone(),
                fix: c.fix.clone(),
            })
            .collect()
    };
    let at_risk = (operations >= AT_RISK_MIN_OPERATIONS
        && holds(AT_RISK_RATIO, was(State::AtRisk)))
        || refused >= AT_RISK_REFUSALS;
    if at_risk {
        return (State::AtRisk, reasons());
    }
    let kept = was(State::Degraded) || was(State::AtRisk);
    if operations >= thresholds.min_requests && holds(thresholds.failure_ratio, kept) {
        return (State::Degraded, reasons());
    }
    (State::Healthy, Vec::new())
}

/// "1 request", "20 requests".
fn requests(n: u64) -> String {
    match n {
        1 => "1 request was".to_owned(),
        n => format!("{n} requests were"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::activity::Counts;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + TimeDelta::minutes(minutes)
    }

    fn cycle(created: u64, refused: u64) -> Cycle {
        Cycle {
            started: at(0),
            last: at(1),
            created: Counts {
                users: created,
                groups: 0,
            },
            refused: Counts {
                users: refused,
                groups: 0,
            },
            ..Default::default()
        }
    }

    fn reading(created: u64, refused: u64) -> Reading {
        Reading {
            connected: Some(at(0)),
            last_accepted: Some(at(1)),
            cycle: Some(cycle(created, refused)),
            ..Default::default()
        }
    }

    #[test]
    fn a_tenant_nobody_reached_is_not_connected() {
        let (state, reasons) = evaluate(&Reading::default(), None, &Thresholds::default(), at(5));
        assert_eq!((state, reasons.len()), (State::NotConnected, 0));
    }

    #[test]
    fn a_cycle_refusing_a_tenth_of_fifty_changes_is_degraded_and_recovers_below_half_of_it() {
        let t = Thresholds::default();
        assert_eq!(
            evaluate(&reading(45, 4), None, &t, at(2)).0,
            State::Healthy,
            "49 changes: too few"
        );
        assert_eq!(
            evaluate(&reading(45, 5), None, &t, at(2)).0,
            State::Degraded
        );
        assert_eq!(
            evaluate(&reading(10, 60), None, &t, at(2)).0,
            State::Degraded
        );
        // 6 % refused: enough to stay degraded, not to become so
        assert_eq!(evaluate(&reading(94, 6), None, &t, at(2)).0, State::Healthy);
        assert_eq!(
            evaluate(&reading(94, 6), Some(State::Degraded), &t, at(2)).0,
            State::Degraded
        );
        assert_eq!(
            evaluate(&reading(96, 4), Some(State::Degraded), &t, at(2)).0,
            State::Healthy
        );
    }

    #[test]
    fn a_cycle_near_entras_quarantine_rules_is_at_risk() {
        let t = Thresholds::default();
        assert_eq!(
            evaluate(&reading(700, 300), None, &t, at(2)).0,
            State::AtRisk
        );
        assert_eq!(
            evaluate(&reading(70, 30), None, &t, at(2)).0,
            State::Degraded,
            "under 1 000 operations"
        );
        assert_eq!(
            evaluate(&reading(900_000, 30_000), None, &t, at(2)).0,
            State::AtRisk
        );
        assert_eq!(
            evaluate(&reading(800, 200), Some(State::AtRisk), &t, at(2)).0,
            State::AtRisk,
            "20 % keeps it"
        );
        assert_eq!(
            evaluate(&reading(900, 100), Some(State::AtRisk), &t, at(2)).0,
            State::Degraded
        );
    }

    #[test]
    fn refused_credentials_come_first_and_end_with_an_accepted_request() {
        let t = Thresholds::default();
        let mut r = reading(100, 0);
        r.rejected = 20;
        r.last_rejected = Some(at(3));
        let (state, reasons) = evaluate(&r, Some(State::Healthy), &t, at(4));
        assert_eq!(state, State::CredentialsRejected);
        assert!(
            reasons[0]
                .what
                .starts_with("20 requests were refused as not authenticated"),
            "{}",
            reasons[0].what
        );
        r.rejected = 0;
        assert_eq!(evaluate(&r, Some(state), &t, at(5)).0, State::Healthy);
    }

    #[test]
    fn a_tenant_quiet_for_longer_than_the_silence_is_silent_until_it_sends_again() {
        let t = Thresholds::default();
        let r = reading(10, 0);
        assert_eq!(
            evaluate(&r, None, &t, at(1) + TimeDelta::minutes(119)).0,
            State::Healthy
        );
        let (state, reasons) = evaluate(&r, None, &t, at(1) + TimeDelta::minutes(121));
        assert_eq!(state, State::Silent);
        assert!(
            reasons[0].what.starts_with("no request for 2.0 hours"),
            "{}",
            reasons[0].what
        );
    }

    #[test]
    fn states_order_from_best_to_worst_and_read_back_from_their_names() {
        assert!(State::CredentialsRejected > State::AtRisk && State::AtRisk > State::Degraded);
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        assert!(!State::Healthy.alerting() && State::Silent.alerting());
    }
}
