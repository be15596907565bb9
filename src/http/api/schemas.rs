//! `/api/v1/tenants/{name}/schemas`: a tenant's extension schemas (the custom attributes its
//! Entra mapping sends), registered from RFC 7643 §7 schema documents as `scimd schema add`
//! takes them, listed, shown and removed. A schema registered here is served at the tenant's
//! `/scim/v2/Schemas` from its next request, on every replica. What a tenant does with
//! attributes no schema defines is its `unknown_attributes` rule (`PATCH /api/v1/tenants/{name}`).

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::extract::{Acting, Body, Params, Segments};
use super::paging::{Page, PageParams};
use super::problem::{Kind, Problem};
use super::tenants::{TenantPath, created};
use crate::scim::schema::ResourceKind;
use crate::service::{MAX_SCHEMAS, RegisteredSchema};

/// A registered schema: its RFC 7643 §7 document, the resource type it extends, and when it
/// was registered.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "urn:ietf:params:scim:schemas:extension:contoso:2.0:User",
    "name": "ContosoUser",
    "description": "Contoso's attributes",
    "resource_type": "User",
    "attributes": [{"name": "badge", "type": "string", "multiValued": false,
        "required": false, "caseExact": false, "mutability": "readWrite",
        "returned": "default", "uniqueness": "none"}],
    "created": "2026-12-04T10:00:00Z"
}))]
pub struct SchemaView {
    /// The schema's URN.
    pub id: String,
    pub name: String,
    pub description: String,
    /// The resource type it extends: `User` or `Group`.
    pub resource_type: ResourceType,
    /// The attribute definitions, as `/scim/v2/Schemas` serves them (RFC 7643 §7).
    #[schema(value_type = Vec<Object>)]
    pub attributes: Value,
    pub created: DateTime<Utc>,
}

/// The resource types an extension may extend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ResourceType {
    #[default]
    User,
    Group,
}

impl From<ResourceType> for ResourceKind {
    fn from(t: ResourceType) -> Self {
        match t {
            ResourceType::User => ResourceKind::User,
            ResourceType::Group => ResourceKind::Group,
        }
    }
}

impl From<RegisteredSchema> for SchemaView {
    fn from(r: RegisteredSchema) -> Self {
        SchemaView {
            resource_type: match r.kind {
                ResourceKind::User => ResourceType::User,
                ResourceKind::Group => ResourceType::Group,
            },
            attributes: serde_json::to_value(&r.schema.attributes).unwrap_or(Value::Null),
            id: r.schema.id,
            name: r.schema.name,
            description: r.schema.description,
            created: r.created,
        }
    }
}

/// A schema to register: the document `scimd schema add` reads from its file, and the
/// resource type of its `--resource-type`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "resource_type": "User",
    "document": {
        "id": "urn:ietf:params:scim:schemas:extension:contoso:2.0:User",
        "name": "ContosoUser",
        "description": "Contoso's attributes",
        "attributes": [{"name": "badge", "type": "string", "multiValued": false}]
    }
}))]
pub struct NewSchema {
    /// The resource type it extends; `User` unless given.
    #[serde(default)]
    pub resource_type: ResourceType,
    /// An RFC 7643 §7 schema document: `id` (a URN), `name`, `description`, `attributes`.
    #[schema(value_type = Object)]
    pub document: Value,
}

/// The `{name}` and `{urn}` of a schema's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SchemaPath {
    /// The tenant's name.
    #[param(example = "contoso")]
    pub name: String,
    /// The schema's URN (in any case; percent-encoded or not, `:` is allowed in a path).
    #[param(example = "urn:ietf:params:scim:schemas:extension:contoso:2.0:User")]
    pub urn: String,
}

