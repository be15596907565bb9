//! `/api/v1/tenants/{name}/webhooks`: the application's subscriptions to a tenant's SCIM events
//! (signed SETs, RFC 9967, pushed as RFC 8935 says): add one (its signing secret is in that
//! answer only), list them with their delivery state, pause, resume, retry what was parked,
//! send a test event, rotate the secret, remove one — what `scimd webhook …` does.

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{Acting, Body, Params, Segments};
use super::idempotency::Secrets;
use super::paging::{Page, PageParams};
use super::problem::{Kind, Problem};
use super::tenants::{TenantPath, created};
use crate::domain::events::{FailedDelivery, Kinds, Subscription};
use crate::service::events::IssuedWebhook;

/// The longest webhook URL taken.
const MAX_URL: usize = 2048;
/// How many of the latest failures a webhook's own page shows.
const FAILURES_SHOWN: u32 = 20;

/// A webhook and its delivery state, never its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0c6b1f8e-3d2a-4f5b-9e7c-8a1b2c3d4e5f",
    "tenant": "contoso",
    "url": "https://app.example/scim-events",
    "events": ["create", "patch", "put", "delete", "activate", "deactivate"],
    "full": false,
    "paused": false,
    "created": "2026-12-04T10:00:00Z",
    "delivered": 42,
    "failed": 0,
    "backlog": 0,
    "last_success": "2026-12-04T10:05:00Z",
    "last_error": null,
    "last_error_at": null,
    "retry_at": null
}))]
pub struct WebhookView {
    pub id: Uuid,
    /// The tenant whose events it receives.
    pub tenant: String,
    /// Where the SETs are POSTed.
    pub url: String,
    /// The kinds of event it receives.
    pub events: Vec<&'static str>,
    /// `true`: full events, with the resource; `false`: notices naming what changed.
    pub full: bool,
    /// Paused: its events queue, none is sent.
    pub paused: bool,
    pub created: DateTime<Utc>,
    /// Events delivered so far.
    pub delivered: u64,
    /// Events dropped (refused by the receiver) or parked (retried too long).
    pub failed: u64,
    /// Events waiting to be delivered.
    pub backlog: u64,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// No delivery before this time (the receiver failed or asked to wait).
    pub retry_at: Option<DateTime<Utc>>,
}

impl From<Subscription> for WebhookView {
    fn from(s: Subscription) -> Self {
        WebhookView {
            id: s.id,
            tenant: s.tenant_name,
            url: s.url,
            events: s.kinds.names(),
            full: s.full,
            paused: s.paused,
            created: s.created,
            delivered: s.delivered,
            failed: s.failed,
            backlog: s.backlog,
            last_success: s.last_success,
            last_error: s.last_error,
            last_error_at: s.last_error_at,
            retry_at: s.retry_at,
        }
    }
}

/// An event that was not delivered to the webhook: dropped or parked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailureView {
    /// The event's place in the outbox.
    pub seq: i64,
    /// The event's id (the SET's `jti`).
    pub event: Uuid,
    /// `User` or `Group`.
    pub resource_type: String,
    pub resource_id: Uuid,
    /// `dropped` (the receiver refused it) or `parked` (retried too long; `retry` queues it
    /// again).
    pub state: String,
    pub attempts: u32,
    pub failed_at: Option<DateTime<Utc>>,
    /// The receiver's last status, if it answered.
    pub status: Option<u16>,
    pub error: Option<String>,
}

impl From<FailedDelivery> for FailureView {
    fn from(f: FailedDelivery) -> Self {
        FailureView {
            seq: f.seq,
            event: f.event,
            resource_type: f.resource_type,
            resource_id: f.resource_id,
            state: f.state,
            attempts: f.attempts,
            failed_at: f.failed_at,
            status: f.last_status,
            error: f.last_error,
        }
    }
}

/// A webhook with its latest failures, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookDetail {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// At most 20 of its dropped and parked events, newest first.
    pub failures: Vec<FailureView>,
}

/// A webhook just added, or its secret just rotated: `secret` is in this answer only.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0c6b1f8e-3d2a-4f5b-9e7c-8a1b2c3d4e5f",
    "secret": "whsec_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0",
    "tenant": "contoso",
    "url": "https://app.example/scim-events",
    "events": ["create", "delete"],
    "full": false,
    "paused": false,
    "created": "2026-12-04T10:00:00Z",
    "delivered": 0, "failed": 0, "backlog": 0,
    "last_success": null, "last_error": null, "last_error_at": null, "retry_at": null
}))]
pub struct IssuedWebhookView {
    /// The HS256 key the SETs are signed with; shown once.
    pub secret: String,
    #[serde(flatten)]
    pub webhook: WebhookView,
}

