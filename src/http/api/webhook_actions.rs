//! What `/api/v1/tenants/{name}/webhooks/{id}/…` does to one webhook: pause and resume its
//! deliveries, queue its parked events again, send it a test event, rotate its secret — each
//! the use case `scimd webhook …` calls, on the tenant's own webhook only.

use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::{Acting, Segments};
use super::idempotency::Secrets;
use super::problem::Problem;
use super::webhooks::{IssuedWebhookView, WebhookPath, WebhookView, owned};
use crate::domain::events::Outcome;

/// How many parked events were queued again.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"requeued": 3}))]
pub struct Requeued {
    pub requeued: u64,
}

/// The receiver's answer to a test event.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "outcome": "delivered",
    "status": 202,
    "error": null,
    "body": ""
}))]
pub struct TestAnswer {
    /// What a real event would have become: `delivered` (2xx), `dropped` (refused with an
    /// RFC 8935 error, not retried) or `retried` (any other answer, or none).
    pub outcome: &'static str,
    /// The receiver's HTTP status; `null` when it did not answer.
    pub status: Option<u16>,
    /// Why it was not delivered; `null` when it was.
    pub error: Option<String>,
    /// The start of the receiver's body (at most 4 KiB are read).
    pub body: String,
}

/// Pause a webhook.
///
/// Nothing is sent to it while it is paused; its events queue, and those that wait longer than
/// `SCIMD_EVENTS_RETRY_FOR` are parked. Pausing a paused webhook changes nothing.
#[utoipa::path(
    post,
    operation_id = "pause_webhook",
    path = "/api/v1/tenants/{name}/webhooks/{id}/pause",
    tag = "Webhooks",
    params(WebhookPath),
    responses(
        (status = 200, description = "Paused", body = WebhookView),
        (status = 404, description = "No such tenant, or no such webhook of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn pause(
    api: Acting,
    Segments(path): Segments<WebhookPath>,
) -> Result<axum::Json<WebhookView>, Problem> {
    paused(api, path, true).await
}

/// Resume a webhook.
///
/// Its queued events are sent again, oldest first. Resuming a webhook that is not paused
/// changes nothing.
#[utoipa::path(
    post,
    operation_id = "resume_webhook",
    path = "/api/v1/tenants/{name}/webhooks/{id}/resume",
    tag = "Webhooks",
    params(WebhookPath),
    responses(
        (status = 200, description = "Resumed", body = WebhookView),
        (status = 404, description = "No such tenant, or no such webhook of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn resume(
    api: Acting,
    Segments(path): Segments<WebhookPath>,
) -> Result<axum::Json<WebhookView>, Problem> {
    paused(api, path, false).await
}

async fn paused(
    api: Acting,
    path: WebhookPath,
    paused: bool,
) -> Result<axum::Json<WebhookView>, Problem> {
    let webhook = owned(&api, &path).await?;
    if webhook.paused == paused {
        return Ok(axum::Json(webhook.into()));
    }
    let webhook = api
        .directory
        .pause_webhook(&webhook.id.to_string(), paused)
        .await?;
    Ok(axum::Json(webhook.into()))
}

/// Queue a webhook's parked events again.
///
/// Events parked because the receiver failed for longer than `SCIMD_EVENTS_RETRY_FOR` (or the
/// webhook was paused that long) are sent again, in their order; dropped ones (refused by the
/// receiver) are not. The answer counts them.
#[utoipa::path(
    post,
    operation_id = "retry_webhook",
    path = "/api/v1/tenants/{name}/webhooks/{id}/retry",
    tag = "Webhooks",
    params(WebhookPath),
    responses(
        (status = 200, description = "Queued again", body = Requeued),
        (status = 404, description = "No such tenant, or no such webhook of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn retry(
    api: Acting,
    Segments(path): Segments<WebhookPath>,
) -> Result<axum::Json<Requeued>, Problem> {
    let webhook = owned(&api, &path).await?;
    let requeued = api.directory.retry_parked(&webhook.id.to_string()).await?;
    Ok(axum::Json(Requeued { requeued }))
}

/// Send a test event.
///
/// A SET of no resource (its `events` claim is scimd's test event), signed with the webhook's
/// secret, is POSTed to its URL now, whether it is paused or not; the answer says what the
/// receiver answered and what a real event would have become. Nothing is recorded.
#[utoipa::path(
    post,
    operation_id = "test_webhook",
    path = "/api/v1/tenants/{name}/webhooks/{id}/test",
    tag = "Webhooks",
    params(WebhookPath),
    responses(
        (status = 200, description = "The receiver's answer, whatever it was", body = TestAnswer),
        (status = 404, description = "No such tenant, or no such webhook of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn test(
    api: Acting,
    Segments(path): Segments<WebhookPath>,
) -> Result<axum::Json<TestAnswer>, Problem> {
    let webhook = owned(&api, &path).await?;
    let answer = api.directory.test_webhook(&webhook.id.to_string()).await?;
    let (outcome, error) = match answer.outcome {
        Outcome::Delivered => ("delivered", None),
        Outcome::Dropped { error, .. } => ("dropped", Some(error)),
        Outcome::Retry { error, .. } => ("retried", Some(error)),
    };
    Ok(axum::Json(TestAnswer {
        outcome,
        status: answer.status,
        error,
        body: answer.body,
    }))
}

/// Rotate a webhook's secret.
///
/// A new signing secret, in this answer only; the old one stops signing at once. A retry with
/// the same `Idempotency-Key` is answered 409 `secret-not-repeated`, never the secret again.
#[utoipa::path(
    post,
    operation_id = "rotate_webhook_secret",
    path = "/api/v1/tenants/{name}/webhooks/{id}/rotate-secret",
    tag = "Webhooks",
    params(WebhookPath),
    responses(
        (status = 200, description = "Rotated; the new secret is shown once",
            body = IssuedWebhookView),
        (status = 404, description = "No such tenant, or no such webhook of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn rotate_secret(
    api: Acting,
    Segments(path): Segments<WebhookPath>,
) -> Result<Response, Problem> {
    let webhook = owned(&api, &path).await?;
    let issued = api
        .directory
        .rotate_webhook_secret(&webhook.id.to_string())
        .await?;
    let mut response = axum::Json(IssuedWebhookView::from(issued)).into_response();
    response.extensions_mut().insert(Secrets(&["secret"]));
    Ok(response)
}
