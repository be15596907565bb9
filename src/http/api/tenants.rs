//! `/api/v1/tenants`: create a tenant (with its rules) when a customer turns provisioning on,
//! list and find them, change their rules, and delete one with everything of it.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{Acting, Body, Params, Segments};
use super::matching::{self, MatchingName};
use super::paging::{Page, PageParams};
use super::problem::{Kind, Problem};
use super::retained::DeleteRule;
use super::rules::{PasswordRule, RenameRule, UnknownRule};
use crate::domain::Tenant;
use crate::service::PolicyChange;

/// A tenant: one customer's directory, one Entra provisioning job.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "name": "contoso",
    "scim_url": "https://scim.example.com/scim/v2",
    "matching_attributes": ["userName", "externalId"],
    "matching_attribute": "userName",
    "allowed_roles": ["Organizer", "Attendee"],
    "require_role": true,
    "entra_tenant_id": null,
    "unknown_attributes": "ignore",
    "passwords": "reject",
    "soft_delete_renames": "keep",
    "on_delete": "retain", "retain_for_seconds": 2592000, "restore_on_create": true,
    "rate_limit_per_second": null, "max_in_flight": 64,
    "created": "2026-12-04T10:00:00Z"
}))]
pub struct TenantView {
    /// The tenant's name, unique (a DNS label).
    pub name: String,
    /// The Tenant URL to enter in Entra (every tenant's; its token tells them apart).
    pub scim_url: String,
    /// The attributes Entra matches users on, in the order of Entra's Matching precedence
    /// (1 first); each is unique in the tenant.
    #[schema(value_type = Vec<MatchingName>)]
    pub matching_attributes: Vec<String>,
    /// The first of `matching_attributes` (Matching precedence 1), for clients of before the
    /// list.
    #[schema(value_type = MatchingName)]
    pub matching_attribute: String,
    /// The role values users may carry; `null`: any.
    pub allowed_roles: Option<Vec<String>>,
    /// Whether every active user must carry a role.
    pub require_role: bool,
    /// The Entra tenant whose own signed tokens are accepted (when the Secret Token is blank).
    pub entra_tenant_id: Option<Uuid>,
    /// What attributes no schema of the tenant defines get.
    pub unknown_attributes: UnknownRule,
    /// What a user's password in a SCIM request gets.
    pub passwords: PasswordRule,
    /// What Entra's soft-delete rename of a user's name gets.
    pub soft_delete_renames: RenameRule,
    /// What a `DELETE` of a user does: `delete`, or `retain` it for `retain_for_seconds`.
    pub on_delete: DeleteRule,
    /// How long a retained user is kept before it is purged.
    pub retain_for_seconds: i64,
    /// Whether, under `retain`, a create with the `externalId` of a retained user (or of the
    /// one deactivated user that has it) restores that user.
    pub restore_on_create: bool,
    /// The tenant's SCIM requests per second (bursts of twice as many), on each replica;
    /// past it, 429 with `Retry-After`. `null`: no rate.
    pub rate_limit_per_second: Option<u32>,
    /// The tenant's SCIM requests served or waiting at once; past it, 429 with
    /// `Retry-After`. `null`: the server's `SCIMD_TENANT_MAX_IN_FLIGHT`.
    pub max_in_flight: Option<u32>,
    pub created: DateTime<Utc>,
}

impl TenantView {
    pub fn of(tenant: &Tenant, scim_url: &str) -> Self {
        let p = &tenant.policy;
        TenantView {
            name: tenant.name.clone(),
            scim_url: scim_url.to_owned(),
            matching_attributes: p.matching.names(),
            matching_attribute: p.matching.first().as_str().to_owned(),
            allowed_roles: p.allowed_roles.clone(),
            require_role: p.require_role,
            entra_tenant_id: p.entra_tenant,
            unknown_attributes: p.unknown_attributes.into(),
            passwords: p.passwords.into(),
            soft_delete_renames: p.soft_delete_renames.into(),
            on_delete: p.deprovisioning.on_delete.into(),
            retain_for_seconds: p.deprovisioning.retain_for_secs,
            restore_on_create: p.deprovisioning.restore_on_create,
            rate_limit_per_second: p.limits.rate_per_second,
            max_in_flight: p.limits.max_in_flight,
            created: tenant.created,
        }
    }
}

/// A role value in the document: not blank, at most 1024 characters.
struct Role;

impl utoipa::PartialSchema for Role {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some("\\S"))
            .max_length(Some(1024))
            .examples([serde_json::json!("Organizer")])
            .into()
    }
}

impl ToSchema for Role {}

