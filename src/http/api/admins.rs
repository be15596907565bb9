//! `/api/v1/tenants/{name}/admins`: the application's admins of a tenant, who sign in to the
//! console and to authorize Entra: add one with a password, list them, show one, give or take
//! the team-admin right or set a new password, remove one; without a password, an invitation
//! link (shown once) for the person to set it in a browser. Never a password or its hash.

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{Acting, Body, MaybeBody, Params, Segments};
use super::idempotency::Secrets;
use super::paging::{Page, PageParams};
use super::problem::{Kind, Problem};
use super::tenants::{TenantPath, created};
use crate::domain::oauth::Admin;
use crate::service::invitations::{IssuedInvitation, VALIDITY_PATTERN, parse_validity};

/// An admin, never their password.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "username": "grace",
    "team_admin": true,
    "created": "2026-12-04T10:00:00Z"
}))]
pub struct AdminView {
    /// The name they sign in with.
    pub username: String,
    /// Whether they may authorize Entra's connection.
    pub team_admin: bool,
    pub created: DateTime<Utc>,
}

impl From<Admin> for AdminView {
    fn from(a: Admin) -> Self {
        AdminView {
            username: a.username,
            team_admin: a.team_admin,
            created: a.created,
        }
    }
}

/// An admin just added: with an invitation when they were added without a password.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "username": "grace",
    "team_admin": true,
    "created": "2026-12-04T10:00:00Z",
    "invitation_url": "https://scim.example.com/admin/invitation/scimd_inv_Zm9vYmFyYmF6cXV4",
    "invitation_expires": "2026-12-11T10:00:00Z"
}))]
pub struct AddedAdminView {
    pub username: String,
    pub team_admin: bool,
    pub created: DateTime<Utc>,
    /// The link the person opens in a browser to set their password: single use, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation_url: Option<String>,
    /// When the link stops working.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation_expires: Option<DateTime<Utc>>,
}

/// An invitation just issued: `invitation_url` is in this answer only.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "username": "grace",
    "invitation_url": "https://scim.example.com/admin/invitation/scimd_inv_Zm9vYmFyYmF6cXV4",
    "invitation_expires": "2026-12-11T10:00:00Z"
}))]
pub struct InvitationView {
    pub username: String,
    /// The link the person opens in a browser to set their password: single use, shown once.
    pub invitation_url: String,
    pub invitation_expires: DateTime<Utc>,
}

impl From<IssuedInvitation> for InvitationView {
    fn from(i: IssuedInvitation) -> Self {
        InvitationView {
            username: i.admin.username,
            invitation_url: i.url,
            invitation_expires: i.expires,
        }
    }
}

/// An admin to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "grace", "team_admin": true, "expires_in": "3d"}))]
pub struct NewAdmin {
    /// The name they sign in with (unique in the tenant, in any case; at most 1024
    /// characters).
    #[schema(min_length = 1, max_length = 1024)]
    pub username: String,
    /// At least 12 characters; they can sign in at once. Left out: the answer holds an
    /// invitation link for them to set one.
    #[schema(min_length = 12)]
    pub password: Option<String>,
    /// May authorize Entra's connection; `false` when left out.
    #[serde(default)]
    pub team_admin: bool,
    /// How long the invitation is valid, without a password (with one, there is no
    /// invitation and it is not used): `90m`, `12h`, `3d` (1 hour to 30 days; 7 days when left
    /// out).
    #[schema(value_type = Option<Validity>, example = "3d")]
    pub expires_in: Option<String>,
}

/// How long a new invitation is valid.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"expires_in": "3d"}))]
pub struct NewInvitation {
    /// `90m`, `12h`, `3d` (1 hour to 30 days; 7 days when left out).
    #[schema(value_type = Option<Validity>, example = "3d")]
    pub expires_in: Option<String>,
}

/// An invitation's (or a setup link's) validity in the document: the pattern
/// [`parse_validity`] takes.
pub(super) struct Validity;

