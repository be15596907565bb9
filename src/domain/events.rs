//! SCIM events (RFC 9967) as scimd keeps them: what a committed change of a user or group
//! was (the outbox row), the application's subscriptions that receive them, and what a
//! receiver's answer means for a delivery (RFC 8935).

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::TenantId;

/// A set of event kinds, as the outbox and the subscriptions store them (a bit mask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Kinds(pub i64);

impl Kinds {
    pub const CREATE: Kinds = Kinds(1);
    pub const PATCH: Kinds = Kinds(2);
    pub const PUT: Kinds = Kinds(4);
    pub const DELETE: Kinds = Kinds(8);
    pub const ACTIVATE: Kinds = Kinds(16);
    pub const DEACTIVATE: Kinds = Kinds(32);
    /// Every kind, in the order SETs list them.
    pub const EACH: [(Kinds, &'static str); 6] = [
        (Self::CREATE, "create"),
        (Self::PATCH, "patch"),
        (Self::PUT, "put"),
        (Self::DELETE, "delete"),
        (Self::ACTIVATE, "activate"),
        (Self::DEACTIVATE, "deactivate"),
    ];
    pub const ALL: Kinds = Kinds(63);

    pub fn contains(self, other: Kinds) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    pub fn with(self, other: Kinds) -> Kinds {
        Kinds(self.0 | other.0)
    }

    pub fn and(self, other: Kinds) -> Kinds {
        Kinds(self.0 & other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The kinds of a comma-separated list (`create,patch,deactivate`); `all` is every kind.
    pub fn parse(list: &str) -> Result<Kinds, String> {
        let mut kinds = Kinds::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name.eq_ignore_ascii_case("all") {
                kinds = Kinds::ALL;
                continue;
            }
            let Some((kind, _)) = Self::EACH
                .iter()
                .find(|(_, n)| n.eq_ignore_ascii_case(name))
            else {
                return Err(format!(
                    "'{name}' is not an event kind; use create, patch, put, delete, activate, \
                     deactivate or all"
                ));
            };
            kinds = kinds.with(*kind);
        }
        if kinds.is_empty() {
            return Err("name at least one event kind".to_owned());
        }
        Ok(kinds)
    }

    /// The names of the kinds, in [`Kinds::EACH`] order.
    pub fn names(self) -> Vec<&'static str> {
        Self::EACH
            .iter()
            .filter(|(k, _)| self.contains(*k))
            .map(|(_, n)| *n)
            .collect()
    }
}

impl fmt::Display for Kinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Kinds::ALL {
            return f.write_str("all");
        }
        f.write_str(&self.names().join(","))
    }
}

/// One committed change of a user or group, as the outbox keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Commit order (per resource, always; across resources, the order the rows were written).
    pub seq: i64,
    pub id: Uuid,
    pub tenant: TenantId,
    pub at: DateTime<Utc>,
    /// The request that made the change (RFC 9967 `txn`).
    pub txn: String,
    /// `User` or `Group`.
    pub resource_type: String,
    pub resource_id: Uuid,
    pub kinds: Kinds,
    /// The attributes the change added, revised or removed.
    pub attributes: Vec<String>,
    /// The resource's version after the change (none for a delete).
    pub version: Option<i64>,
    pub external_id: Option<String>,
    /// The resource as stored after the change, kept while a subscription wants `full` events.
    pub data: Option<Value>,
    /// `retained until …` (a delete that kept the user for a restore) or `restored` (a create
    /// that brought a retained user back with its id), as the change's activity row says.
    pub lifecycle: Option<String>,
}

/// A subscription being added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubscription {
    pub tenant: TenantId,
    pub url: String,
    pub kinds: Kinds,
    pub full: bool,
    pub secret: String,
    /// A pull consumer (the application reads its events at `/api/v1/events`), not a webhook.
    pub pull: bool,
}

/// An application's receiver of a tenant's events, with its delivery state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: Uuid,
    pub tenant: TenantId,
    pub tenant_name: String,
    pub url: String,
    pub kinds: Kinds,
    pub full: bool,
    /// A pull consumer: never pushed to; its URL is empty.
    pub pull: bool,
    /// A pull consumer's position read up to (0 for a webhook).
    pub acknowledged: i64,
    pub paused: bool,
    pub created: DateTime<Utc>,
    pub delivered: u64,
    /// Events dropped (refused by the receiver) or parked (retried too long).
    pub failed: u64,
    /// Events waiting to be delivered.
    pub backlog: u64,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// No delivery before this time (the receiver failed or asked to wait).
    pub retry_at: Option<DateTime<Utc>>,
}

/// A subscription as the dispatcher delivers to it: with its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receiver {
    pub id: Uuid,
    pub tenant: TenantId,
    pub url: String,
    pub kinds: Kinds,
    pub full: bool,
    pub secret: String,
    /// A pull consumer, and the position it has read up to (see [`Subscription`]).
    pub pull: bool,
    pub acknowledged: i64,
}

/// An event waiting for one subscription, with its delivery history.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub event: Event,
    pub attempts: u32,
    pub first_failure: Option<DateTime<Utc>>,
}

/// A delivery that did not end as delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedDelivery {
    pub subscription: Uuid,
    pub seq: i64,
    pub event: Uuid,
    pub resource_type: String,
    pub resource_id: Uuid,
    /// `dropped` or `parked`.
    pub state: String,
    pub attempts: u32,
    pub failed_at: Option<DateTime<Utc>>,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
}

/// What a receiver's answer (or its silence) means for one SET (RFC 8935 §2.2–2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx (202 Accepted, as RFC 8935 asks, or another success).
    Delivered,
    /// The receiver judged the SET and refused it: a 4xx with an RFC 8935 error body. Not
    /// retried; recorded.
    Dropped { status: u16, error: String },
    /// 5xx, 429, 408, a 4xx without an RFC 8935 error body, a timeout or a connection error:
    /// retried, after `after` when the receiver said (Retry-After).
    Retry {
        status: Option<u16>,
        error: String,
        after: Option<Duration>,
    },
}

impl Outcome {
    /// The label of `scimd_events_delivered_total{outcome}`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Dropped { .. } => "dropped",
            Outcome::Retry { .. } => "retried",
        }
    }
}
