//! The console's Alerts page and its forms: the tenant's notification addresses (one per
//! line, replacing the list) and the signed-in team admin's own opt-in address; a refused
//! address is shown on the page with what was typed, and nothing changes.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;

use super::views::Nav;
use super::{CsrfForm, Page, Signed};
use crate::http::AppState;
use crate::http::page::html;
use crate::service::Error;
use crate::service::notify::MAX_ADDRESSES;

#[derive(Template)]
#[template(path = "console/alerts.html")]
struct AlertsPage {
    nav: Nav,
    message: Option<String>,
    alert: Option<String>,
    emails: String,
    mine: String,
    admins: Vec<(String, String)>,
    max: usize,
}

pub async fn alerts(State(app): State<AppState>, s: Signed) -> Page {
    render(&app, &s, Ok(None), None, None).await
}

/// The page: a notice, or a refusal (its status and message) with the text typed kept.
async fn render(
    app: &AppState,
    s: &Signed,
    outcome: Result<Option<String>, Error>,
    emails: Option<String>,
    mine: Option<String>,
) -> Page {
    let tenant = &s.0.tenant.name;
    let admins = app.directory.admin_notify(tenant).await?;
    let (status, message, alert) = match outcome {
        Ok(message) => (StatusCode::OK, message, None),
        Err(Error::Scim(e)) => (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            None,
            Some(e.detail),
        ),
        Err(other) => return Err(other.into()),
    };
    let emails = match emails {
        Some(typed) => typed,
        None => app.directory.notify_addresses(tenant).await?.join("\n"),
    };
    let username = &s.0.admin.username;
    let mine = mine.unwrap_or_else(|| {
        admins
            .iter()
            .find(|(name, _)| name == username)
            .map(|(_, email)| email.clone())
            .unwrap_or_default()
    });
    let page = AlertsPage {
        nav: s.nav("alerts"),
        message,
        alert,
        emails,
        mine,
        admins,
        max: MAX_ADDRESSES,
    };
    Ok(html(status, page.render(), ""))
}

#[derive(serde::Deserialize)]
pub struct AddressesForm {
    #[serde(default)]
    emails: String,
}

pub async fn set_addresses(
    State(app): State<AppState>,
    CsrfForm(s, form): CsrfForm<AddressesForm>,
) -> Page {
    let list: Vec<String> = form
        .emails
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let tenant = s.0.tenant.name.clone();
    match s.directory().set_notify_addresses(&tenant, &list).await {
        Ok(saved) => {
            let message = if saved.is_empty() {
                "Alerts are e-mailed to no notification address.".to_owned()
            } else {
                format!("Alerts are e-mailed to {}.", saved.join(", "))
            };
            render(&app, &s, Ok(Some(message)), None, None).await
        }
        Err(e) => render(&app, &s, Err(e), Some(form.emails), None).await,
    }
}

#[derive(serde::Deserialize)]
pub struct MineForm {
    #[serde(default)]
    email: String,
}

pub async fn set_mine(State(app): State<AppState>, CsrfForm(s, form): CsrfForm<MineForm>) -> Page {
    let email = Some(form.email.trim()).filter(|e| !e.is_empty());
    let (tenant, username) = (s.0.tenant.name.clone(), s.0.admin.username.clone());
    match s
        .directory()
        .set_admin_notify(&tenant, &username, email)
        .await
    {
        Ok(Some(email)) => {
            let message = format!("Your alerts are e-mailed to {email}.");
            render(&app, &s, Ok(Some(message)), None, None).await
        }
        Ok(None) => {
            let message = "You receive no alerts.".to_owned();
            render(&app, &s, Ok(Some(message)), None, None).await
        }
        Err(e) => render(&app, &s, Err(e), None, Some(form.email)).await,
    }
}
