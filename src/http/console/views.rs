//! What the console's templates show, prepared as text: rows of the activity log, cycles,
//! directory entries. Every value is escaped by the templates; nothing here is HTML.

use std::collections::HashMap;

use askama::Template;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::activity::{Activity, Counts, Cycle};
use crate::domain::events::Subscription;
use crate::service::console::TenantWebhook;

/// The header of every console page.
pub struct Nav {
    pub tenant: String,
    pub admin: String,
    pub csrf: String,
    pub here: &'static str,
}

#[derive(Template)]
#[template(path = "console/message.html")]
pub struct Message<'a> {
    pub title: &'a str,
    pub message: &'a str,
}

/// A row of the activity log.
pub struct Row {
    pub at: String,
    pub status: u16,
    pub operation: String,
    pub resource: String,
    pub link: Option<String>,
    pub error: String,
    pub request_id: String,
    pub refused: bool,
}

/// The rows, newest first; a resource is named by its current name when it still exists
/// (the log itself stores no names).
pub fn rows(activity: &[Activity], names: &HashMap<Uuid, String>) -> Vec<Row> {
    activity
        .iter()
        .rev()
        .map(|a| {
            let link = match (a.resource_type.as_deref(), a.resource_id) {
                (Some("User"), Some(id)) => Some(format!("/admin/users/{id}")),
                (Some("Group"), Some(id)) => Some(format!("/admin/groups/{id}")),
                _ => None,
            };
            let resource = match (&a.resource_type, a.resource_id) {
                (Some(t), Some(id)) => match names.get(&id) {
                    Some(name) => format!("{t} {name}"),
                    None => format!("{t} {id}"),
                },
                (Some(t), None) => t.clone(),
                _ => a.origin.route.clone(),
            };
            let operation = match &a.paths {
                Some(p) => format!("{} ({p})", a.operation),
                None => a.operation.clone(),
            };
            let error = a.note();
            Row {
                at: a.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                status: a.status,
                operation,
                resource,
                link,
                error,
                request_id: a.origin.request_id.clone(),
                refused: a.status >= 400,
            }
        })
        .collect()
}

/// A cycle with its counts as text (users / groups).
pub struct CycleView {
    pub started: String,
    pub last: String,
    pub state: String,
    pub lookups: u64,
    pub created: String,
    pub updated: String,
    pub disabled: String,
    pub deleted: String,
    pub refused: String,
    pub refused_any: bool,
    pub link: String,
}

pub fn cycle(c: &Cycle, gap: chrono::TimeDelta, now: DateTime<Utc>) -> CycleView {
    let n = |c: &Counts| format!("{} / {}", c.users, c.groups);
    let state = if now - c.last <= gap + chrono::TimeDelta::minutes(1) {
        "in progress".to_owned()
    } else if c.refused.total() > 0 {
        format!("finished with {} refused requests", c.refused.total())
    } else {
        "finished without refusals".to_owned()
    };
    CycleView {
        started: c.started.format("%Y-%m-%d %H:%M").to_string(),
        last: c.last.format("%Y-%m-%d %H:%M").to_string(),
        state,
        lookups: c.lookups,
        created: n(&c.created),
        updated: n(&c.updated),
        disabled: n(&c.disabled),
        deleted: n(&c.deleted),
        refused: n(&c.refused),
        refused_any: c.refused.total() > 0,
        link: format!("/admin/cycles/{}", c.started.timestamp()),
    }
}

/// The tenant's provisioning health, as the overview's banner shows it.
pub struct HealthBanner {
    /// The state's name (`degraded`), for the banner's class.
    pub state: &'static str,
    pub headline: &'static str,
    pub since: String,
    pub alerting: bool,
    /// Each reason's what and fix.
    pub reasons: Vec<(String, String)>,
}