impl From<IssuedWebhook> for IssuedWebhookView {
    fn from(issued: IssuedWebhook) -> Self {
        IssuedWebhookView {
            secret: issued.secret,
            webhook: issued.subscription.into(),
        }
    }
}

/// The kinds of event a webhook receives: `"all"`, or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum EventKinds {
    /// `"all"`.
    All(String),
    /// Some of `create`, `patch`, `put`, `delete`, `activate`, `deactivate`.
    Each(Vec<String>),
}

impl Default for EventKinds {
    fn default() -> Self {
        EventKinds::All("all".into())
    }
}

impl EventKinds {
    pub(super) fn kinds(&self) -> Result<Kinds, Problem> {
        let list = match self {
            EventKinds::All(all) if all.trim().eq_ignore_ascii_case("all") => {
                return Ok(Kinds::ALL);
            }
            EventKinds::All(other) => {
                return Err(Problem::invalid(
                    "events",
                    format!(
                        "events: '{}' is neither \"all\" nor a list of event kinds",
                        shown(other)
                    ),
                ));
            }
            EventKinds::Each(list) => list,
        };
        if let Some(bad) = list.iter().find(|k| k.contains(',') || k.trim().is_empty()) {
            return Err(Problem::invalid(
                "events",
                format!("events: '{}' is not an event kind", shown(bad)),
            ));
        }
        Kinds::parse(&list.join(","))
            .map_err(|e| Problem::invalid("events", format!("events: {}", shown(&e))))
    }
}

/// At most 100 characters of `text`, without control characters, to quote in a problem.
fn shown(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(100).collect()
}

/// The schema of `events`: `"all"`, or a list of at least one kind.
pub(super) fn kinds_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
    let names: Vec<&str> = Kinds::EACH.iter().map(|(_, n)| *n).chain(["all"]).collect();
    let kind = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names));
    let all = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["all"]));
    OneOfBuilder::new()
        .item(all)
        .item(ArrayBuilder::new().items(kind).min_items(Some(1)))
        .description(Some("`\"all\"`, or the kinds wanted"))
        .default(Some(serde_json::json!("all")))
        .build()
        .into()
}

/// A webhook to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://app.example/scim-events",
    "events": ["create", "delete"],
    "full": false
}))]
pub struct NewWebhook {
    /// Where events are POSTed (RFC 8935): `https`, or `http` on a loopback address
    /// (`localhost`, 127.0.0.0/8, `[::1]`); no user-info, no fragment; at most 2048 characters.
    /// The pattern is a safe subset of what is taken (scimd takes any URL the WHATWG URL
    /// Standard reads with an https scheme and a host).
    #[schema(
        max_length = 2048,
        pattern = r"^(https://([A-Za-z0-9]+(-[A-Za-z0-9]+)*\.)*[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*|http://(localhost|127\.0\.0\.1|\[::1\]))(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~/-]*)?$"
    )]
    pub url: String,
    /// `"all"` (the default) or a list of `create`, `patch`, `put`, `delete`, `activate`,
    /// `deactivate` (`all` among them is every kind).
    #[serde(default)]
    #[schema(schema_with = kinds_schema)]
    pub events: EventKinds,
    /// Full events, with the resource as SCIM shows it, instead of notices naming the
    /// attributes that changed (the default).
    #[serde(default)]
    pub full: bool,
}

/// The `{name}` and `{id}` of a webhook's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WebhookPath {
    /// The tenant's name.
    #[param(example = "contoso")]
    pub name: String,
    /// The webhook's id.
    pub id: Uuid,
}

/// The webhook at `path`, if it is the tenant's: another tenant's is not found here, nor is a
/// pull consumer.
pub(super) async fn owned(api: &Acting, path: &WebhookPath) -> Result<Subscription, Problem> {
    subscription_of(api, &path.name, path.id, false).await
}