impl utoipa::PartialSchema for Validity {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some(VALIDITY_PATTERN))
            .into()
    }
}

impl ToSchema for Validity {}

/// The validity asked for, if any.
fn validity(expires_in: Option<&str>) -> Result<Option<TimeDelta>, Problem> {
    Ok(expires_in.map(parse_validity).transpose()?)
}

/// The URL scimd is reached at, from the SCIM base URL the request gave.
pub(super) fn root(api: &Acting) -> &str {
    api.scim_url
        .strip_suffix(crate::http::SCIM_BASE)
        .unwrap_or(&api.scim_url)
}

/// Changes to an admin; a field left out is left as it is.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"team_admin": false}))]
pub struct AdminChange {
    /// Give or take the right to authorize Entra's connection (taking it revokes what they
    /// authorized).
    pub team_admin: Option<bool>,
    /// A new password, at least 12 characters (their console sessions end).
    #[schema(min_length = 12)]
    pub password: Option<String>,
}

/// The `{name}` and `{username}` of an admin's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AdminPath {
    /// The tenant's name.
    #[param(example = "contoso")]
    pub name: String,
    /// The admin's user name.
    #[param(example = "grace")]
    pub username: String,
}

/// `text` as one segment of a URL path: every byte but the unreserved characters of RFC 3986
/// percent-encoded, so that a user name with `/`, `?` or `%` names its own admin.
fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The admin of the path's tenant (the name in any case), or 404.
pub(super) async fn find(api: &Acting, path: &AdminPath) -> Result<Admin, Problem> {
    let wanted = path.username.trim().to_lowercase();
    let admins = api.directory.admins(&path.name).await?;
    admins
        .into_iter()
        .find(|a| a.username.to_lowercase() == wanted)
        .ok_or_else(|| {
            Problem::new(
                Kind::NotFound,
                format!("tenant {} has no admin {}", path.name, path.username),
            )
        })
}

/// Add an admin.
///
/// With a password they can sign in to the console at once. Without one, the answer holds an
/// `invitation_url` (single use, shown once: a retry with the same `Idempotency-Key` is
/// answered 409 `secret-not-repeated`) for the person to open in a browser and set their
/// password.
#[utoipa::path(
    operation_id = "add_admin",
    post,
    path = "/api/v1/tenants/{name}/admins",
    tag = "Admins",
    params(TenantPath),
    request_body = NewAdmin,
    responses(
        (status = 201, description = "Added (invited, without a password)",
            body = AddedAdminView,
            headers(("Location" = String, description = "The admin's URL"))),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The tenant has an admin of this name", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn add(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    Body(new): Body<NewAdmin>,
) -> Result<Response, Problem> {
    let directory = &api.directory;
    let (admin, invitation) = match &new.password {
        Some(password) => {
            let admin = directory
                .add_admin(&path.name, &new.username, password, new.team_admin)
                .await?;
            (admin, None)
        }
        None => {
            let validity = validity(new.expires_in.as_deref())?;
            let issued = directory
                .add_invited_admin(
                    &path.name,
                    &new.username,
                    new.team_admin,
                    validity,
                    root(&api),
                )
                .await?;
            (issued.admin, Some((issued.url, issued.expires)))
        }
    };
    let location = format!(
        "/api/v1/tenants/{}/admins/{}",
        path.name,
        segment(&admin.username)
    );
    let invited = invitation.is_some();
    let (invitation_url, invitation_expires) = invitation.unzip();
    let view = AddedAdminView {
        username: admin.username,
        team_admin: admin.team_admin,
        created: admin.created,
        invitation_url,
        invitation_expires,
    };
    let mut response = created(location, &view);
    if invited {
        response
            .extensions_mut()
            .insert(Secrets(&["invitation_url"]));
    }
    Ok(response)
}