/// Register an extension schema.
///
/// The document is checked as `scimd schema add` checks it; a refusal names the field at
/// fault (`document.attributes[2].type`). Attributes with `uniqueness` server are kept unique
/// in the tenant from then on (values already shared refuse the registration, 409).
#[utoipa::path(
    post,
    operation_id = "add_schema",
    path = "/api/v1/tenants/{name}/schemas",
    tag = "Schemas",
    params(TenantPath),
    request_body = NewSchema,
    responses(
        (status = 201, description = "Registered, and served from the tenant's next request",
            body = SchemaView,
            headers(("Location" = String, description = "The schema's URL"))),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The URN is registered already, the tenant has as many \
            schemas as it may, or values of a unique attribute are shared", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn add(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    Body(new): Body<NewSchema>,
) -> Result<Response, Problem> {
    let registered = api.directory.schemas_of(&path.name).await?;
    let urn = new
        .document
        .get("id")
        .and_then(Value::as_str)
        .map(str::trim);
    if let Some(urn) = urn {
        if let Some(taken) = registered
            .iter()
            .find(|r| r.schema.id.eq_ignore_ascii_case(urn))
        {
            return Err(Problem::new(
                Kind::Conflict,
                format!(
                    "tenant {} has the schema {} already; DELETE it first to register it anew",
                    path.name, taken.schema.id
                ),
            )
            .at("document.id"));
        }
    }
    if registered.len() >= MAX_SCHEMAS {
        return Err(Problem::new(
            Kind::Conflict,
            format!(
                "tenant {} has {} schemas, as many as a tenant may register; remove one first",
                path.name,
                registered.len()
            ),
        ));
    }
    let added = api
        .directory
        .add_schema(&path.name, new.resource_type.into(), &new.document)
        .await
        .map_err(|e| located(Problem::from(e), &new.document))?;
    let view = SchemaView::from(added);
    let location = format!("/api/v1/tenants/{}/schemas/{}", path.name, view.id);
    Ok(created(location, &view))
}

