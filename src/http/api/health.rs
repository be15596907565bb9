//! `/api/v1/health` and `/api/v1/tenants/{name}/health`: each tenant's provisioning health —
//! its state, since when, and why, with what to do — as the health check records it
//! (`service::health`). A tenant's own health is checked when asked; the list is what the last
//! check of each tenant recorded (every `SCIMD_HEALTH_INTERVAL`), worst first. The same
//! [`HealthView`] `scimd health --json` prints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{Acting, Params, Segments};
use super::paging::{Page, PageParams};
use super::problem::Problem;
use super::tenants::TenantPath;
use crate::domain::health::TenantHealth;
use crate::domain::health::{Reason, State};
use crate::service::health::state_of;

/// A tenant's state, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StateView {
    /// No request with any of the tenant's credentials yet.
    NotConnected,
    Healthy,
    /// The current cycle refuses at least `SCIMD_ALERT_FAILURE_RATIO` of at least
    /// `SCIMD_ALERT_MIN_REQUESTS` changes.
    Degraded,
    /// The tenant was active and has sent nothing for `SCIMD_ALERT_SILENCE`.
    Silent,
    /// The cycle approaches Entra's quarantine rules.
    AtRisk,
    /// The tenant's requests are refused as unauthenticated: Entra quarantines at once.
    CredentialsRejected,
}

impl From<State> for StateView {
    fn from(s: State) -> Self {
        match s {
            State::NotConnected => StateView::NotConnected,
            State::Healthy => StateView::Healthy,
            State::Degraded => StateView::Degraded,
            State::Silent => StateView::Silent,
            State::AtRisk => StateView::AtRisk,
            State::CredentialsRejected => StateView::CredentialsRejected,
        }
    }
}

impl From<StateView> for State {
    fn from(s: StateView) -> Self {
        match s {
            StateView::NotConnected => State::NotConnected,
            StateView::Healthy => State::Healthy,
            StateView::Degraded => State::Degraded,
            StateView::Silent => State::Silent,
            StateView::AtRisk => State::AtRisk,
            StateView::CredentialsRejected => State::CredentialsRejected,
        }
    }
}

/// Why a tenant is in its state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReasonView {
    /// What kind of cause: `no_role`, `unknown_role`, `matching_repeats`, `unique_repeats`,
    /// `password`, `unknown_attribute`, `bad_request`, `credentials`, `silence`, …
    #[schema(example = "no_role")]
    pub kind: String,
    /// How many requests it refused (0 for silence).
    pub count: u64,
    /// The refusals' HTTP status (`null` for silence).
    #[schema(example = 400)]
    pub status: Option<u16>,
    /// The refusals' `scimType`, if they had one.
    #[schema(example = "invalidValue")]
    pub scim_type: Option<String>,
    /// The attribute the refusals were about, if one.
    #[schema(example = "roles")]
    pub attribute: Option<String>,
    /// What happened, in the identity admin's words.
    #[schema(example = "60 users have no role (Default Access)")]
    pub what: String,
    /// What to do about it.
    pub fix: String,
}

impl From<Reason> for ReasonView {
    fn from(r: Reason) -> Self {
        ReasonView {
            kind: r.kind,
            count: r.count,
            status: r.status,
            scim_type: r.scim_type,
            attribute: r.attribute,
            what: r.what,
            fix: r.fix,
        }
    }
}

/// A tenant's provisioning health.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "tenant": "contoso",
    "state": "degraded",
    "since": "2026-12-04T10:05:00Z",
    "reasons": [{"kind": "no_role", "count": 60, "status": 400, "scim_type": "invalidValue",
        "attribute": "roles",
        "what": "60 users have no role (Default Access)",
        "fix": "assign them to the application with one of its roles"}],
    "checked": "2026-12-04T10:07:15Z",
    "last_accepted": "2026-12-04T10:07:00Z"
}))]
pub struct HealthView {
    pub tenant: String,
    pub state: StateView,
    /// When the tenant entered its state; `null` before its first check.
    pub since: Option<DateTime<Utc>>,
    /// The top causes, most frequent first; empty when healthy or not connected.
    pub reasons: Vec<ReasonView>,
    /// When the check last recorded something new of the tenant; `null` before its first.
    pub checked: Option<DateTime<Utc>>,
    /// The minute of the last request accepted with one of the tenant's credentials.
    pub last_accepted: Option<DateTime<Utc>>,
}

impl From<TenantHealth> for HealthView {
    fn from(t: TenantHealth) -> Self {
        let state = state_of(&t).into();
        let r = t.recorded;
        HealthView {
            tenant: t.tenant,
            state,
            since: r.as_ref().map(|r| r.since),
            checked: r.as_ref().map(|r| r.checked),
            last_accepted: r.as_ref().and_then(|r| r.last_accepted),
            reasons: r
                .map(|r| r.reasons.into_iter().map(ReasonView::from).collect())
                .unwrap_or_default(),
        }
    }
}

/// Where a page of the list ends: the last tenant's state and name.
#[derive(Debug, Serialize, Deserialize)]
struct Key(StateView, String);

/// Read every tenant's provisioning health, worst first.
///
/// Worst first (credentials_rejected, at_risk, silent, degraded, healthy, not_connected),
/// then by name; each as the health check last recorded it (every `SCIMD_HEALTH_INTERVAL`,
/// 15 s by default).
#[utoipa::path(
    get,
    operation_id = "list_health",
    path = "/api/v1/health",
    tag = "Health",
    params(PageParams),
    responses(
        (status = 200, description = "A page of tenants' health, worst first",
            body = Page<HealthView>),
        (status = 422, description = "A limit or cursor that is not valid", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn list(
    api: Acting,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<Page<HealthView>>, Problem> {
    let limit = page.limit()?;
    let after: Option<Key> = page.after("health")?;
    let after = after
        .as_ref()
        .map(|Key(s, name)| (State::from(*s), name.as_str()));
    let items = api
        .directory
        .health_page(after, limit.saturating_add(1))
        .await?;
    let page = Page::of(items, limit, "health", |t| {
        Key(state_of(t).into(), t.tenant.clone())
    });
    Ok(axum::Json(page.map(HealthView::from)))
}

/// Read a tenant's provisioning health.
///
/// Checked when asked: the state, since when, and the top reasons with their counts and what
/// to do. A change of state is recorded (and alerted) as the periodic check would.
#[utoipa::path(
    get,
    operation_id = "show_health",
    path = "/api/v1/tenants/{name}/health",
    tag = "Health",
    params(TenantPath),
    responses(
        (status = 200, description = "The tenant's health", body = HealthView),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn show(
    api: Acting,
    Segments(path): Segments<TenantPath>,
) -> Result<axum::Json<HealthView>, Problem> {
    let health = api.directory.tenant_health(&path.name).await?;
    Ok(axum::Json(health.into()))
}
