//! `/api/v1/tenants/{name}/cycles`: Entra's provisioning cycles of a tenant — its activity cut
//! where `SCIMD_CYCLE_GAP` passed without any — with what each created, updated, disabled,
//! deleted and had refused, oldest first. The same [`CycleView`] `scimd cycles --json` prints.

use axum::extract::State;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::activity::instant;
use super::extract::{Acting, Params, Segments};
use super::paging::{Page, PageParams};
use super::problem::Problem;
use super::tenants::TenantPath;
use crate::domain::activity::{Counts, Cycle};
use crate::http::AppState;

/// How far back cycles are read unless `since` says.
const DEFAULT_DAYS: i64 = 30;

/// A provisioning cycle: activity without a quiet gap, with its counts.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "started": "2026-12-04T10:00:00Z",
    "last": "2026-12-04T10:12:00Z",
    "lookups": 240,
    "created": {"users": 12, "groups": 1},
    "updated": {"users": 30, "groups": 2},
    "disabled": {"users": 1, "groups": 0},
    "deleted": {"users": 0, "groups": 0},
    "refused": {"users": 2, "groups": 0}
}))]
pub struct CycleView {
    /// The minute of its first request.
    pub started: DateTime<Utc>,
    /// The start of its last minute with activity.
    pub last: DateTime<Utc>,
    /// GET requests (lookups and searches).
    pub lookups: u64,
    pub created: CountsView,
    pub updated: CountsView,
    /// Users whose `active` went to false.
    pub disabled: CountsView,
    pub deleted: CountsView,
    /// Requests refused (4xx and 5xx).
    pub refused: CountsView,
}

/// A count per resource type.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct CountsView {
    pub users: u64,
    pub groups: u64,
}

impl From<Counts> for CountsView {
    fn from(c: Counts) -> Self {
        CountsView {
            users: c.users,
            groups: c.groups,
        }
    }
}

impl From<Cycle> for CycleView {
    fn from(c: Cycle) -> Self {
        CycleView {
            started: c.started,
            last: c.last,
            lookups: c.lookups,
            created: c.created.into(),
            updated: c.updated.into(),
            disabled: c.disabled.into(),
            deleted: c.deleted.into(),
            refused: c.refused.into(),
        }
    }
}

/// `?since=`, as `scimd cycles --since` takes it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CyclesQuery {
    /// Only since this long ago (`24h`, `7d`) or this time (RFC 3339); 30 days by default.
    #[param(
        pattern = "^([0-9]{1,12}[smhd]?|[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2}))$",
        example = "7d"
    )]
    pub since: Option<String>,
}

/// Read a tenant's provisioning cycles.
///
/// Oldest first. A cycle still running grows until `SCIMD_CYCLE_GAP` (10 minutes by default)
/// passes without a request; its counts include the lookups counted so far on this replica.
#[utoipa::path(
    get,
    operation_id = "list_cycles",
    path = "/api/v1/tenants/{name}/cycles",
    tag = "Activity",
    params(TenantPath, CyclesQuery, PageParams),
    responses(
        (status = 200, description = "A page of cycles, oldest first", body = Page<CycleView>),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(app): State<AppState>,
    api: Acting,
    Segments(path): Segments<TenantPath>,
    Params(query): Params<CyclesQuery>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<Page<CycleView>>, Problem> {
    page.limit()?;
    let now = Utc::now();
    let since = instant("since", query.since.as_deref(), now)?
        .unwrap_or_else(|| now - TimeDelta::days(DEFAULT_DAYS));
    let gap = TimeDelta::from_std(app.cycle_gap).unwrap_or(TimeDelta::minutes(10));
    let cycles = api.directory.cycles(&path.name, since, gap).await?;
    let page = Page::within(cycles, &page, "cycles", |c| c.started)?;
    Ok(axum::Json(page.map(CycleView::from)))
}