impl HealthBanner {
    pub fn of(r: &crate::domain::health::Recorded) -> Self {
        HealthBanner {
            state: r.state.as_str(),
            headline: r.state.headline(),
            since: r.since.format("%Y-%m-%d %H:%M UTC").to_string(),
            alerting: r.state.alerting(),
            reasons: r
                .reasons
                .iter()
                .map(|x| (x.what.clone(), x.fix.clone()))
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/overview.html")]
pub struct Overview {
    pub nav: Nav,
    pub health: HealthBanner,
    pub tenant_url: String,
    pub last: Option<CycleView>,
    pub errors_count: usize,
    /// There may be more errors than counted.
    pub errors_more: bool,
    pub rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "console/cycles.html")]
pub struct Cycles {
    pub nav: Nav,
    pub gap: String,
    pub cycles: Vec<CycleView>,
}

#[derive(Template)]
#[template(path = "console/cycle.html")]
pub struct CyclePage {
    pub nav: Nav,
    pub c: CycleView,
    pub rows: Vec<Row>,
    pub changes: Vec<Row>,
}

#[derive(Template)]
#[template(path = "console/activity.html")]
pub struct ActivityPage {
    pub nav: Nav,
    pub status: String,
    pub operation: String,
    pub operations: Vec<String>,
    pub resource: String,
    pub request_id: String,
    pub message: Option<String>,
    pub rows: Vec<Row>,
}

/// A user or group in a directory listing.
pub struct Entry {
    pub name: String,
    pub display: String,
    pub active: String,
    pub external_id: String,
    pub link: String,
}

#[derive(Template)]
#[template(path = "console/directory.html")]
pub struct Directory {
    pub nav: Nav,
    pub kind: &'static str,
    pub filter: String,
    pub message: Option<String>,
    pub total: u64,
    pub first: u64,
    pub last: u64,
    pub resources: Vec<Entry>,
    pub previous: Option<String>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "console/resource.html")]
pub struct Resource {
    pub nav: Nav,
    pub kind: &'static str,
    pub name: String,
    pub id: String,
    pub links_title: &'static str,
    pub links: Vec<(String, String)>,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub document: String,
    pub rows: Vec<Row>,
}

pub struct TokenView {
    pub id: String,
    pub label: String,
    pub created: String,
    pub state: String,
    pub active: bool,
}

/// A setup link of the tenant: its state and dates, never its URL.
pub struct SetupLinkView {
    pub id: String,
    pub created: String,
    pub created_by: String,
    pub expires: String,
    pub last_used: String,
    pub state: &'static str,
    pub active: bool,
}

pub struct ClientView {
    pub client_id: String,
    pub redirect_uris: String,
}

/// A webhook of the tenant with its delivery state, as text (never its secret).
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub kinds: String,
    /// `notice` or `full`.
    pub detail: &'static str,
    pub state: String,
    pub paused: bool,
    pub delivered: u64,
    pub backlog: u64,
    pub failed: u64,
    pub last_success: String,
    pub last_error: Option<String>,
    pub last_error_at: String,
    pub failures: Vec<FailureView>,
}

/// A dropped or parked delivery.
pub struct FailureView {
    pub at: String,
    pub resource: String,
    pub state: String,
    pub attempts: u32,
    pub status: String,
    pub error: String,
}

/// When a webhook delivers: paused, waiting to retry, or at the next event.
pub fn webhook_state(s: &Subscription, now: DateTime<Utc>) -> String {
    if s.paused {
        "paused".to_owned()
    } else if let Some(at) = s.retry_at.filter(|at| *at > now) {
        format!("retrying at {}", at.format(SECONDS))
    } else {
        "active".to_owned()
    }
}

/// `YYYY-MM-DD HH:MM:SS`, UTC.
const SECONDS: &str = "%Y-%m-%d %H:%M:%S";

pub fn webhook(w: &TenantWebhook, now: DateTime<Utc>) -> WebhookView {
    let s = &w.subscription;
    let at = |t: Option<DateTime<Utc>>, none: &str| {
        t.map_or_else(|| none.to_owned(), |t| t.format(SECONDS).to_string())
    };
    WebhookView {
        id: s.id.to_string(),
        url: s.url.clone(),
        kinds: s.kinds.to_string(),
        detail: if s.full { "full" } else { "notice" },
        state: webhook_state(s, now),
        paused: s.paused,
        delivered: s.delivered,
        backlog: s.backlog,
        failed: s.failed,
        last_success: at(s.last_success, "never"),
        last_error: s.last_error.clone(),
        last_error_at: at(s.last_error_at, ""),
        failures: w
            .failures
            .iter()
            .map(|f| FailureView {
                at: at(f.failed_at, ""),
                resource: format!("{} {}", f.resource_type, f.resource_id),
                state: f.state.clone(),
                attempts: f.attempts,
                status: f.last_status.map(|s| s.to_string()).unwrap_or_default(),
                error: f.last_error.clone().unwrap_or_default(),
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "console/connection.html")]
pub struct Connection {
    pub nav: Nav,
    pub message: Option<String>,
    /// A notice of something that did not work (a test event the receiver did not accept).
    pub alert: Option<String>,
    pub tokens: Vec<TokenView>,
    pub clients: Vec<ClientView>,
    pub setup_links: Vec<SetupLinkView>,
    pub webhooks: Vec<WebhookView>,
    /// The matching attributes, precedence 1 first.
    pub matching: Vec<String>,
    pub roles: String,
    pub entra: String,
}

#[derive(Template)]
#[template(path = "console/secret.html")]
pub struct Secret {
    pub nav: Nav,
    pub title: &'static str,
    pub fields: Vec<(&'static str, String)>,
}