/// A field that may be absent (unchanged) or `null` (cleared): `Some(None)` for `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A new tenant and, optionally, its rules.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "contoso",
    "matching_attributes": ["userName", "externalId"],
    "allowed_roles": ["Organizer", "Attendee"],
    "require_role": true
}))]
pub struct NewTenant {
    /// 1 to 63 lower-case letters, digits and hyphens, not starting or ending with a hyphen.
    #[schema(pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", example = "contoso")]
    pub name: String,
    /// The matching attributes in Entra's Matching precedence order, each once, from
    /// `userName` (the default), `externalId` and `emails[type eq "work"].value`.
    #[schema(value_type = Option<Vec<MatchingName>>, min_items = 1, max_items = 3)]
    pub matching_attributes: Option<Vec<String>>,
    /// One matching attribute (the list of one), for clients of before the list; not with
    /// `matching_attributes`.
    #[schema(value_type = Option<MatchingName>, example = "userName")]
    pub matching_attribute: Option<String>,
    /// The role values users may carry; `null` or absent: any.
    #[schema(value_type = Option<Vec<Role>>)]
    pub allowed_roles: Option<Vec<String>>,
    pub require_role: Option<bool>,
    pub entra_tenant_id: Option<Uuid>,
    pub unknown_attributes: Option<UnknownRule>,
    pub passwords: Option<PasswordRule>,
    pub soft_delete_renames: Option<RenameRule>,
    pub on_delete: Option<DeleteRule>,
    pub retain_for_seconds: Option<i64>,
    pub restore_on_create: Option<bool>,
    #[schema(minimum = 1, maximum = 100_000)]
    pub rate_limit_per_second: Option<u32>,
    #[schema(minimum = 1, maximum = 10_000)]
    pub max_in_flight: Option<u32>,
}

/// Changes to a tenant's rules; a field left out is left as it is, `null` clears it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"matching_attributes": ["userName", "externalId"], "allowed_roles": null}))]
pub struct RulesChange {
    /// The matching attributes in Entra's Matching precedence order, each once, from
    /// `userName`, `externalId` and `emails[type eq "work"].value`; refused (409, naming the
    /// attribute and the users) while users share values of one of them.
    #[schema(value_type = Option<Vec<MatchingName>>, min_items = 1, max_items = 3)]
    pub matching_attributes: Option<Vec<String>>,
    /// One matching attribute (the list of one), for clients of before the list; not with
    /// `matching_attributes`.
    #[schema(value_type = Option<MatchingName>, example = "externalId")]
    pub matching_attribute: Option<String>,
    /// The role values users may carry; `null`: any.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<Role>>)]
    pub allowed_roles: Option<Option<Vec<String>>>,
    pub require_role: Option<bool>,
    /// The Entra tenant whose signed tokens are accepted; `null`: none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub entra_tenant_id: Option<Option<Uuid>>,
    pub unknown_attributes: Option<UnknownRule>,
    pub passwords: Option<PasswordRule>,
    pub soft_delete_renames: Option<RenameRule>,
    pub on_delete: Option<DeleteRule>,
    /// 1 to 3153600000 (100 years).
    pub retain_for_seconds: Option<i64>,
    pub restore_on_create: Option<bool>,
    /// 1 to 100000 requests per second; `null`: no rate.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 100_000)]
    pub rate_limit_per_second: Option<Option<u32>>,
    /// 1 to 10000 requests in flight; `null`: the server's.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 10_000)]
    pub max_in_flight: Option<Option<u32>>,
}

impl RulesChange {
    /// The change as the use case takes it; matching attributes it does not take are refused.
    fn to_change(&self) -> Result<PolicyChange, Problem> {
        let matching = matching::requested(
            self.matching_attributes.as_deref(),
            self.matching_attribute.as_deref(),
        )?;
        Ok(PolicyChange {
            matching,
            allowed_roles: self.allowed_roles.clone(),
            require_role: self.require_role,
            entra_tenant: self.entra_tenant_id,
            unknown_attributes: self.unknown_attributes.map(Into::into),
            passwords: self.passwords.map(Into::into),
            soft_delete_renames: self.soft_delete_renames.map(Into::into),
            on_delete: self.on_delete.map(Into::into),
            retain_for_secs: self.retain_for_seconds,
            restore_on_create: self.restore_on_create,
            rate_limit: self.rate_limit_per_second,
            max_in_flight: self.max_in_flight,
        })
    }
}

impl From<&NewTenant> for RulesChange {
    fn from(t: &NewTenant) -> Self {
        RulesChange {
            matching_attributes: t.matching_attributes.clone(),
            matching_attribute: t.matching_attribute.clone(),
            allowed_roles: t.allowed_roles.clone().map(Some),
            require_role: t.require_role,
            entra_tenant_id: t.entra_tenant_id.map(Some),
            unknown_attributes: t.unknown_attributes,
            passwords: t.passwords,
            soft_delete_renames: t.soft_delete_renames,
            on_delete: t.on_delete,
            retain_for_seconds: t.retain_for_seconds,
            restore_on_create: t.restore_on_create,
            rate_limit_per_second: t.rate_limit_per_second.map(Some),
            max_in_flight: t.max_in_flight.map(Some),
        }
    }
}

/// `?q=`: tenants whose name starts with it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    /// Only tenants whose name starts with this (at most 63 characters, as a name).
    #[param(max_length = 63, example = "con")]
    pub q: Option<String>,
}

