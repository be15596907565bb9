//! `/api/v1/tenants/{name}/activity`: what the tenant's SCIM client did, newest first, with
//! the filters of `scimd activity`, in pages whose cursor is the last row's (time, id) — rows
//! written while a client pages never shift, skip or repeat the rows it had yet to read. The
//! rows are the same [`ActivityView`] that `scimd activity --json` prints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{Acting, Params, Segments};
use super::paging::{Page, PageParams};
use super::problem::Problem;
use super::tenants::TenantPath;
use crate::domain::activity::{Activity, ActivityFilter};

/// The operations a row may be of.
pub const OPERATIONS: [&str; 6] = ["create", "replace", "patch", "delete", "read", "search"];
/// The longest request id taken in a filter.
const MAX_REQUEST_ID: usize = 256;

/// One SCIM request of a tenant: what it did or why it was refused; ids, routes, attribute
/// paths and statuses, never a value.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "5f0e7a3c-2b1d-4c9e-8f7a-1a2b3c4d5e6f",
    "at": "2026-12-04T10:00:00.123Z",
    "request_id": "01JEXAMPLE7Q2W4K9ZP3V5N8RT",
    "credential": "token 7d4f0b5e-8a51-4c1e-9a0e-1d2f3a4b5c6d",
    "method": "PATCH",
    "route": "/scim/v2/Users/{id}",
    "resource_type": "User",
    "resource_id": "2819c223-7f76-453a-919d-413861904646",
    "operation": "patch",
    "paths": "active",
    "deactivated": true,
    "status": 200,
    "scim_type": null,
    "error": null,
    "ignored": null,
    "kept": null,
    "lifecycle": null
}))]
pub struct ActivityView {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The request's `x-request-id`.
    pub request_id: String,
    /// The credential it came with (`token <id>`, `oauth <client_id>`, `entra <tenant id>`),
    /// never a secret.
    pub credential: String,
    pub method: String,
    /// The matched route, `/scim/v2/Users/{id}`.
    pub route: String,
    /// `User` or `Group`.
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    /// create, replace, patch, delete; for refusals also read, search.
    pub operation: String,
    /// The attribute paths a PATCH touched (`active, members+3`).
    pub paths: Option<String>,
    /// A user's `active` went to false.
    pub deactivated: bool,
    /// The HTTP status answered.
    pub status: u16,
    /// The SCIM `scimType` of a refusal.
    pub scim_type: Option<String>,
    /// A refusal's detail, its values left out.
    pub error: Option<String>,
    /// Attributes in no schema of the tenant, dropped (names only).
    pub ignored: Option<String>,
    /// Attributes whose stored value was kept against Entra's soft-delete rename (names only).
    pub kept: Option<String>,
    /// `retained until …` for a delete that retained the user, `restored` for a create or a
    /// restore that brought a retained user back with its id.
    pub lifecycle: Option<String>,
}

impl From<Activity> for ActivityView {
    fn from(a: Activity) -> Self {
        ActivityView {
            id: a.id,
            at: a.at,
            request_id: a.origin.request_id,
            credential: a.origin.credential,
            method: a.origin.method,
            route: a.origin.route,
            resource_type: a.resource_type,
            resource_id: a.resource_id,
            operation: a.operation,
            paths: a.paths,
            deactivated: a.deactivated,
            status: a.status,
            scim_type: a.scim_type,
            error: a.error,
            ignored: a.ignored,
            kept: a.kept,
            lifecycle: a.lifecycle,
        }
    }
}

/// The operations a row may be of, for the API document.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Create,
    Replace,
    Patch,
    Delete,
    Read,
    Search,
}

/// The filters of `scimd activity`, each checked: a value that is not one is refused (422
/// naming it), never ignored.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// Only since this long ago (`90s`, `10m`, `24h`, `7d`; at most `36500d`) or this time
    /// (RFC 3339).
    #[param(
        pattern = "^([0-9]{1,12}[smhd]?|[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2}))$",
        example = "24h"
    )]
    pub since: Option<String>,
    /// Only before this long ago or this time (RFC 3339).
    #[param(
        pattern = "^([0-9]{1,12}[smhd]?|[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2}))$",
        example = "2026-12-04T12:00:00Z"
    )]
    pub until: Option<String>,
    /// Only rows about this resource id.
    #[param(value_type = Option<String>, format = Uuid)]
    pub resource: Option<String>,
    /// Only the rows of this request id (`x-request-id`).
    #[param(pattern = "^[!-~]{1,256}$", example = "01JEXAMPLE7Q2W4K9ZP3V5N8RT")]
    pub request_id: Option<String>,
    /// Only this status class: `2xx`, `4xx` or `5xx`.
    #[param(pattern = "^[245][xX][xX]$", example = "4xx")]
    pub status: Option<String>,
    /// Only this operation (in any case).
    #[param(value_type = Option<Operation>, example = "patch")]
    pub operation: Option<String>,
}

