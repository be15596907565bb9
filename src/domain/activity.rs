//! The provisioning activity log's vocabulary: what one SCIM request did (or why it was
//! refused), where it came from, and the cycles Entra's requests fall into. Nothing personal:
//! ids, routes, attribute paths and statuses; error details have their values left out.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use uuid::Uuid;

use super::TenantId;
use super::events::Kinds;

/// Where a request came from: its request id, the credential it used (never a secret), its
/// method and matched route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub request_id: String,
    pub credential: String,
    pub method: String,
    pub route: String,
}

/// One row of the activity log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub id: Uuid,
    pub tenant: TenantId,
    pub at: DateTime<Utc>,
    pub origin: Origin,
    /// `User` or `Group`.
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    /// create, replace, patch, delete; for refusals also read, search.
    pub operation: String,
    /// The attribute paths a PATCH touched (`active, members+3`).
    pub paths: Option<String>,
    /// A user's `active` went to false.
    pub deactivated: bool,
    /// Attributes the request sent that no schema of the tenant defines, dropped
    /// (comma-separated names, no values).
    pub ignored: Option<String>,
    /// Attributes whose stored value was kept against Entra's soft-delete rename
    /// (comma-separated names, no values).
    pub kept: Option<String>,
    /// What became of the user beyond the operation: `retained until …` (a delete under the
    /// tenant's rule `retain`) or `restored` (a create or an operator's restore that brought a
    /// retained user back with its id). Its event says the same.
    pub lifecycle: Option<String>,
    /// The request changed nothing but what was kept: the row has no event (not stored).
    pub unchanged: bool,
    /// A user's `active` went from false to true (for the change's event; not stored).
    pub activated: bool,
    /// The attributes the change added, revised or removed (for its event; not stored).
    pub changed: Vec<String>,
    pub status: u16,
    pub scim_type: Option<String>,
    /// The error detail with its values left out.
    pub error: Option<String>,
}

impl Activity {
    /// A row of `tenant` at `at`, before its details are known.
    pub fn change(
        tenant: TenantId,
        at: DateTime<Utc>,
        origin: &Origin,
        operation: &str,
        status: u16,
    ) -> Self {
        Self {
            id: Uuid::new_v4(),
            tenant,
            at,
            origin: origin.clone(),
            resource_type: None,
            resource_id: None,
            operation: operation.to_owned(),
            paths: None,
            deactivated: false,
            ignored: None,
            kept: None,
            lifecycle: None,
            unchanged: false,
            activated: false,
            changed: Vec::new(),
            status,
            scim_type: None,
            error: None,
        }
    }

    /// The kinds of the SCIM event this change yields (RFC 9967), if it yields one: a
    /// successful create, replace, patch or delete of a resource.
    pub fn event_kinds(&self) -> Option<Kinds> {
        if self.status >= 400 || self.resource_id.is_none() || self.unchanged {
            return None;
        }
        let kind = match self.operation.as_str() {
            "create" => Kinds::CREATE,
            "replace" => Kinds::PUT,
            "patch" => Kinds::PATCH,
            "delete" => Kinds::DELETE,
            _ => return None,
        };
        let kind = if self.deactivated {
            kind.with(Kinds::DEACTIVATE)
        } else {
            kind
        };
        Some(if self.activated {
            kind.with(Kinds::ACTIVATE)
        } else {
            kind
        })
    }

    /// What the row says besides its status: the error, or the attributes dropped and those
    /// kept against Entra's soft-delete rename.
    pub fn note(&self) -> String {
        match (&self.scim_type, &self.error) {
            (Some(t), Some(e)) => return format!("{t}: {e}"),
            (None, Some(e)) => return e.clone(),
            _ => {}
        }
        let ignored = self
            .ignored
            .as_ref()
            .map(|ignored| format!("ignored, in no schema: {ignored}"));
        let kept = self
            .kept
            .as_ref()
            .map(|kept| format!("kept {kept}: Entra's soft-delete rename ignored"));
        [self.lifecycle.clone(), ignored, kept]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The minute the row is grouped under.
    pub fn minute(&self) -> DateTime<Utc> {
        minute(self.at)
    }
}

/// `at` truncated to the minute.
pub fn minute(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(at)
}

/// Which rows of a tenant's log to read, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityFilter {
    pub since: Option<DateTime<Utc>>,
    /// Only rows before this time.
    pub until: Option<DateTime<Utc>>,
    pub resource: Option<Uuid>,
    pub request_id: Option<String>,
    /// 4 for 4xx, 5 for 5xx, 2 for successes.
    pub status_class: Option<u16>,
    /// Only refusals (4xx and 5xx).
    pub refused: bool,
    pub operation: Option<String>,
    /// At most this many rows (the newest of the match).
    pub limit: u32,
}

/// Counts of one minute of a tenant's activity, by what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinuteCount {
    pub minute: DateTime<Utc>,
    pub resource_type: Option<String>,
    pub operation: String,
    pub deactivated: bool,
    pub refused: bool,
    pub count: u64,
}

/// A provisioning cycle: activity without a quiet gap, with its counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Cycle {
    pub started: DateTime<Utc>,
    /// The start of the last minute with activity.
    pub last: DateTime<Utc>,
    pub lookups: u64,
    pub created: Counts,
    pub updated: Counts,
    pub disabled: Counts,
    pub deleted: Counts,
    pub refused: Counts,
}

