//! What the operator page shows of every tenant: its recorded health (state, since when, the
//! reasons), its last cycles within [`CHART_WINDOW`] (at most [`CHART_CYCLES`], for the chart;
//! the last one for the table) and how long Entra has been quiet; and the orders the page
//! sorts them in. Cost: one read of every tenant's recorded health (a page of 500 tenants per
//! statement), then per tenant two grouped reads of its activity within the window (per minute
//! and per lookup minute), so a page of N tenants is about 2·N + N/500 statements.

use chrono::{DateTime, TimeDelta, Utc};

use super::{Directory, Error};
use crate::domain::activity::{self, Cycle};
use crate::domain::health::{Reason, State};
use crate::store::ActivityStore;

/// The chart shows at most this many of a tenant's last cycles…
pub const CHART_CYCLES: usize = 12;
/// …within this long.
pub const CHART_WINDOW: TimeDelta = TimeDelta::days(7);

/// One tenant on the operator page.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantOverview {
    pub tenant: String,
    pub state: State,
    /// Since when it is in `state` (`None`: never checked).
    pub since: Option<DateTime<Utc>>,
    pub reasons: Vec<Reason>,
    /// The last request accepted with one of its credentials.
    pub last_accepted: Option<DateTime<Utc>>,
    /// Its last cycles within the window, oldest first.
    pub cycles: Vec<Cycle>,
}

impl TenantOverview {
    pub fn last_cycle(&self) -> Option<&Cycle> {
        self.cycles.last()
    }

    /// The refusals of its last cycle (0 without one).
    pub fn refusals(&self) -> u64 {
        self.last_cycle().map_or(0, |c| c.refused.total())
    }

    /// How long since its last accepted request (`None`: never one).
    pub fn silence(&self, now: DateTime<Utc>) -> Option<TimeDelta> {
        self.last_accepted
            .map(|at| (now - at).max(TimeDelta::zero()))
    }
}

/// A column the page sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    State,
    Tenant,
    LastCycle,
    Refusals,
    Silence,
}

/// Which way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

impl Column {
    pub const ALL: [Column; 5] = [
        Column::State,
        Column::Tenant,
        Column::LastCycle,
        Column::Refusals,
        Column::Silence,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Column::State => "state",
            Column::Tenant => "tenant",
            Column::LastCycle => "last_cycle",
            Column::Refusals => "refusals",
            Column::Silence => "silence",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// The order a click on the column's header first sorts in: what needs a call first
    /// (worst state, latest cycle, most refusals, longest silence), names from A.
    pub fn first_order(self) -> Order {
        match self {
            Column::Tenant => Order::Asc,
            _ => Order::Desc,
        }
    }
}

impl Order {
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "asc" => Some(Order::Asc),
            "desc" => Some(Order::Desc),
            _ => None,
        }
    }

    pub fn flipped(self) -> Order {
        match self {
            Order::Asc => Order::Desc,
            Order::Desc => Order::Asc,
        }
    }
}

/// `values` in order `a` to `b`, a missing value after every value whichever the order.
fn by<T: Ord>(a: Option<T>, b: Option<T>, order: Order) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Some(a), Some(b)) if order == Order::Asc => a.cmp(&b),
        (Some(a), Some(b)) => b.cmp(&a),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Sorts `rows` by `column` in `order`, ties by tenant name; a tenant without a last cycle
/// or an accepted request comes after the others when sorting by those.
pub fn sort(rows: &mut [TenantOverview], column: Column, order: Order, now: DateTime<Utc>) {
    rows.sort_by(|a, b| {
        let first = match column {
            Column::State => by(Some(a.state.rank()), Some(b.state.rank()), order),
            Column::Tenant => by(Some(&a.tenant), Some(&b.tenant), order),
            Column::LastCycle => by(
                a.last_cycle().map(|c| c.last),
                b.last_cycle().map(|c| c.last),
                order,
            ),
            Column::Refusals => by(Some(a.refusals()), Some(b.refusals()), order),
            Column::Silence => by(a.silence(now), b.silence(now), order),
        };
        first.then_with(|| a.tenant.cmp(&b.tenant))
    });
}

