//! The console's Connection page and its forms: secret tokens (issue, revoke), OAuth clients
//! (add, rotate the secret, remove) — a new secret shown once — the application's webhooks
//! with their delivery state (pause, resume, send a test event, retry parked events; never
//! their secret), and the tenant's rules.

use axum::extract::State;
use axum::response::Response;

use super::extract::{Form, Path};
use super::views;
use super::{Signed, failure};
use crate::domain::events::Outcome;
use crate::http::AppState;
use crate::service::IssuedClient;

/// Dropped or parked deliveries shown per webhook.
const FAILURES_SHOWN: u32 = 5;

pub async fn connection(State(app): State<AppState>, s: Signed) -> Response {
    show(&app, &s, None).await
}

/// The page, with an optional notice.
async fn show(app: &AppState, s: &Signed, message: Option<String>) -> Response {
    render(app, s, message, None).await
}

/// The page, with an optional notice and an optional alert.
async fn render(
    app: &AppState,
    s: &Signed,
    message: Option<String>,
    alert: Option<String>,
) -> Response {
    let tenant = &s.0.tenant;
    let (tokens, clients, webhooks) = match (
        app.directory.tokens(&tenant.name).await,
        app.directory.clients(&tenant.name).await,
        app.directory.tenant_webhooks(&s.0, FAILURES_SHOWN).await,
    ) {
        (Ok(t), Ok(c), Ok(w)) => (t, c, w),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return failure(e),
    };
    let policy = &tenant.policy;
    let now = chrono::Utc::now();
    let page = views::Connection {
        nav: s.nav("connection"),
        message,
        alert,
        tokens: tokens
            .iter()
            .map(|t| views::TokenView {
                id: t.id.to_string(),
                label: t.label.clone().unwrap_or_default(),
                created: t.created.format("%Y-%m-%d %H:%M").to_string(),
                state: t.revoked.map_or("active".into(), |r| {
                    format!("revoked {}", r.format("%Y-%m-%d %H:%M"))
                }),
                active: t.revoked.is_none(),
            })
            .collect(),
        clients: clients
            .iter()
            .map(|c| views::ClientView {
                client_id: c.client_id.clone(),
                redirect_uris: c.redirect_uris.join(" "),
            })
            .collect(),
        webhooks: webhooks.iter().map(|w| views::webhook(w, now)).collect(),
        matching: policy.matching.as_str().to_owned(),
        roles: match (&policy.allowed_roles, policy.require_role) {
            (None, false) => "any role, none required".into(),
            (None, true) => "any role, one required".into(),
            (Some(r), required) => format!(
                "{}{}",
                r.join(", "),
                if required { " (one required)" } else { "" }
            ),
        },
        entra: policy.entra_tenant.map_or("not accepted".into(), |t| {
            format!("accepted from Entra tenant {t}")
        }),
    };
    super::super::page::html(
        axum::http::StatusCode::OK,
        askama::Template::render(&page),
        "",
    )
}

#[derive(serde::Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    label: String,
}

pub async fn issue_token(
    State(app): State<AppState>,
    s: Signed,
    Form(form): Form<TokenForm>,
) -> Response {
    if let Some(refused) = s.refusal(&form.csrf) {
        return refused;
    }
    match app.directory.issue_tenant_token(&s.0, &form.label).await {
        Ok(issued) => secret(
            &s,
            "New secret token",
            vec![
                ("Secret Token", issued.token),
                ("Label", issued.info.label.unwrap_or_default()),
            ],
        ),
        Err(e) => failure(e),
    }
}

#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub async fn revoke_token(
    State(app): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = s.refusal(&form.csrf) {
        return refused;
    }
    let Ok(id) = id.parse() else {
        return failure(crate::scim::Error::not_found(format!("no token with id {id}")).into());
    };
    match app.directory.revoke_tenant_token(&s.0, id).await {
        Ok(t) => {
            let label = t.label.unwrap_or_else(|| t.id.to_string());
            show(
                &app,
                &s,
                Some(format!(
                    "Token '{label}' is revoked: requests with it get 401 from now on."
                )),
            )
            .await
        }
        Err(e) => failure(e),
    }
}

#[derive(serde::Deserialize)]
pub struct ClientForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    redirect_uri: String,
}

