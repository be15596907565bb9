//! `/api/v1/tenants/{name}/setup-links`: the links the application sends a customer's identity
//! admin, who opens one and connects their identity provider on their own: make one (its URL,
//! which holds the token, is in that answer only), list them, revoke one. Never a URL or a
//! token in a list.

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::admins::{Validity, root};
use super::extract::{Acting, MaybeBody, Params, Segments};
use super::idempotency::Secrets;
use super::paging::{Page, PageParams};
use super::problem::Problem;
use super::tenants::{TenantPath, created};
use crate::domain::setup::SetupLink;

/// The list's name in its cursors.
const LIST: &str = "setup-links";

/// A setup link, never its URL or token.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "5b0f3c1e-2a4d-4e8f-9c7b-1a2b3c4d5e6f",
    "expires_at": "2026-12-11T10:00:00Z",
    "created_at": "2026-12-04T10:00:00Z",
    "created_by": "operator_key backend",
    "state": "active",
    "revoked_at": null,
    "last_used_at": "2026-12-05T08:12:00Z"
}))]
pub struct SetupLinkView {
    pub id: Uuid,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// Who made it, as the audit trail names actors (`operator_key backend`,
    /// `console contoso/grace`, `cli ops-alice`).
    pub created_by: String,
    /// `active`, `expired` or `revoked`.
    #[schema(example = "active")]
    pub state: &'static str,
    /// When it was revoked; `null` unless it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When its page was last opened or used; `null` if never.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl SetupLinkView {
    fn of(link: SetupLink, now: DateTime<Utc>) -> Self {
        SetupLinkView {
            id: link.id,
            expires_at: link.expires,
            created_at: link.created,
            created_by: link.created_by.clone(),
            state: link.state(now),
            revoked_at: link.revoked,
            last_used_at: link.last_used,
        }
    }
}

/// A setup link just made: `url` holds its token, in this answer only.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "5b0f3c1e-2a4d-4e8f-9c7b-1a2b3c4d5e6f",
    "url": "https://scim.example.com/setup/scimd_setup_Zm9vYmFyYmF6cXV4",
    "expires_at": "2026-12-11T10:00:00Z",
    "created_at": "2026-12-04T10:00:00Z",
    "created_by": "operator_key backend",
    "state": "active"
}))]
pub struct IssuedSetupLinkView {
    pub id: Uuid,
    /// The link to send the customer's identity admin; shown once.
    pub url: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// `active`.
    #[schema(example = "active")]
    pub state: &'static str,
}

/// How long a new setup link works.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"expires_in": "7d"}))]
pub struct NewSetupLink {
    /// `90m`, `12h`, `3d` (1 hour to 30 days; 7 days when left out).
    #[schema(value_type = Option<Validity>, example = "7d")]
    pub expires_in: Option<String>,
}

/// The `{name}` and `{id}` of a setup link's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SetupLinkPath {
    /// The tenant's name.
    #[param(example = "contoso")]
    pub name: String,
    /// The link's id.
    pub id: Uuid,
}

/// Make a setup link.
///
/// A link for the customer's identity admin to open in a browser: its page walks them through
/// connecting their identity provider to this tenant, with the tenant's own values. The URL
/// holds a random token (scimd keeps its SHA-256 only) and is in this answer and nowhere else:
/// a retry with the same `Idempotency-Key` is answered 409 `secret-not-repeated`. Every use of
/// the link is in the audit trail.
#[utoipa::path(
    post,
    operation_id = "create_setup_link",
    path = "/api/v1/tenants/{name}/setup-links",
    tag = "Setup links",
    params(TenantPath),
    request_body(content = Option<NewSetupLink>, description = "Optional: how long it works"),
    responses(
        (status = 201, description = "Made; the URL is shown once", body = IssuedSetupLinkView,
            headers(("Location" = String, description = "The link's URL in this API"))),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "`expires_in` is not valid", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn create(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    MaybeBody(new): MaybeBody<NewSetupLink>,
) -> Result<Response, Problem> {
    let new = new.unwrap_or_default();
    let issued = api
        .directory
        .create_setup_link(&path.name, new.expires_in.as_deref(), root(&api))
        .await?;
    let link = issued.link;
    let view = IssuedSetupLinkView {
        id: link.id,
        url: issued.url,
        expires_at: link.expires,
        created_at: link.created,
        state: link.state(api.directory.now()),
        created_by: link.created_by,
    };
    let location = format!(
        "/api/v1/tenants/{}/setup-links/{}",
        link.tenant_name, link.id
    );
    let mut response = created(location, &view);
    response.extensions_mut().insert(Secrets(&["url"]));
    Ok(response)
}

/// List a tenant's setup links.
///
/// Newest first, expired and revoked ones too, each with its state; never a URL or a token.
#[utoipa::path(
    get,
    operation_id = "list_setup_links",
    path = "/api/v1/tenants/{name}/setup-links",
    tag = "Setup links",
    params(TenantPath, PageParams),
    responses(
        (status = 200, description = "A page of setup links", body = Page<SetupLinkView>),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn list(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<Page<SetupLinkView>>, Problem> {
    let limit = page.limit()?;
    // the keyset of the previous page's last link (its creation time and id), in a cursor of
    // this tenant's list: another tenant's is refused
    let list = format!("{LIST} of {}", path.name);
    let before: Option<(DateTime<Utc>, Uuid)> = page.after(&list)?;
    let links = api
        .directory
        .setup_links(&path.name, before, limit.saturating_add(1))
        .await?;
    let now = api.directory.now();
    let page = Page::of(links, limit, &list, |l| (l.created, l.id));
    Ok(axum::Json(page.map(|l| SetupLinkView::of(l, now))))
}

/// Revoke a setup link.
///
/// Its page answers that the link no longer works from then on, and shows nothing of the
/// tenant; what was done through it (a Secret Token generated, a team admin created) stays.
/// Revoking a revoked link changes nothing.
#[utoipa::path(
    delete,
    operation_id = "revoke_setup_link",
    path = "/api/v1/tenants/{name}/setup-links/{id}",
    tag = "Setup links",
    params(SetupLinkPath),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such tenant, or no such setup link of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn revoke(
    api: Acting,
    Segments(path): Segments<SetupLinkPath>,
) -> Result<StatusCode, Problem> {
    api.directory.revoke_setup_link(&path.name, path.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
