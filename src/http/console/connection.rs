//! The console's Connection page and its forms: secret tokens (issue, revoke), OAuth clients
//! (add, rotate the secret, remove) — a new secret shown once — setup links for the customer's
//! identity admin (make one, its URL shown once; revoke), the application's webhooks
//! with their delivery state (pause, resume, send a test event, retry parked events; never
//! their secret), and the tenant's rules.

use axum::extract::State;
use axum::response::Response;

use super::extract::Path;
use super::views;
use super::{CsrfForm, NoFields, Page, Signed, page};
use crate::domain::events::Outcome;
use crate::domain::setup::SetupLink;
use crate::http::AppState;
use crate::http::extract::BaseUrl;
use crate::service::IssuedClient;
use crate::service::setup::{SETUP_LINKS_PAGE, expires_text};

/// Dropped or parked deliveries shown per webhook.
const FAILURES_SHOWN: u32 = 5;

pub async fn connection(State(app): State<AppState>, s: Signed) -> Page {
    render(&app, &s, None, None).await
}

/// The page, with an optional notice and an optional alert.
async fn render(
    app: &AppState,
    s: &Signed,
    message: Option<String>,
    alert: Option<String>,
) -> Page {
    let tenant = &s.0.tenant;
    let tokens = app.directory.tokens(&tenant.name).await?;
    let clients = app.directory.clients(&tenant.name).await?;
    let links = app
        .directory
        .setup_links(&tenant.name, None, SETUP_LINKS_PAGE)
        .await?;
    let webhooks = app.directory.tenant_webhooks(&s.0, FAILURES_SHOWN).await?;
    let policy = &tenant.policy;
    let now = app.directory.now();
    Ok(page(views::Connection {
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
        setup_links: links.iter().map(|l| setup_link(l, now)).collect(),
        webhooks: webhooks.iter().map(|w| views::webhook(w, now)).collect(),
        matching: policy.matching.names(),
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
    }))
}

/// A setup link as the page lists it.
fn setup_link(l: &SetupLink, now: chrono::DateTime<chrono::Utc>) -> views::SetupLinkView {
    let state = l.state(now);
    views::SetupLinkView {
        id: l.id.to_string(),
        created: l.created.format("%Y-%m-%d %H:%M").to_string(),
        created_by: l.created_by.clone(),
        expires: l.expires.format("%Y-%m-%d %H:%M").to_string(),
        last_used: l
            .last_used
            .map_or("never".into(), |u| u.format("%Y-%m-%d %H:%M").to_string()),
        state,
        active: state == "active",
    }
}

/// The page with a notice.
async fn notice(app: &AppState, s: &Signed, message: String) -> Page {
    render(app, s, Some(message), None).await
}

#[derive(serde::Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    label: String,
}

pub async fn issue_token(CsrfForm(s, form): CsrfForm<TokenForm>) -> Page {
    let issued = s.directory().issue_tenant_token(&s.0, &form.label).await?;
    Ok(secret(
        &s,
        "New secret token",
        vec![
            ("Secret Token", issued.token),
            ("Label", issued.info.label.unwrap_or_default()),
        ],
    ))
}

pub async fn revoke_token(
    State(app): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(s, NoFields {}): CsrfForm<NoFields>,
) -> Page {
    let Ok(id) = id.parse() else {
        let missing = crate::scim::Error::not_found(format!("no token with id {id}"));
        return Err(crate::service::Error::from(missing).into());
    };
    let t = s.directory().revoke_tenant_token(&s.0, id).await?;
    let label = t.label.unwrap_or_else(|| t.id.to_string());
    let message = format!("Token '{label}' is revoked: requests with it get 401 from now on.");
    notice(&app, &s, message).await
}

#[derive(serde::Deserialize)]
pub struct SetupLinkForm {
    /// How long the link works: the page offers `1d`, `7d` and `30d`.
    #[serde(default)]
    expires: String,
}

pub async fn create_setup_link(
    BaseUrl(scim_url): BaseUrl,
    CsrfForm(s, form): CsrfForm<SetupLinkForm>,
) -> Page {
    let root = scim_url
        .strip_suffix(crate::http::SCIM_BASE)
        .unwrap_or(&scim_url);
    let validity = Some(form.expires.trim()).filter(|v| !v.is_empty());
    let issued = s
        .directory()
        .create_setup_link(&s.0.tenant.name, validity, root)
        .await?;
    Ok(secret(
        &s,
        "New setup link",
        vec![
            ("Setup link", issued.url),
            ("Valid until", expires_text(issued.link.expires)),
        ],
    ))
}

pub async fn revoke_setup_link(
    State(app): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(s, NoFields {}): CsrfForm<NoFields>,
) -> Page {
    let Ok(id) = id.parse() else {
        let missing = crate::scim::Error::not_found(format!("no setup link with id {id}"));
        return Err(crate::service::Error::from(missing).into());
    };
    let tenant = &s.0.tenant.name;
    let link = s.directory().revoke_setup_link(tenant, id).await?;
    let message = format!(
        "Setup link {} is revoked: its page now says the link no longer works.",
        link.id
    );
    notice(&app, &s, message).await
}

#[derive(serde::Deserialize)]
pub struct ClientForm {
    #[serde(default)]
    redirect_uri: String,
}

pub async fn add_client(CsrfForm(s, form): CsrfForm<ClientForm>) -> Page {
    let issued = s
        .directory()
        .add_tenant_client(&s.0, &form.redirect_uri)
        .await?;
    Ok(client_secret(&s, "New OAuth client", issued))
}

pub async fn rotate_client(
    Path(client_id): Path<String>,
    CsrfForm(s, NoFields {}): CsrfForm<NoFields>,
) -> Page {
    let issued = s.directory().rotate_tenant_client(&s.0, &client_id).await?;
    Ok(client_secret(&s, "New client secret", issued))
}

pub async fn remove_client(
    State(app): State<AppState>,
    Path(client_id): Path<String>,
    CsrfForm(s, NoFields {}): CsrfForm<NoFields>,
) -> Page {
    s.directory().remove_tenant_client(&s.0, &client_id).await?;
    let message = format!("OAuth client {client_id} and its tokens are removed.");
    notice(&app, &s, message).await
}

pub async fn pause_webhook(
    State(app): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(s, NoFields {}): CsrfForm<NoFields>,
) -> Page {
    let w = s.directory().pause_tenant_webhook(&s.0, &id, true).await?;
    let message = format!(
        "Events to {} are paused: they wait until the webhook is resumed.",
        w.url
    );
    notice(&app, &s, message).await
}

pub async fn resume_webhook(
    State(app): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(s, NoFields {}): CsrfForm<NoFields>,
) -> Page {
    let w = s.directory().pause_tenant_webhook(&s.0, &id, false).await?;
    let message = format!(
        "Events to {} are resumed: {} waiting to be delivered.",
        w.url, w.backlog
    );
    notice(&app, &s, message).await
}

pub async fn test_webhook(
    State(app): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(s, NoFields {}): CsrfForm<NoFields>,
) -> Page {
    let (w, answer) = s.directory().test_tenant_webhook(&s.0, &id).await?;
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
    Path(id): Path<String>,
    CsrfForm(s, NoFields {}): CsrfForm<NoFields>,
) -> Page {
    let (w, n) = s.directory().retry_tenant_parked(&s.0, &id).await?;
    let message = format!("{n} parked event(s) to {} queued again.", w.url);
    notice(&app, &s, message).await
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
    page(views::Secret {
        nav: s.nav("connection"),
        title,
        fields,
    })
}