/// Invite an admin again.
///
/// A fresh invitation link (single use, shown once), for an admin who lost theirs or let it
/// expire, or to reset a forgotten password; the previous link stops working.
#[utoipa::path(
    operation_id = "invite_admin",
    post,
    path = "/api/v1/tenants/{name}/admins/{username}/invitation",
    tag = "Admins",
    params(AdminPath),
    request_body(content = Option<NewInvitation>, description = "Optional: how long it is valid"),
    responses(
        (status = 201, description = "Issued; the link is shown once", body = InvitationView),
        (status = 404, description = "No such tenant, or no such admin of it", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn invite(
    api: Acting,
    Segments(path): Segments<AdminPath>,
    MaybeBody(new): MaybeBody<NewInvitation>,
) -> Result<Response, Problem> {
    let new = new.unwrap_or_default();
    let validity = validity(new.expires_in.as_deref())?;
    let admin = find(&api, &path).await?;
    let issued = api
        .directory
        .invite_admin(&path.name, &admin.username, validity, root(&api))
        .await?;
    let mut response = axum::response::IntoResponse::into_response((
        StatusCode::CREATED,
        axum::Json(InvitationView::from(issued)),
    ));
    response
        .extensions_mut()
        .insert(Secrets(&["invitation_url"]));
    Ok(response)
}

/// List a tenant's admins.
///
/// By name; never a password or its hash.
#[utoipa::path(
    operation_id = "list_admins",
    get,
    path = "/api/v1/tenants/{name}/admins",
    tag = "Admins",
    params(TenantPath, PageParams),
    responses(
        (status = 200, description = "A page of admins", body = Page<AdminView>),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn list(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<Page<AdminView>>, Problem> {
    let admins = api.directory.admins(&path.name).await?;
    let page = Page::within(admins, &page, "admins", |a| {
        (a.username.to_lowercase(), a.id)
    })?;
    Ok(axum::Json(page.map(AdminView::from)))
}

/// Show an admin.
#[utoipa::path(
    operation_id = "show_admin",
    get,
    path = "/api/v1/tenants/{name}/admins/{username}",
    tag = "Admins",
    params(AdminPath),
    responses(
        (status = 200, description = "The admin", body = AdminView),
        (status = 404, description = "No such tenant, or no such admin of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn show(
    api: Acting,
    Segments(path): Segments<AdminPath>,
) -> Result<axum::Json<AdminView>, Problem> {
    Ok(axum::Json(find(&api, &path).await?.into()))
}

/// Change an admin.
///
/// Gives or takes the team-admin right, sets a new password, or both (the password first).
#[utoipa::path(
    operation_id = "update_admin",
    patch,
    path = "/api/v1/tenants/{name}/admins/{username}",
    tag = "Admins",
    params(AdminPath),
    request_body = AdminChange,
    responses(
        (status = 200, description = "Changed", body = AdminView),
        (status = 404, description = "No such tenant, or no such admin of it", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn update(
    api: Acting,
    Segments(path): Segments<AdminPath>,
    Body(change): Body<AdminChange>,
) -> Result<axum::Json<AdminView>, Problem> {
    let mut admin = find(&api, &path).await?;
    if let Some(password) = &change.password {
        admin = api
            .directory
            .set_admin_password(&path.name, &admin.username, password)
            .await?;
    }
    if let Some(team_admin) = change.team_admin {
        admin = api
            .directory
            .set_team_admin(&path.name, &admin.username, team_admin)
            .await?;
    }
    Ok(axum::Json(admin.into()))
}

/// Remove an admin.
///
/// With their console sessions and every OAuth grant they authorized.
#[utoipa::path(
    operation_id = "remove_admin",
    delete,
    path = "/api/v1/tenants/{name}/admins/{username}",
    tag = "Admins",
    params(AdminPath),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such tenant, or no such admin of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn remove(
    api: Acting,
    Segments(path): Segments<AdminPath>,
) -> Result<StatusCode, Problem> {
    let admin = find(&api, &path).await?;
    api.directory
        .remove_admin(&path.name, &admin.username)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