/// A count per resource type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub users: u64,
    pub groups: u64,
}

impl Counts {
    fn add(&mut self, resource_type: Option<&str>, n: u64) {
        match resource_type {
            Some("Group") => self.groups += n,
            _ => self.users += n,
        }
    }

    pub fn total(&self) -> u64 {
        self.users + self.groups
    }
}

/// Cycles from per-minute counts in time order: a new cycle starts after `gap` without any.
pub fn cycles(
    minutes: &[MinuteCount],
    lookups: &[(DateTime<Utc>, u64)],
    gap: TimeDelta,
) -> Vec<Cycle> {
    let mut events: Vec<(DateTime<Utc>, Option<&MinuteCount>, u64)> = minutes
        .iter()
        .map(|m| (m.minute, Some(m), 0))
        .chain(lookups.iter().map(|(at, n)| (*at, None, *n)))
        .collect();
    events.sort_by_key(|e| e.0);
    let mut out: Vec<Cycle> = Vec::new();
    for (at, count, lookups) in events {
        let fresh = out.last().is_none_or(|c| at - c.last > gap);
        if fresh {
            out.push(Cycle {
                started: at,
                last: at,
                ..Default::default()
            });
        }
        let Some(cycle) = out.last_mut() else {
            continue;
        };
        cycle.last = cycle.last.max(at);
        cycle.lookups += lookups;
        let Some(m) = count else { continue };
        let kind = m.resource_type.as_deref();
        if m.refused {
            cycle.refused.add(kind, m.count);
            continue;
        }
        match m.operation.as_str() {
            "create" => cycle.created.add(kind, m.count),
            "delete" => cycle.deleted.add(kind, m.count),
            _ if m.deactivated => cycle.disabled.add(kind, m.count),
            _ => cycle.updated.add(kind, m.count),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_the_error_or_what_was_dropped_and_what_was_kept() {
        let origin = Origin {
            request_id: "r".into(),
            credential: "c".into(),
            method: "PATCH".into(),
            route: "/scim/v2/Users/{id}".into(),
        };
        let row = Activity::change(TenantId(Uuid::nil()), at(0), &origin, "patch", 200);
        assert_eq!(row.note(), "");
        let ignored = Activity {
            ignored: Some("nickName".into()),
            ..row.clone()
        };
        assert_eq!(ignored.note(), "ignored, in no schema: nickName");
        let kept = Activity {
            kept: Some("userName".into()),
            ..row.clone()
        };
        assert_eq!(
            kept.note(),
            "kept userName: Entra's soft-delete rename ignored"
        );
        let both = Activity {
            ignored: Some("nickName".into()),
            ..kept.clone()
        };
        assert_eq!(
            both.note(),
            "ignored, in no schema: nickName; kept userName: Entra's soft-delete rename ignored"
        );
        let refused = Activity {
            scim_type: Some("uniqueness".into()),
            error: Some("userName is taken".into()),
            ..both
        };
        assert_eq!(refused.note(), "uniqueness: userName is taken");
    }

    #[test]
    fn a_row_that_changed_nothing_but_what_it_kept_has_no_event() {
        let origin = Origin {
            request_id: "r".into(),
            credential: "c".into(),
            method: "PATCH".into(),
            route: "/scim/v2/Users/{id}".into(),
        };
        let row = Activity {
            resource_id: Some(Uuid::nil()),
            kept: Some("userName".into()),
            ..Activity::change(TenantId(Uuid::nil()), at(0), &origin, "patch", 200)
        };
        assert_eq!(row.event_kinds(), Some(Kinds::PATCH));
        let unchanged = Activity {
            unchanged: true,
            ..row
        };
        assert_eq!(unchanged.event_kinds(), None);
    }

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + min * 60, 0).unwrap()
    }

    fn count(
        min: i64,
        op: &str,
        kind: &str,
        deactivated: bool,
        refused: bool,
        n: u64,
    ) -> MinuteCount {
        MinuteCount {
            minute: at(min),
            resource_type: Some(kind.to_owned()),
            operation: op.to_owned(),
            deactivated,
            refused,
            count: n,
        }
    }

    #[test]
    fn a_quiet_gap_starts_a_new_cycle_and_each_cycle_counts_what_happened() {
        let minutes = [
            count(0, "create", "User", false, false, 10),
            count(1, "patch", "User", true, false, 2),
            count(2, "create", "Group", false, false, 1),
            count(2, "create", "User", false, true, 3),
            count(40, "patch", "User", false, false, 4),
            count(41, "delete", "User", false, false, 1),
        ];
        let lookups = [(at(0), 12), (at(40), 30)];
        let found = cycles(&minutes, &lookups, TimeDelta::minutes(10));
        assert_eq!(found.len(), 2);
        let first = &found[0];
        assert_eq!((first.started, first.last), (at(0), at(2)));
        assert_eq!(first.lookups, 12);
        assert_eq!(
            first.created,
            Counts {
                users: 10,
                groups: 1
            }
        );
        assert_eq!(first.disabled.users, 2);
        assert_eq!(first.refused.users, 3);
        let second = &found[1];
        assert_eq!((second.started, second.last), (at(40), at(41)));
        assert_eq!(
            (second.updated.users, second.deleted.users, second.lookups),
            (4, 1, 30)
        );
    }
}
