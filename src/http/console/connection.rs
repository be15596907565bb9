//! The console's Connection page and its forms: secret tokens (issue, revoke), OAuth clients
//! (add, rotate the secret, remove) — a new secret shown once — and the tenant's rules.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;

use super::views;
use super::{Signed, failure};
use crate::http::AppState;
use crate::service::IssuedClient;

pub async fn connection(State(app): State<AppState>, s: Signed) -> Response {
    show(&app, &s, None).await
}

/// The page, with an optional notice.
async fn show(app: &AppState, s: &Signed, message: Option<String>) -> Response {
    let tenant = &s.0.tenant;
    let (tokens, clients) = match (
        app.directory.tokens(&tenant.name).await,
        app.directory.clients(&tenant.name).await,
    ) {
        (Ok(t), Ok(c)) => (t, c),
        (Err(e), _) | (_, Err(e)) => return failure(e),
    };
    let policy = &tenant.policy;
    let page = views::Connection {
        nav: s.nav("connection"),
        message,
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