/// `?confirm=&force=` of a deletion.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// The tenant's name again, to confirm (required).
    pub confirm: Option<String>,
    /// Delete even though its webhooks have events still to deliver (they are dropped).
    pub force: Option<bool>,
}

/// The `{name}` of a tenant's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TenantPath {
    /// The tenant's name.
    #[param(example = "contoso")]
    pub name: String,
}

/// The answer of a write that made a resource: 201, its `Location`, the resource.
pub fn created<T: Serialize>(location: String, body: &T) -> Response {
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Create a tenant.
///
/// The tenant is created with its rules, if any are given; a tenant whose rules are refused
/// is not created. Its SCIM token is issued with `POST /api/v1/tenants/{name}/tokens`.
#[utoipa::path(
    post,
    operation_id = "create_tenant",
    path = "/api/v1/tenants",
    tag = "Tenants",
    request_body = NewTenant,
    responses(
        (status = 201, description = "Created", body = TenantView,
            headers(("Location" = String, description = "The tenant's URL"))),
        (status = 409, description = "The name is taken", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn create(api: Acting, Body(new): Body<NewTenant>) -> Result<Response, Problem> {
    let rules = RulesChange::from(&new).to_change()?;
    let tenant = api.directory.create_tenant_with(&new.name, &rules).await?;
    let location = format!("/api/v1/tenants/{}", tenant.name);
    Ok(created(location, &TenantView::of(&tenant, &api.scim_url)))
}

/// List tenants.
///
/// By name, in pages; `q` keeps those whose name starts with it.
#[utoipa::path(
    get,
    operation_id = "list_tenants",
    path = "/api/v1/tenants",
    tag = "Tenants",
    params(TenantQuery, PageParams),
    responses((status = 200, description = "A page of tenants", body = Page<TenantView>))
)]
pub async fn list(
    api: Acting,
    Params(query): Params<TenantQuery>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<Page<TenantView>>, Problem> {
    let limit = page.limit()?;
    let after: Option<String> = page.after("tenants")?;
    if let Some(q) = &query.q {
        if q.chars().count() > 63 {
            return Err(Problem::invalid(
                "q",
                "q: a tenant name is at most 63 characters, and so is a prefix of one",
            ));
        }
    }
    let tenants = api
        .directory
        .tenant_page(query.q.as_deref(), after.as_deref(), limit + 1)
        .await?;
    let page = Page::of(tenants, limit, "tenants", |t| t.name.clone());
    Ok(axum::Json(page.map(|t| TenantView::of(&t, &api.scim_url))))
}

/// Show a tenant.
#[utoipa::path(
    get,
    operation_id = "show_tenant",
    path = "/api/v1/tenants/{name}",
    tag = "Tenants",
    params(TenantPath),
    responses(
        (status = 200, description = "The tenant", body = TenantView),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn show(
    api: Acting,
    Segments(path): Segments<TenantPath>,
) -> Result<axum::Json<TenantView>, Problem> {
    let tenant = api.directory.tenant(&path.name).await?;
    Ok(axum::Json(TenantView::of(&tenant, &api.scim_url)))
}

/// Change a tenant's rules.
///
/// Only the fields sent change; `null` clears `allowed_roles` (any role) or
/// `entra_tenant_id` (no Entra-signed tokens).
#[utoipa::path(
    patch,
    operation_id = "update_tenant",
    path = "/api/v1/tenants/{name}",
    tag = "Tenants",
    params(TenantPath),
    request_body = RulesChange,
    responses(
        (status = 200, description = "The tenant with its new rules", body = TenantView),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "Users share values of one of the new matching attributes",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    Body(change): Body<RulesChange>,
) -> Result<axum::Json<TenantView>, Problem> {
    let change = change.to_change()?;
    // a change that sets nothing still names a tenant that must exist
    let tenant = api.directory.tenant(&path.name).await?;
    if !change.is_empty() {
        api.directory.set_policy(&tenant.name, &change).await?;
    }
    let tenant = api.directory.tenant(&tenant.name).await?;
    Ok(axum::Json(TenantView::of(&tenant, &api.scim_url)))
}

/// Delete a tenant.
///
/// Removes the tenant and everything of it: its users and groups, tokens, admins, OAuth
/// clients, webhooks and their events, activity and schemas. `confirm` must repeat its name.
/// Refused (409) while its webhooks still have events to deliver, unless `force=true`.
#[utoipa::path(
    delete,
    operation_id = "delete_tenant",
    path = "/api/v1/tenants/{name}",
    tag = "Tenants",
    params(TenantPath, DeleteQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "Its webhooks have events to deliver", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn delete(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    Params(query): Params<DeleteQuery>,
) -> Result<StatusCode, Problem> {
    let tenant = api.directory.tenant(&path.name).await?;
    if query.confirm.as_deref() != Some(tenant.name.as_str()) {
        return Err(Problem::new(
            Kind::Validation,
            format!(
                "confirm: deleting a tenant removes everything of it; repeat its name \
                 (?confirm={}) to confirm",
                tenant.name
            ),
        )
        .at("confirm"));
    }
    api.directory
        .delete_tenant(&tenant.name, query.force.unwrap_or(false))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