pub async fn add_client(
    State(app): State<AppState>,
    s: Signed,
    Form(form): Form<ClientForm>,
) -> Response {
    if let Some(refused) = s.refusal(&form.csrf) {
        return refused;
    }
    match app
        .directory
        .add_tenant_client(&s.0, &form.redirect_uri)
        .await
    {
        Ok(issued) => client_secret(&s, "New OAuth client", issued),
        Err(e) => failure(e),
    }
}

pub async fn rotate_client(
    State(app): State<AppState>,
    s: Signed,
    Path(client_id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = s.refusal(&form.csrf) {
        return refused;
    }
    match app.directory.rotate_tenant_client(&s.0, &client_id).await {
        Ok(issued) => client_secret(&s, "New client secret", issued),
        Err(e) => failure(e),
    }
}

pub async fn remove_client(
    State(app): State<AppState>,
    s: Signed,
    Path(client_id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = s.refusal(&form.csrf) {
        return refused;
    }
    match app.directory.remove_tenant_client(&s.0, &client_id).await {
        Ok(()) => {
            show(
                &app,
                &s,
                Some(format!(
                    "OAuth client {client_id} and its tokens are removed."
                )),
            )
            .await
        }
        Err(e) => failure(e),
    }
}

pub async fn pause_webhook(
    State(app): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    set_paused(&app, &s, &id, &form.csrf, true).await
}

pub async fn resume_webhook(
    State(app): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    set_paused(&app, &s, &id, &form.csrf, false).await
}

async fn set_paused(app: &AppState, s: &Signed, id: &str, csrf: &str, paused: bool) -> Response {
    if let Some(refused) = s.refusal(csrf) {
        return refused;
    }
    match app.directory.pause_tenant_webhook(&s.0, id, paused).await {
        Ok(w) if paused => {
            let message = format!(
                "Events to {} are paused: they wait until the webhook is resumed.",
                w.url
            );
            show(app, s, Some(message)).await
        }
        Ok(w) => {
            let message = format!(
                "Events to {} are resumed: {} waiting to be delivered.",
                w.url, w.backlog
            );
            show(app, s, Some(message)).await
        }
        Err(e) => failure(e),
    }
}

pub async fn test_webhook(
    State(app): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = s.refusal(&form.csrf) {
        return refused;
    }
    let (w, answer) = match app.directory.test_tenant_webhook(&s.0, &id).await {
        Ok(tested) => tested,
        Err(e) => return failure(e),
    };
    let status = answer
        .status
        .map_or_else(|| "no answer".to_owned(), |s| format!("HTTP {s}"));
    let verdict = match &answer.outcome {
        Outcome::Delivered => "delivered".to_owned(),
        Outcome::Dropped { error, .. } => format!("refused (would be dropped): {error}"),
        Outcome::Retry { error, .. } => format!("failed (would be retried): {error}"),
    };
    let body = answer.body.trim();
    let said = if body.is_empty() || verdict.contains(body) {
        String::new()
    } else {
        format!(" The receiver answered: {body}")
    };
    let text = format!("Test event to {}: {status}, {verdict}.{said}", w.url);
    if answer.outcome == Outcome::Delivered {
        render(&app, &s, Some(text), None).await
    } else {
        render(&app, &s, None, Some(text)).await
    }
}

pub async fn retry_webhook(
    State(app): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = s.refusal(&form.csrf) {
        return refused;
    }
    match app.directory.retry_tenant_parked(&s.0, &id).await {
        Ok((w, n)) => {
            let message = format!("{n} parked event(s) to {} queued again.", w.url);
            show(&app, &s, Some(message)).await
        }
        Err(e) => failure(e),
    }
}

fn client_secret(s: &Signed, title: &'static str, issued: IssuedClient) -> Response {
    secret(
        s,
        title,
        vec![
            ("Client id", issued.client.client_id),
            ("Client secret", issued.secret),
        ],
    )
}

/// A secret, shown this once.
fn secret(s: &Signed, title: &'static str, fields: Vec<(&'static str, String)>) -> Response {
    let page = views::Secret {
        nav: s.nav("connection"),
        title,
        fields,
    };
    super::super::page::html(
        axum::http::StatusCode::OK,
        askama::Template::render(&page),
        "",
    )
}