/// List a tenant's extension schemas.
///
/// In the order they were registered.
#[utoipa::path(
    get,
    operation_id = "list_schemas",
    path = "/api/v1/tenants/{name}/schemas",
    tag = "Schemas",
    params(TenantPath, PageParams),
    responses(
        (status = 200, description = "A page of schemas", body = Page<SchemaView>),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn list(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<Page<SchemaView>>, Problem> {
    let schemas = api.directory.schemas_of(&path.name).await?;
    let page = Page::within(schemas, &page, "schemas", |r| {
        (r.created, r.schema.id.to_ascii_lowercase())
    })?;
    Ok(axum::Json(page.map(SchemaView::from)))
}

/// Show one of a tenant's extension schemas.
#[utoipa::path(
    get,
    operation_id = "show_schema",
    path = "/api/v1/tenants/{name}/schemas/{urn}",
    tag = "Schemas",
    params(SchemaPath),
    responses(
        (status = 200, description = "The schema", body = SchemaView),
        (status = 404, description = "No such tenant, or no such schema of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn show(
    api: Acting,
    Segments(path): Segments<SchemaPath>,
) -> Result<axum::Json<SchemaView>, Problem> {
    let found = api
        .directory
        .schemas_of(&path.name)
        .await?
        .into_iter()
        .find(|r| r.schema.id.eq_ignore_ascii_case(path.urn.trim()))
        .ok_or_else(|| no_schema(&path))?;
    Ok(axum::Json(found.into()))
}

/// Remove an extension schema.
///
/// Values stored under it stay in the resources, neither served nor searchable, until a PUT
/// replaces the resource; registering the schema again serves them again.
#[utoipa::path(
    delete,
    operation_id = "remove_schema",
    path = "/api/v1/tenants/{name}/schemas/{urn}",
    tag = "Schemas",
    params(SchemaPath),
    responses(
        (status = 204, description = "Removed; no longer served from the tenant's next request"),
        (status = 404, description = "No such tenant, or no such schema of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn remove(
    api: Acting,
    Segments(path): Segments<SchemaPath>,
) -> Result<StatusCode, Problem> {
    match api.directory.remove_schema(&path.name, &path.urn).await {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(e) => {
            let problem = Problem::from(e);
            if problem.status == 404 && problem.detail.contains("has no schema") {
                return Err(no_schema(&path));
            }
            Err(problem)
        }
    }
}

/// The 404 of a URN the tenant has not registered.
fn no_schema(path: &SchemaPath) -> Problem {
    let urn: String = path
        .urn
        .chars()
        .take(200)
        .flat_map(char::escape_debug)
        .collect();
    Problem::new(
        Kind::NotFound,
        format!(
            "tenant {} has no schema '{urn}'; GET /api/v1/tenants/{}/schemas lists them",
            path.name, path.name
        ),
    )
}

/// A refusal of the document, with the field at fault: the path in the body of what the
/// reason names (the URN, the name, an attribute by its name).
fn located(problem: Problem, document: &Value) -> Problem {
    if problem.status != 422 || problem.field.is_some() {
        return problem;
    }
    let field = field_of(&problem.detail, document);
    problem.at(field)
}

/// Where in the body the reason a schema document was refused points.
fn field_of(reason: &str, document: &Value) -> String {
    if !document.is_object() {
        return "document".into();
    }
    let urn = document.get("id").and_then(Value::as_str).map(str::trim);
    let about_urn = reason.contains("\"id\"")
        || urn.is_some_and(|u| !u.is_empty() && reason.contains(&format!("'{u}'")))
        || reason.contains("already served");
    if about_urn {
        return "document.id".into();
    }
    if reason.contains("\"name\"") {
        return "document.name".into();
    }
    let named = reason
        .strip_prefix("attribute '")
        .or_else(|| reason.strip_prefix('\''))
        .and_then(|rest| rest.split('\'').next());
    let attributes = document.get("attributes").and_then(Value::as_array);
    if let (Some(name), Some(attributes)) = (named, attributes) {
        let twice = reason.contains("defined twice");
        if let Some(path) = attribute_path(attributes, name, twice) {
            let bad_name = reason.contains("is not an attribute name");
            return if bad_name {
                format!("document.{path}.name")
            } else {
                format!("document.{path}")
            };
        }
    }
    "document.attributes".into()
}

/// The path of the attribute (`parent.sub` for a sub-attribute) called `name`: its last
/// definition when `last` (a repeated name), else its first.
fn attribute_path(attributes: &[Value], name: &str, last: bool) -> Option<String> {
    let (parent, sub) = match name.split_once('.') {
        Some((parent, sub)) => (parent, Some(sub)),
        None => (name, None),
    };
    let named = |a: &Value, n: &str| {
        a.get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .eq_ignore_ascii_case(n)
    };
    let find = |list: &[Value], n: &str, last: bool| {
        if last {
            list.iter().rposition(|a| named(a, n))
        } else {
            list.iter().position(|a| named(a, n))
        }
    };
    let found = find(attributes, parent, last && sub.is_none());
    // a sub-attribute's error names it alone: look for it under each complex attribute
    let Some(i) = found else {
        return attributes.iter().enumerate().find_map(|(i, a)| {
            let subs = a.get("subAttributes").and_then(Value::as_array)?;
            let j = find(subs, name, last)?;
            Some(format!("attributes[{i}].subAttributes[{j}]"))
        });
    };
    match sub {
        None => Some(format!("attributes[{i}]")),
        Some(sub) => {
            let subs = attributes[i]
                .get("subAttributes")
                .and_then(Value::as_array)?;
            let j = find(subs, sub, last)?;
            Some(format!("attributes[{i}].subAttributes[{j}]"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_refused_document_names_the_field_at_fault() {
        let doc = json!({"id": "urn:x:y", "name": "N", "attributes": [
            {"name": "a", "type": "string"},
            {"name": "c", "type": "complex", "subAttributes": [
                {"name": "s", "type": "string"}, {"name": "S", "type": "string"}]},
            {"name": "9bad", "type": "string"},
        ]});
        let cases = [
            ("'urn:x:y' is not a URN such as …", "document.id"),
            ("the schema needs a \"name\"", "document.name"),
            (
                "attribute 'a': unknown variant `text`",
                "document.attributes[0]",
            ),
            (
                "attribute 'c.S' is defined twice (names compare ignoring case)",
                "document.attributes[1].subAttributes[1]",
            ),
            (
                "attribute 's': a sub-attribute cannot be complex",
                "document.attributes[1].subAttributes[0]",
            ),
            (
                "'9bad' is not an attribute name: a letter, …",
                "document.attributes[2].name",
            ),
            ("the schema defines no attribute", "document.attributes"),
        ];
        for (reason, field) in cases {
            assert_eq!(field_of(reason, &doc), field, "{reason}");
        }
        assert_eq!(field_of("a schema document is …", &json!([1])), "document");
    }
}
