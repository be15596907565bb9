//! `GET /operator`: every tenant with its state, since when, the top reasons, its last cycle,
//! that cycle's refusals, its silence and the chart of its last cycles, sorted by the column
//! the query names (`?sort=state|tenant|last_cycle|refusals|silence&order=asc|desc`; worst
//! state first without one). A sort or order it does not know is a 400 page. Above the table,
//! when ACME provides the HTTPS certificate, the certificate's state ([`super::certificate`]).

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};

use super::certificate::{Certificate, certificate};
use super::chart::{Chart, chart};
use super::{Signed, failure, message};
use crate::domain::health::State as Health;
use crate::http::AppState;
use crate::http::page::html;
use crate::service::operator_page::{Column, Order, TenantOverview, sort};

/// Reasons shown per tenant.
const REASONS: usize = 3;

/// A column's header: its sort link and whether the table is sorted by it.
pub struct Header {
    pub label: &'static str,
    pub href: String,
    /// `ascending` / `descending` when sorted by it (`aria-sort`).
    pub sorted: Option<&'static str>,
    /// ` ↑` or ` ↓` after the label of the column sorted by, else nothing.
    pub arrow: &'static str,
}

pub struct Reason {
    pub what: String,
    pub fix: String,
}

pub struct LastCycle {
    pub when: String,
    pub created: u64,
    pub updated: u64,
    pub refused: u64,
}

pub struct Row {
    pub tenant: String,
    pub state: &'static str,
    pub label: String,
    pub since: String,
    pub reasons: Vec<Reason>,
    pub last: Option<LastCycle>,
    pub refusals: u64,
    pub silence: String,
    pub chart: Chart,
}

#[derive(Template)]
#[template(path = "operator/page.html")]
struct Page {
    operator: String,
    csrf: String,
    summary: String,
    certificate: Option<Certificate>,
    headers: Vec<Header>,
    rows: Vec<Row>,
    checked: String,
}

fn label(state: Health) -> String {
    state.as_str().replace('_', " ")
}

/// `d h`, `h min` or `min`: how long, to the minute.
fn duration(d: TimeDelta) -> String {
    let minutes = d.num_minutes();
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{mins} min"),
        (0, _) => format!("{hours} h {mins} min"),
        _ => format!("{days} d {hours} h"),
    }
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn row(t: &TenantOverview, now: DateTime<Utc>) -> Row {
    Row {
        tenant: t.tenant.clone(),
        state: t.state.as_str(),
        label: label(t.state),
        since: t.since.map_or_else(|| "never checked".to_owned(), when),
        reasons: t
            .reasons
            .iter()
            .take(REASONS)
            .map(|r| Reason {
                what: r.what.clone(),
                fix: r.fix.clone(),
            })
            .collect(),
        last: t.last_cycle().map(|c| LastCycle {
            when: when(c.last),
            created: c.created.total(),
            updated: c.updated.total(),
            refused: c.refused.total(),
        }),
        refusals: t.refusals(),
        silence: t
            .silence(now)
            .map_or_else(|| "no request accepted yet".to_owned(), duration),
        chart: chart(&t.cycles),
    }
}

/// "N tenants: a credentials rejected, b at risk, c silent, d degraded" — every alerting
/// state, worst first, with how many tenants are in it.
fn summary(rows: &[TenantOverview]) -> String {
    let alerting: Vec<String> = Health::ALL
        .iter()
        .rev()
        .filter(|s| s.alerting())
        .map(|s| {
            let n = rows.iter().filter(|r| r.state == *s).count();
            format!("{n} {}", label(*s))
        })
        .collect();
    let tenants = if rows.len() == 1 { "tenant" } else { "tenants" };
    format!("{} {tenants}: {}", rows.len(), alerting.join(", "))
}

