//! Events the application pulls: a tenant's pull consumers at
//! `/api/v1/tenants/{name}/consumers` (add one, its signing secret in that answer only; list;
//! show; remove) and the feed `GET /api/v1/events?consumer=&after=&limit=`, which returns the
//! SETs a webhook would carry, in commit order, with a cursor to read on from. Reading after
//! a cursor acknowledges the events up to it.

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{Acting, MaybeBody, Params, Segments};
use super::idempotency::Secrets;
use super::paging::{Page, PageParams, cursor};
use super::problem::{Kind, Problem};
use super::tenants::{TenantPath, created};
use super::webhooks::{EventKinds, kinds_schema, subscription_of};
use crate::domain::events::Subscription;
use crate::service::events::{Mark, Pulled};

/// The list name in the feed's cursors.
const FEED: &str = "events";
/// Events per read unless `limit` says, and at most.
const DEFAULT_EVENTS: u32 = 100;
const MAX_EVENTS: u32 = 1000;

/// A pull consumer, never its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "5b1e7c2a-9d3f-4e6a-8b0c-1d2e3f4a5b6c",
    "tenant": "contoso",
    "events": ["create", "patch", "put", "delete", "activate", "deactivate"],
    "full": false,
    "created": "2026-12-04T10:00:00Z",
    "delivered": 42,
    "backlog": 3,
    "failed": 0,
    "last_read": "2026-12-04T10:05:00Z",
    "last_error": null
}))]
pub struct ConsumerView {
    pub id: Uuid,
    pub tenant: String,
    /// The kinds of events it reads.
    pub events: Vec<&'static str>,
    /// `full` events, with the resource as SCIM shows it.
    pub full: bool,
    pub created: DateTime<Utc>,
    /// Events acknowledged (read past).
    pub delivered: u64,
    /// Events not read yet.
    pub backlog: u64,
    /// Events unread longer than `SCIMD_EVENTS_RETRY_FOR` (parked; still readable until
    /// pruned).
    pub failed: u64,
    /// When it last acknowledged events.
    pub last_read: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl From<Subscription> for ConsumerView {
    fn from(s: Subscription) -> Self {
        ConsumerView {
            id: s.id,
            tenant: s.tenant_name,
            events: s.kinds.names(),
            full: s.full,
            created: s.created,
            delivered: s.delivered,
            backlog: s.backlog,
            failed: s.failed,
            last_read: s.last_success,
            last_error: s.last_error,
        }
    }
}

/// A consumer just added: `secret` verifies its SETs (HS256), in this answer only.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "5b1e7c2a-9d3f-4e6a-8b0c-1d2e3f4a5b6c",
    "secret": "whsec_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0",
    "tenant": "contoso", "events": ["create", "delete"], "full": false,
    "created": "2026-12-04T10:00:00Z", "delivered": 0, "backlog": 0, "failed": 0,
    "last_read": null, "last_error": null
}))]
pub struct IssuedConsumerView {
    pub secret: String,
    #[serde(flatten)]
    pub consumer: ConsumerView,
}

/// What a new consumer reads.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"events": "all", "full": false}))]
pub struct NewConsumer {
    #[serde(default)]
    #[schema(schema_with = kinds_schema)]
    pub events: EventKinds,
    #[serde(default)]
    pub full: bool,
}

/// The `{name}` and `{id}` of a consumer's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ConsumerPath {
    /// The tenant's name.
    #[param(example = "contoso")]
    pub name: String,
    /// The consumer's id.
    pub id: Uuid,
}

/// `?consumer=&after=&limit=` of the feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// The pull consumer reading.
    pub consumer: Uuid,
    /// Optional: the consumer's tenant; another is refused with 404.
    #[param(example = "contoso")]
    pub tenant: Option<String>,
    /// The `next_cursor` of the previous read; without it, from the oldest event kept.
    #[param(max_length = 2048)]
    pub after: Option<String>,
    /// How many events at most (1 to 1000, 100 by default).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// One event of the feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedEvent {
    /// Read on from here to get the events after this one.
    pub cursor: String,
    /// The SET as a webhook of this consumer would receive it: a JWS signed with its secret
    /// (HS256, `kid` the consumer's id).
    pub set: String,
    /// The SET's claims (RFC 9967), unsigned.
    #[schema(value_type = Object)]
    pub claims: Value,
}

/// A read of the feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Feed {
    pub items: Vec<FeedEvent>,
    /// Where the next read starts (pass it as `after`): after the last event here, or where
    /// this read started when there was none. Never `null`.
    pub next_cursor: String,
}