impl ActivityQuery {
    /// The filter the parameters make at `now`, each checked.
    pub fn filter(&self, now: DateTime<Utc>, limit: u32) -> Result<ActivityFilter, Problem> {
        let since = instant("since", self.since.as_deref(), now)?;
        let until = instant("until", self.until.as_deref(), now)?;
        let resource = match self.resource.as_deref() {
            None => None,
            Some(text) => Some(Uuid::parse_str(text.trim()).map_err(|_| {
                Problem::invalid(
                    "resource",
                    format!("resource: {} is not a resource id (a UUID)", shown(text)),
                )
            })?),
        };
        let request_id = match self.request_id.as_deref() {
            None => None,
            Some(id) if (1..=MAX_REQUEST_ID).contains(&id.len()) && visible(id) => {
                Some(id.to_owned())
            }
            Some(id) => {
                return Err(Problem::invalid(
                    "request_id",
                    format!(
                        "request_id: {} is not a request id: 1 to {MAX_REQUEST_ID} visible \
                         ASCII characters, as x-request-id carries them",
                        shown(id)
                    ),
                ));
            }
        };
        let status_class = match self.status.as_deref().map(str::to_ascii_lowercase) {
            None => None,
            Some(class) => Some(match class.as_str() {
                "2xx" => 2,
                "4xx" => 4,
                "5xx" => 5,
                _ => {
                    return Err(Problem::invalid(
                        "status",
                        format!(
                            "status: {} is not a status class: use 2xx, 4xx or 5xx",
                            shown(&class)
                        ),
                    ));
                }
            }),
        };
        let operation = match self.operation.as_deref() {
            None => None,
            Some(op) => match OPERATIONS.iter().find(|o| o.eq_ignore_ascii_case(op)) {
                Some(op) => Some((*op).to_owned()),
                None => {
                    return Err(Problem::invalid(
                        "operation",
                        format!(
                            "operation: {} is not an operation: use one of {}",
                            shown(op),
                            OPERATIONS.join(", ")
                        ),
                    ));
                }
            },
        };
        Ok(ActivityFilter {
            since,
            until,
            resource,
            request_id,
            status_class,
            refused: false,
            operation,
            limit,
        })
    }
}

/// Whether `text` is visible ASCII only.
fn visible(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_graphic())
}

/// A parameter's value in a detail: quoted, at most 64 characters, control characters escaped.
fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(64).flat_map(char::escape_debug).collect();
    if text.chars().count() > 64 {
        out.push('…');
    }
    format!("'{out}'")
}

/// The time of the parameter `field`: RFC 3339, or a duration before `now` (`24h`, `7d`) as
/// `scimd activity --since` takes it.
pub fn instant(
    field: &str,
    text: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, Problem> {
    let Some(text) = text else {
        return Ok(None);
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    let ago = crate::config::duration(text)
        .ok()
        .and_then(|d| chrono::TimeDelta::from_std(d).ok())
        .and_then(|d| now.checked_sub_signed(d));
    match ago {
        Some(at) => Ok(Some(at)),
        None => Err(Problem::invalid(
            field,
            format!(
                "{field}: {} is neither an RFC 3339 time (2026-12-04T08:00:00Z) nor a duration \
                 ago (90s, 10m, 24h, 7d; at most 36500d)",
                shown(text)
            ),
        )),
    }
}

/// Read a tenant's activity.
///
/// Newest first, each SCIM request that changed something or was refused (lookups are
/// counted in cycles, not listed). The cursor holds the last row's time and id: rows written
/// while you page come before the first page and never shift the pages after it.
#[utoipa::path(
    get,
    operation_id = "list_activity",
    path = "/api/v1/tenants/{name}/activity",
    tag = "Activity",
    params(TenantPath, ActivityQuery, PageParams),
    responses(
        (status = 200, description = "A page of the activity, newest first",
            body = Page<ActivityView>),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn list(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    Params(query): Params<ActivityQuery>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<Page<ActivityView>>, Problem> {
    let limit = page.limit()?;
    let filter = query.filter(Utc::now(), limit + 1)?;
    let before: Option<(DateTime<Utc>, Uuid)> = page.after("activity")?;
    let rows = api
        .directory
        .activity_page(&path.name, &filter, before)
        .await?;
    let page = Page::of(rows, limit, "activity", |a| (a.at, a.id));
    Ok(axum::Json(page.map(ActivityView::from)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc_3339_or_a_duration_ago_and_nothing_else() {
        let now = Utc::now();
        let day_ago = instant("since", Some("1d"), now).unwrap().unwrap();
        assert_eq!(now - day_ago, chrono::TimeDelta::days(1));
        let at = instant("until", Some("2026-12-04T08:00:00+01:00"), now).unwrap();
        assert_eq!(at.unwrap().to_rfc3339(), "2026-12-04T07:00:00+00:00");
        for bad in [
            "yesterday",
            "99999-01-01T00:00:00Z",
            "0s",
            "36501d",
            "",
            "1d\0",
        ] {
            let problem = instant("since", Some(bad), now).unwrap_err();
            assert_eq!(problem.field.as_deref(), Some("since"), "{bad}");
            assert_eq!(problem.status, 422);
        }
    }

    #[test]
    fn each_filter_is_checked_and_named_when_refused() {
        let now = Utc::now();
        let cases: [(ActivityQuery, &str); 5] = [
            (
                ActivityQuery {
                    resource: Some("nope".into()),
                    ..Default::default()
                },
                "resource",
            ),
            (
                ActivityQuery {
                    request_id: Some("a b".into()),
                    ..Default::default()
                },
                "request_id",
            ),
            (
                ActivityQuery {
                    status: Some("3xx".into()),
                    ..Default::default()
                },
                "status",
            ),
            (
                ActivityQuery {
                    operation: Some("lookup".into()),
                    ..Default::default()
                },
                "operation",
            ),
            (
                ActivityQuery {
                    until: Some("soon".into()),
                    ..Default::default()
                },
                "until",
            ),
        ];
        for (query, field) in cases {
            let problem = query.filter(now, 10).unwrap_err();
            assert_eq!(problem.field.as_deref(), Some(field));
        }
        let good = ActivityQuery {
            status: Some("4XX".into()),
            operation: Some("Patch".into()),
            request_id: Some("r-1".into()),
            ..Default::default()
        }
        .filter(now, 10)
        .unwrap();
        assert_eq!(good.status_class, Some(4));
        assert_eq!(good.operation.as_deref(), Some("patch"));
        assert_eq!(good.limit, 10);
    }
}
