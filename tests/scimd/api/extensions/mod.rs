//! Tenants' extension schemas (`scimd schema add`, RFC 7643 §7 documents) over HTTP: once
//! registered, an extension is written, read, patched, filtered, sorted and projected like
//! the Enterprise User extension, served by discovery to its tenant only, kept unique where
//! it says `uniqueness: server` (by indexes built without holding up any tenant's writes,
//! capped per tenant); bad documents and clashing URNs are refused; a removed schema's values
//! are hidden but kept. Also what becomes of attributes no schema defines.

mod building;
mod catalog;
mod discovery;
mod limits;
mod queries;
mod registration;
mod resources;
mod uniqueness;
mod unknown;

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Map, Value, json};

use scimd::domain::activity::{Activity, ActivityFilter};
use scimd::scim::resource::ResourceId;
use scimd::scim::schema::ResourceKind;
use scimd::store::Resources;

use crate::support::{TestApp, TestResponse, open_store};

/// The URN of the test's User extension.
pub const CONTOSO: &str = "urn:ietf:params:scim:schemas:extension:contoso:2.0:User";
/// The core User schema.
pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// `urn:…:contoso:2.0:User:<name>`: an attribute of the extension by its full path.
pub fn attr(name: &str) -> String {
    format!("{CONTOSO}:{name}")
}

/// The extension as a schema document: a unique string, an integer, a boolean, a complex
/// attribute with two sub-attributes, a dateTime and a decimal.
pub fn contoso_schema() -> Value {
    json!({
        "id": CONTOSO,
        "name": "ContosoUser",
        "description": "Contoso's own user attributes",
        "attributes": [
            {"name": "costCenter", "type": "string", "uniqueness": "server"},
            {"name": "badge", "type": "integer"},
            {"name": "remote", "type": "boolean"},
            {"name": "office", "type": "complex", "subAttributes": [
                {"name": "building", "type": "string"},
                {"name": "floor", "type": "integer"}
            ]},
            {"name": "hired", "type": "dateTime"},
            {"name": "rate", "type": "decimal"}
        ]
    })
}

/// Registers `document` as an extension of `kind` for `tenant`, as `scimd schema add` does.
pub async fn add(app: &TestApp, tenant: &str, kind: ResourceKind, document: &Value) {
    let added = app
        .state
        .directory
        .add_schema(tenant, kind, document)
        .await
        .unwrap_or_else(|e| panic!("register {}: {e}", document["id"]));
    assert_eq!(added.kind, kind);
    assert_eq!(added.schema.id, document["id"].as_str().unwrap());
}

/// Registers the Contoso extension of Users for tenant `default`.
pub async fn register(app: &TestApp) {
    add(app, "default", ResourceKind::User, &contoso_schema()).await;
}

/// The reason a registration is refused.
pub async fn refused(app: &TestApp, tenant: &str, kind: ResourceKind, document: &Value) -> String {
    match app.state.directory.add_schema(tenant, kind, document).await {
        Ok(added) => panic!("{} was registered", added.schema.id),
        Err(e) => e.to_string(),
    }
}

pub fn patch_op(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

pub async fn patch(app: &TestApp, path: &str, ops: Value) -> TestResponse {
    app.call(Method::PATCH, path, Some(patch_op(ops))).await
}

/// Creates `body` under `/scim/v2/<endpoint>`, which must succeed: its path and what the
/// POST answered.
pub async fn created(app: &TestApp, endpoint: &str, body: Value) -> (String, Value) {
    let res = app.post(&format!("/scim/v2/{endpoint}"), body).await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.body);
    let path = format!("/scim/v2/{endpoint}/{}", res.body["id"].as_str().unwrap());
    (path, res.body)
}

/// A user with the extension object `ext` (`None`: without the extension).
pub fn user(name: &str, ext: Option<Value>) -> Value {
    let mut body = json!({"schemas": [CORE_USER, CONTOSO], "userName": name});
    if let Some(ext) = ext {
        body[CONTOSO] = ext;
    }
    body
}

/// A request with the bearer token `token` (another tenant's).
pub async fn call_as(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> TestResponse {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/scim+json");
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    app.send(req.body(body).unwrap()).await
}

/// Creates tenant `name` with a token of its own; the token.
pub async fn tenant_with_token(app: &TestApp, name: &str) -> String {
    let dir = &app.state.directory;
    dir.create_tenant(name).await.unwrap();
    dir.issue_token(name, None).await.unwrap().token
}

/// The document stored for the resource at `path` (`/scim/v2/Users/<id>`) of `tenant`, read
/// from the store behind the API.
pub async fn stored(
    app: &TestApp,
    tenant: &str,
    kind: ResourceKind,
    path: &str,
) -> Map<String, Value> {
    let tenant = app.state.directory.tenant(tenant).await.unwrap();
    let id: ResourceId = path.rsplit('/').next().unwrap().parse().unwrap();
    let store = open_store(&app.db.url).await;
    store.get(tenant.id, kind, id).await.unwrap().doc
}

/// The activity log of `tenant`, oldest first.
pub async fn activity(app: &TestApp, tenant: &str) -> Vec<Activity> {
    let filter = ActivityFilter {
        limit: 1000,
        ..Default::default()
    };
    let mut rows = app.state.directory.activity(tenant, &filter).await.unwrap();
    rows.sort_by_key(|a| a.at);
    rows
}

/// The `totalResults` of `GET <endpoint>?filter=<filter>`, which must succeed.
pub async fn count(app: &TestApp, endpoint: &str, filter: &str) -> u64 {
    let res = app
        .get(&format!(
            "/scim/v2/{endpoint}?filter={}",
            crate::support::encode(filter)
        ))
        .await;
    assert_eq!(res.status.as_u16(), 200, "{filter}: {}", res.body);
    res.body["totalResults"].as_u64().unwrap()
}
