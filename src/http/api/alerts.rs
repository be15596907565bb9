//! `/api/v1/tenants/{name}/alerts`: where a tenant's alerts (its changes of provisioning
//! health) are e-mailed — its notification addresses, read and replaced, and its team admins
//! who opted in, read.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{Acting, Body, Segments};
use super::problem::Problem;
use super::tenants::TenantPath;

/// A team admin who receives the tenant's alerts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdminAddress {
    pub username: String,
    pub email: String,
}

/// Where the tenant's alerts are e-mailed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "emails": ["ops@contoso.com"],
    "team_admins": [{"username": "alice", "email": "alice@contoso.com"}]
}))]
pub struct AlertsView {
    /// The tenant's notification addresses, in the order they were set.
    pub emails: Vec<String>,
    /// The team admins who opted in (on the console), with their addresses.
    pub team_admins: Vec<AdminAddress>,
}

/// An e-mail address in the document; scimd checks it further (lettre's `Address`).
struct Email;

impl utoipa::PartialSchema for Email {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some("^[^@\\s]+@[^@\\s]+$"))
            .max_length(Some(254))
            .examples([serde_json::json!("ops@contoso.com")])
            .into()
    }
}

impl ToSchema for Email {}

/// The tenant's new notification addresses: they replace the list (`[]`: none).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"emails": ["ops@contoso.com", "oncall@contoso.com"]}))]
pub struct AlertsChange {
    /// At most 20 addresses, none twice.
    #[schema(value_type = Vec<Email>, max_items = 20)]
    pub emails: Vec<String>,
}

async fn view(api: &Acting, tenant: &str) -> Result<AlertsView, Problem> {
    let emails = api.directory.notify_addresses(tenant).await?;
    let team_admins = api
        .directory
        .admin_notify(tenant)
        .await?
        .into_iter()
        .map(|(username, email)| AdminAddress { username, email })
        .collect();
    Ok(AlertsView {
        emails,
        team_admins,
    })
}

/// Show where a tenant's alerts go.
#[utoipa::path(
    get,
    operation_id = "show_alerts",
    path = "/api/v1/tenants/{name}/alerts",
    tag = "Tenants",
    params(TenantPath),
    responses(
        (status = 200, description = "Where the tenant's alerts are e-mailed", body = AlertsView),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn show(
    api: Acting,
    Segments(path): Segments<TenantPath>,
) -> Result<axum::Json<AlertsView>, Problem> {
    Ok(axum::Json(view(&api, &path.name).await?))
}

/// Replace a tenant's notification addresses.
///
/// Each must be an e-mail address, at most 20, none twice (in any letter case); a list that is
/// refused changes nothing.
#[utoipa::path(
    put,
    operation_id = "set_alerts",
    path = "/api/v1/tenants/{name}/alerts",
    tag = "Tenants",
    params(TenantPath),
    request_body = AlertsChange,
    responses(
        (status = 200, description = "Where the tenant's alerts are now e-mailed",
            body = AlertsView),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "An address is not valid, or the list too long",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn set(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    Body(change): Body<AlertsChange>,
) -> Result<axum::Json<AlertsView>, Problem> {
    // the tenant is looked up first: a list for a missing tenant is a 404, not a 422
    let tenant = api.directory.tenant(&path.name).await?;
    api.directory
        .set_notify_addresses(&tenant.name, &change.emails)
        .await
        .map_err(|e| Problem::from(e).at("emails"))?;
    Ok(axum::Json(view(&api, &tenant.name).await?))
}