/// Add a pull consumer.
///
/// The tenant's events from now on wait for it at `GET /api/v1/events?consumer={id}`; the
/// secret verifies their signatures, and is in this answer only.
#[utoipa::path(
    post,
    operation_id = "add_consumer",
    path = "/api/v1/tenants/{name}/consumers",
    tag = "Events",
    params(TenantPath),
    request_body(content = Option<NewConsumer>, description = "Optional: the kinds, full"),
    responses(
        (status = 201, description = "Added; the secret is shown once", body = IssuedConsumerView,
            headers(("Location" = String, description = "The consumer's URL"))),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn add(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    MaybeBody(new): MaybeBody<NewConsumer>,
) -> Result<Response, Problem> {
    let new = new.unwrap_or_default();
    let kinds = new.events.kinds()?;
    let issued = api
        .directory
        .add_consumer(&path.name, kinds, new.full)
        .await?;
    let view = IssuedConsumerView {
        secret: issued.secret,
        consumer: issued.subscription.into(),
    };
    let location = format!(
        "/api/v1/tenants/{}/consumers/{}",
        view.consumer.tenant, view.consumer.id
    );
    let mut response = created(location, &view);
    response.extensions_mut().insert(Secrets(&["secret"]));
    Ok(response)
}

/// List a tenant's pull consumers.
#[utoipa::path(
    get,
    operation_id = "list_consumers",
    path = "/api/v1/tenants/{name}/consumers",
    tag = "Events",
    params(TenantPath, PageParams),
    responses(
        (status = 200, description = "A page of consumers", body = Page<ConsumerView>),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn list(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<Page<ConsumerView>>, Problem> {
    let mut consumers = api.directory.webhooks(Some(&path.name)).await?;
    consumers.retain(|s| s.pull);
    let page = Page::within(consumers, &page, "consumers", |s| (s.created, s.id))?;
    Ok(axum::Json(page.map(ConsumerView::from)))
}

/// Show a pull consumer.
#[utoipa::path(
    get,
    operation_id = "show_consumer",
    path = "/api/v1/tenants/{name}/consumers/{id}",
    tag = "Events",
    params(ConsumerPath),
    responses(
        (status = 200, description = "The consumer", body = ConsumerView),
        (status = 404, description = "No such tenant, or no such consumer of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn show(
    api: Acting,
    Segments(path): Segments<ConsumerPath>,
) -> Result<axum::Json<ConsumerView>, Problem> {
    let consumer = subscription_of(&api, &path.name, path.id, true).await?;
    Ok(axum::Json(consumer.into()))
}

/// Remove a pull consumer.
///
/// Its unread events are no longer kept for it.
#[utoipa::path(
    delete,
    operation_id = "remove_consumer",
    path = "/api/v1/tenants/{name}/consumers/{id}",
    tag = "Events",
    params(ConsumerPath),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such tenant, or no such consumer of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn remove(
    api: Acting,
    Segments(path): Segments<ConsumerPath>,
) -> Result<StatusCode, Problem> {
    let consumer = subscription_of(&api, &path.name, path.id, true).await?;
    api.directory
        .remove_webhook(&consumer.id.to_string())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Read a consumer's events.
///
/// The tenant's events after `after`, in the order they committed, as signed SETs; without
/// `after`, from the oldest kept. Reading after a cursor acknowledges every event up to it
/// (they leave the consumer's backlog); a cursor can be read from again, to replay, for
/// `SCIMD_EVENTS_RETENTION` (less an hour) after its event. An older one is refused with 410.
#[utoipa::path(
    get,
    operation_id = "read_events",
    path = "/api/v1/events",
    tag = "Events",
    params(FeedParams),
    responses(
        (status = 200, description = "The events after the cursor", body = Feed),
        (status = 404, description = "No such consumer (of that tenant)", body = Problem,
            content_type = "application/problem+json"),
        (status = 410, description = "The cursor is older than the events kept", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn feed(
    api: Acting,
    Params(params): Params<FeedParams>,
) -> Result<axum::Json<Feed>, Problem> {
    let limit = match params.limit {
        None => DEFAULT_EVENTS,
        Some(n @ 1..=MAX_EVENTS) => n,
        Some(n) => {
            return Err(Problem::invalid(
                "limit",
                format!("limit: {n} is not between 1 and {MAX_EVENTS}"),
            ));
        }
    };
    let after = match &params.after {
        None => None,
        Some(text) => {
            let read = PageParams {
                cursor: Some(text.clone()),
                limit: None,
            };
            let (position, at): (i64, i64) = read
                .after(FEED)
                .map_err(|p| p.at("after"))?
                .ok_or_else(|| Problem::invalid("after", "after: not a cursor"))?;
            let at = DateTime::from_timestamp_millis(at)
                .ok_or_else(|| Problem::invalid("after", "after: not a cursor of this feed"))?;
            Some(Mark { position, at })
        }
    };
    let id = params.consumer.to_string();
    if let Some(tenant) = &params.tenant {
        subscription_of(&api, tenant, params.consumer, true).await?;
    }
    match api.directory.pull_events(&id, after, limit).await? {
        Pulled::Expired { kept_since } => Err(Problem::new(
            Kind::Gone,
            format!(
                "the cursor ends at an event older than the events kept for this consumer \
                 (since {}): events after it may have been pruned. Read from the consumer's \
                 own last cursor, or from the oldest kept (no `after`)",
                kept_since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        )
        .at("after")),
        Pulled::Events { events, next } => Ok(axum::Json(Feed {
            items: events
                .into_iter()
                .map(|e| FeedEvent {
                    cursor: mark_cursor(e.mark),
                    set: e.set,
                    claims: e.claims,
                })
                .collect(),
            next_cursor: mark_cursor(next),
        })),
    }
}

fn mark_cursor(mark: Mark) -> String {
    cursor(FEED, &(mark.position, mark.at.timestamp_millis()))
}