impl Directory {
    /// Every tenant as the operator page shows it, worst first.
    pub async fn operator_overview(&self) -> Result<Vec<TenantOverview>, Error> {
        let all = self.all_health().await?;
        // lookups counted in memory are written once, for every tenant's cycles
        self.flush_lookups().await?;
        let since = self.now() - CHART_WINDOW;
        let gap = self.health_settings().gap;
        let mut rows = Vec::with_capacity(all.len());
        for t in all {
            let minutes = self.store.minute_counts(t.id, since).await?;
            let lookups = self.store.lookup_counts(t.id, since).await?;
            let mut cycles = activity::cycles(&minutes, &lookups, gap);
            let keep = cycles.len().saturating_sub(CHART_CYCLES);
            cycles.drain(..keep);
            let recorded = t.recorded;
            rows.push(TenantOverview {
                tenant: t.tenant,
                state: recorded.as_ref().map_or(State::NotConnected, |r| r.state),
                since: recorded.as_ref().map(|r| r.since),
                reasons: recorded
                    .as_ref()
                    .map(|r| r.reasons.clone())
                    .unwrap_or_default(),
                last_accepted: recorded.and_then(|r| r.last_accepted),
                cycles,
            });
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::activity::Counts;

    fn row(tenant: &str, state: State, refused: Option<u64>, quiet: Option<i64>) -> TenantOverview {
        let at = DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(1);
        TenantOverview {
            tenant: tenant.to_owned(),
            state,
            since: None,
            reasons: Vec::new(),
            last_accepted: quiet.map(|m| at - TimeDelta::minutes(m)),
            cycles: refused
                .map(|n| Cycle {
                    started: at - TimeDelta::minutes(n as i64),
                    last: at - TimeDelta::minutes(n as i64),
                    refused: Counts {
                        users: n,
                        groups: 0,
                    },
                    ..Cycle::default()
                })
                .into_iter()
                .collect(),
        }
    }

    fn names(rows: &[TenantOverview]) -> Vec<&str> {
        rows.iter().map(|r| r.tenant.as_str()).collect()
    }

    #[test]
    fn every_column_sorts_both_ways_with_missing_values_last_and_ties_by_name() {
        let now = DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(1);
        let mut rows = vec![
            row("b", State::Healthy, Some(5), Some(10)),
            row("a", State::CredentialsRejected, Some(50), Some(200)),
            row("c", State::Degraded, None, None),
            row("d", State::Healthy, Some(1), Some(3)),
        ];
        let cases = [
            (Column::State, Order::Desc, ["a", "c", "b", "d"]),
            (Column::State, Order::Asc, ["b", "d", "c", "a"]),
            (Column::Tenant, Order::Asc, ["a", "b", "c", "d"]),
            (Column::Tenant, Order::Desc, ["d", "c", "b", "a"]),
            (Column::Refusals, Order::Desc, ["a", "b", "d", "c"]),
            (Column::Refusals, Order::Asc, ["c", "d", "b", "a"]),
            (Column::LastCycle, Order::Desc, ["d", "b", "a", "c"]),
            (Column::LastCycle, Order::Asc, ["a", "b", "d", "c"]),
            (Column::Silence, Order::Desc, ["a", "b", "d", "c"]),
            (Column::Silence, Order::Asc, ["d", "b", "a", "c"]),
        ];
        for (column, order, expected) in cases {
            sort(&mut rows, column, order, now);
            assert_eq!(names(&rows), expected, "{column:?} {order:?}");
        }
    }

    #[test]
    fn columns_and_orders_parse_only_their_own_names() {
        for c in Column::ALL {
            assert_eq!(Column::parse(c.as_str()), Some(c));
        }
        assert_eq!(Column::parse("State"), None);
        assert_eq!(Order::parse("asc"), Some(Order::Asc));
        assert_eq!(Order::parse("up"), None);
        assert_eq!(Column::State.first_order(), Order::Desc);
        assert_eq!(Column::Tenant.first_order(), Order::Asc);
    }
}
