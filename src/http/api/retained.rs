//! `/api/v1/tenants/{name}/retained`: the users a `DELETE` kept under the tenant's rule
//! `on_delete = retain` (gone from SCIM, kept with their id until their retention has
//! passed), listed in the order they were deleted, and restored one by one with their id.

use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{Acting, Params, Segments};
use super::paging::{Page, PageParams};
use super::problem::Problem;
use super::tenants::{TenantPath, created};
use crate::domain::OnDelete;
use crate::domain::retained::Retained;
use crate::scim::resource::StoredResource;

/// What a `DELETE` of a user does: `delete` (the default) or `retain` it, out of SCIM, for
/// `retain_for_seconds`, then purge it. Groups are always deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeleteRule {
    Delete,
    Retain,
}

impl From<OnDelete> for DeleteRule {
    fn from(rule: OnDelete) -> Self {
        match rule {
            OnDelete::Delete => DeleteRule::Delete,
            OnDelete::Retain => DeleteRule::Retain,
        }
    }
}

impl From<DeleteRule> for OnDelete {
    fn from(rule: DeleteRule) -> Self {
        match rule {
            DeleteRule::Delete => OnDelete::Delete,
            DeleteRule::Retain => OnDelete::Retain,
        }
    }
}

/// A retained user: gone from SCIM, kept with its id until `purge_after`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "2819c223-7f76-453a-919d-413861904646",
    "user_name": "ralf@contoso.com",
    "external_id": "8c4f1a7e-1d2b-4c5e-9f00-2b3c4d5e6f70",
    "deleted_at": "2026-12-10T10:00:00Z",
    "purge_after": "2027-01-09T10:00:00Z"
}))]
pub struct RetainedView {
    /// The user's SCIM id, which a restore keeps.
    pub id: Uuid,
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    pub deleted_at: DateTime<Utc>,
    /// When the housekeeping purges it.
    pub purge_after: DateTime<Utc>,
}

impl From<Retained> for RetainedView {
    fn from(r: Retained) -> Self {
        RetainedView {
            id: r.id,
            user_name: r.user_name,
            external_id: r.external_id,
            deleted_at: r.deleted_at,
            purge_after: r.purge_after,
        }
    }
}

/// A user restored: back in SCIM with its id, at a new version.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "2819c223-7f76-453a-919d-413861904646",
    "user_name": "ralf@contoso.com",
    "external_id": "8c4f1a7e-1d2b-4c5e-9f00-2b3c4d5e6f70",
    "version": 4,
    "created": "2026-11-02T09:00:00Z",
    "last_modified": "2026-12-12T15:30:00Z",
    "location": "https://scim.example.com/scim/v2/Users/2819c223-7f76-453a-919d-413861904646"
}))]
pub struct RestoredView {
    pub id: Uuid,
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    /// The user's new version (its `meta.version` is `W/"<version>"`).
    pub version: i64,
    /// Its `meta.created`, as before the delete.
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    /// The user's SCIM URL.
    pub location: String,
}

fn restored_view(r: StoredResource, scim_url: &str) -> RestoredView {
    let text = |key: &str| r.doc.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    RestoredView {
        id: r.id.0,
        user_name: text("userName"),
        external_id: text("externalId"),
        version: r.version.0,
        created: r.created,
        last_modified: r.last_modified,
        location: format!("{}/Users/{}", scim_url.trim_end_matches('/'), r.id.0),
    }
}

/// The `{name}` and `{id}` of a retained user's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RetainedPath {
    /// The tenant's name.
    #[param(example = "contoso")]
    pub name: String,
    /// The retained user's id (its SCIM id).
    pub id: Uuid,
}

/// List a tenant's retained users.
///
/// The users a `DELETE` retained (the tenant's rule `on_delete` is `retain`), in the order
/// they were deleted, until they are restored or purged.
#[utoipa::path(
    get,
    operation_id = "list_retained",
    path = "/api/v1/tenants/{name}/retained",
    tag = "Tenants",
    params(TenantPath, PageParams),
    responses(
        (status = 200, description = "A page of retained users", body = Page<RetainedView>),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn list(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<Page<RetainedView>>, Problem> {
    let limit = page.limit()?;
    let after: Option<(DateTime<Utc>, Uuid)> = page.after("retained")?;
    let items = api
        .directory
        .retained_users(&path.name, after, limit.saturating_add(1))
        .await?;
    let page = Page::of(items, limit, "retained", |r| (r.deleted_at, r.id));
    Ok(axum::Json(page.map(RetainedView::from)))
}

/// Restore a retained user.
///
/// The user is back in SCIM with the same id, its document as it was deleted, its
/// `meta.created`, a new version and `lastModified`; its activity row says `restored`, and
/// subscriptions receive a `create` event whose payload has `"restored": true`.
#[utoipa::path(
    post,
    operation_id = "restore_retained",
    path = "/api/v1/tenants/{name}/retained/{id}/restore",
    tag = "Tenants",
    params(RetainedPath),
    responses(
        (status = 201, description = "Restored", body = RestoredView,
            headers(("Location" = String, description = "The user's SCIM URL"))),
        (status = 404, description = "No such tenant, or it retains no such user", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "A value the user holds (its userName, its matching \
            attribute) was taken meanwhile; the detail names the attribute", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn restore(
    api: Acting,
    Segments(path): Segments<RetainedPath>,
) -> Result<Response, Problem> {
    let restored = api.directory.restore_retained(&path.name, path.id).await?;
    let view = restored_view(restored, &api.scim_url);
    Ok(created(view.location.clone(), &view))
}