/// The sort and order a query names; the defaults for what it leaves out.
fn sorting(query: Option<&str>) -> Result<(Column, Order), String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or_default())
        .map_err(|e| format!("the query string cannot be read: {e}"))?;
    let one = |name: &str| -> Result<Option<&str>, String> {
        let mut values = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        let first = values.next();
        if values.next().is_some() {
            return Err(format!("'{name}' is given more than once; give it once"));
        }
        Ok(first.map(String::as_str))
    };
    let shown = |v: &str| {
        v.chars()
            .filter(|c| !c.is_control())
            .take(64)
            .collect::<String>()
    };
    let names = |all: &[&str]| all.join(", ");
    let column = match one("sort")? {
        None => Column::State,
        Some(v) => Column::parse(v).ok_or_else(|| {
            let known: Vec<&str> = Column::ALL.iter().map(|c| c.as_str()).collect();
            format!(
                "cannot sort by '{}'; sort by one of {}",
                shown(v),
                names(&known)
            )
        })?,
    };
    let order = match one("order")? {
        None => column.first_order(),
        Some(v) => Order::parse(v)
            .ok_or_else(|| format!("no order '{}'; the order is asc or desc", shown(v)))?,
    };
    Ok((column, order))
}

fn headers(column: Column, order: Order) -> Vec<Header> {
    let labels = [
        (Column::State, "State"),
        (Column::Tenant, "Tenant"),
        (Column::LastCycle, "Last cycle"),
        (Column::Refusals, "Refusals"),
        (Column::Silence, "Silence"),
    ];
    labels
        .into_iter()
        .map(|(c, label)| {
            let (next, sorted, arrow) = match (c == column, order) {
                (true, Order::Asc) => (Order::Desc, Some("ascending"), " ↑"),
                (true, Order::Desc) => (Order::Asc, Some("descending"), " ↓"),
                (false, _) => (c.first_order(), None, ""),
            };
            Header {
                label,
                href: format!("/operator?sort={}&order={}", c.as_str(), next.as_str()),
                sorted,
                arrow,
            }
        })
        .collect()
}

pub async fn page(
    State(app): State<AppState>,
    Signed(session): Signed,
    RawQuery(query): RawQuery,
) -> Response {
    let (column, order) = match sorting(query.as_deref()) {
        Ok(sorting) => sorting,
        Err(why) => return message(StatusCode::BAD_REQUEST, "Cannot sort like this", &why),
    };
    let mut tenants = match app.directory.operator_overview().await {
        Ok(tenants) => tenants,
        Err(e) => return failure(e),
    };
    let now = app.directory.now();
    sort(&mut tenants, column, order, now);
    let page = Page {
        operator: session.account.username,
        csrf: session.csrf,
        summary: summary(&tenants),
        certificate: app.acme.get().map(|acme| certificate(&acme.status())),
        headers: headers(column, order),
        rows: tenants.iter().map(|t| row(t, now)).collect(),
        checked: when(now),
    };
    html(StatusCode::OK, page.render(), "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_names_a_known_sort_and_order_once() {
        assert_eq!(sorting(None), Ok((Column::State, Order::Desc)));
        assert_eq!(
            sorting(Some("sort=tenant")),
            Ok((Column::Tenant, Order::Asc))
        );
        assert_eq!(
            sorting(Some("sort=silence&order=asc")),
            Ok((Column::Silence, Order::Asc))
        );
        let unknown = sorting(Some("sort=owner")).unwrap_err();
        assert!(unknown.starts_with("cannot sort by 'owner'; sort by one of state, tenant"));
        assert!(
            sorting(Some("order=sideways"))
                .unwrap_err()
                .contains("'sideways'")
        );
        assert!(
            sorting(Some("sort=state&sort=tenant"))
                .unwrap_err()
                .contains("more than once")
        );
        assert!(
            sorting(Some("sort=%00"))
                .unwrap_err()
                .contains("cannot sort by ''")
        );
    }

    #[test]
    fn durations_read_to_the_minute() {
        assert_eq!(duration(TimeDelta::seconds(59)), "0 min");
        assert_eq!(duration(TimeDelta::minutes(125)), "2 h 5 min");
        assert_eq!(duration(TimeDelta::minutes(3 * 1440 + 61)), "3 d 1 h");
    }
}