/// The tenant `name`'s subscription `id`, a pull consumer (`pull`) or a webhook; any other is
/// not found.
pub(super) async fn subscription_of(
    api: &Acting,
    name: &str,
    id: Uuid,
    pull: bool,
) -> Result<Subscription, Problem> {
    let what = if pull { "pull consumer" } else { "webhook" };
    let not_found = || Problem::new(Kind::NotFound, format!("tenant {name} has no {what} {id}"));
    match api.directory.webhook(&id.to_string()).await {
        Ok(s) if s.tenant_name == name && s.pull == pull => Ok(s),
        Ok(_) => Err(not_found()),
        Err(e) => match Problem::from(e) {
            p if p.status == 404 => Err(not_found()),
            p => Err(p),
        },
    }
}

/// Add a webhook.
///
/// The tenant's events from now on are signed with the webhook's secret (HS256) and POSTed to
/// its URL. The secret is in this answer and nowhere else; a retry with the same
/// `Idempotency-Key` is answered 409 `secret-not-repeated` with the webhook's id, never the
/// secret again.
#[utoipa::path(
    post,
    operation_id = "add_webhook",
    path = "/api/v1/tenants/{name}/webhooks",
    tag = "Webhooks",
    params(TenantPath),
    request_body = NewWebhook,
    responses(
        (status = 201, description = "Added; the secret is shown once", body = IssuedWebhookView,
            headers(("Location" = String, description = "The webhook's URL"))),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn add(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    Body(new): Body<NewWebhook>,
) -> Result<Response, Problem> {
    let url = new.url.trim();
    if url.chars().any(char::is_control) {
        return Err(Problem::invalid(
            "url",
            "url: control characters are not allowed",
        ));
    }
    if url.len() > MAX_URL {
        return Err(Problem::invalid(
            "url",
            format!("url: at most {MAX_URL} characters"),
        ));
    }
    let kinds = new.events.kinds()?;
    let issued = api
        .directory
        .add_webhook(&path.name, url, kinds, new.full)
        .await
        .map_err(|e| match Problem::from(e) {
            p if p.status == 422 && p.field.is_none() => p.at("url"),
            p => p,
        })?;
    let view = IssuedWebhookView::from(issued);
    let location = format!(
        "/api/v1/tenants/{}/webhooks/{}",
        view.webhook.tenant, view.webhook.id
    );
    let mut response = created(location, &view);
    response.extensions_mut().insert(Secrets(&["secret"]));
    Ok(response)
}

/// List a tenant's webhooks.
///
/// In the order they were added, with their delivery state; never a secret.
#[utoipa::path(
    get,
    operation_id = "list_webhooks",
    path = "/api/v1/tenants/{name}/webhooks",
    tag = "Webhooks",
    params(TenantPath, PageParams),
    responses(
        (status = 200, description = "A page of webhooks", body = Page<WebhookView>),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn list(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<Page<WebhookView>>, Problem> {
    let mut webhooks = api.directory.webhooks(Some(&path.name)).await?;
    webhooks.retain(|s| !s.pull);
    let page = Page::within(webhooks, &page, "webhooks", |s| (s.created, s.id))?;
    Ok(axum::Json(page.map(WebhookView::from)))
}

/// Show a webhook.
///
/// Its delivery state and its latest dropped or parked events, newest first.
#[utoipa::path(
    get,
    operation_id = "show_webhook",
    path = "/api/v1/tenants/{name}/webhooks/{id}",
    tag = "Webhooks",
    params(WebhookPath),
    responses(
        (status = 200, description = "The webhook", body = WebhookDetail),
        (status = 404, description = "No such tenant, or no such webhook of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn show(
    api: Acting,
    Segments(path): Segments<WebhookPath>,
) -> Result<axum::Json<WebhookDetail>, Problem> {
    let webhook = owned(&api, &path).await?;
    let failures = api
        .directory
        .webhook_failures(&webhook.id.to_string(), FAILURES_SHOWN)
        .await?;
    Ok(axum::Json(WebhookDetail {
        webhook: webhook.into(),
        failures: failures.into_iter().map(FailureView::from).collect(),
    }))
}

/// Remove a webhook.
///
/// Nothing more is sent to it; the events it had still to receive go with it.
#[utoipa::path(
    delete,
    operation_id = "remove_webhook",
    path = "/api/v1/tenants/{name}/webhooks/{id}",
    tag = "Webhooks",
    params(WebhookPath),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such tenant, or no such webhook of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn remove(
    api: Acting,
    Segments(path): Segments<WebhookPath>,
) -> Result<StatusCode, Problem> {
    let webhook = owned(&api, &path).await?;
    api.directory
        .remove_webhook(&webhook.id.to_string())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
