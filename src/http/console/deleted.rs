//! The console's Deleted users page: what a `DELETE` from Entra does to the tenant's users
//! (delete them, or retain them for a period, and whether a create restores a retained or
//! deactivated user with its id), a form that changes it, and the retained users, each with a
//! button that restores it. A refused form is shown on the page with what was typed, and
//! changes nothing.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use uuid::Uuid;

use super::views::Nav;
use super::{CsrfForm, Page, Signed};
use crate::config::{duration, period};
use crate::domain::OnDelete;
use crate::http::AppState;
use crate::http::page::html;
use crate::scim;
use crate::service::{Error, PolicyChange};

/// Retained users the page lists; the rest are listed by `scimd retained list` and the API.
const SHOWN: u32 = 100;

#[derive(Template)]
#[template(path = "console/deleted.html")]
struct DeletedPage {
    nav: Nav,
    message: Option<String>,
    alert: Option<String>,
    retain: bool,
    retain_for: String,
    restore_on_create: bool,
    users: Vec<RetainedRow>,
    more: bool,
}

/// A retained user as the page lists it.
struct RetainedRow {
    id: String,
    user_name: String,
    external_id: String,
    deleted_at: String,
    purge_after: String,
}

/// What the rule's form sent.
#[derive(serde::Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    on_delete: String,
    #[serde(default)]
    retain_for: String,
    /// A checkbox: present when ticked.
    restore_on_create: Option<String>,
}

pub async fn deleted(State(app): State<AppState>, s: Signed) -> Page {
    render(&app, &s, Ok(None), None).await
}

/// The page: a notice, or a refusal (its status and message) with the form as typed.
async fn render(
    app: &AppState,
    s: &Signed,
    outcome: Result<Option<String>, Error>,
    typed: Option<&RuleForm>,
) -> Page {
    let tenant = app.directory.tenant(&s.0.tenant.name).await?;
    let (status, message, alert) = match outcome {
        Ok(message) => (StatusCode::OK, message, None),
        Err(Error::Scim(e)) => (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            None,
            Some(e.detail),
        ),
        Err(other) => return Err(other.into()),
    };
    let rule = tenant.policy.deprovisioning;
    let (retain, retain_for, restore_on_create) = match typed {
        Some(form) => (
            form.on_delete == "retain",
            form.retain_for.clone(),
            form.restore_on_create.is_some(),
        ),
        None => (
            rule.on_delete == OnDelete::Retain,
            period(rule.retain_for_secs),
            rule.restore_on_create,
        ),
    };
    let mut retained = app
        .directory
        .retained_users(&tenant.name, None, SHOWN + 1)
        .await?;
    let more = retained.len() > SHOWN as usize;
    retained.truncate(SHOWN as usize);
    let when = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let users = retained
        .into_iter()
        .map(|r| RetainedRow {
            id: r.id.to_string(),
            user_name: r.user_name.unwrap_or_default(),
            external_id: r.external_id.unwrap_or_default(),
            deleted_at: when(r.deleted_at),
            purge_after: when(r.purge_after),
        })
        .collect();
    let page = DeletedPage {
        nav: s.nav("deleted"),
        message,
        alert,
        retain,
        retain_for,
        restore_on_create,
        users,
        more,
    };
    Ok(html(status, page.render(), ""))
}

/// The change the form asks for, or why it cannot be made.
fn change(form: &RuleForm) -> Result<PolicyChange, Error> {
    let on_delete = match form.on_delete.as_str() {
        "delete" => OnDelete::Delete,
        "retain" => OnDelete::Retain,
        _ => return Err(invalid("choose whether a deleted user is deleted or retained").into()),
    };
    let mut change = PolicyChange {
        on_delete: Some(on_delete),
        ..PolicyChange::default()
    };
    if on_delete == OnDelete::Retain {
        let period = duration(&form.retain_for).map_err(|why| {
            // the message quotes what was typed: at most 40 characters of it
            let typed = &form.retain_for;
            let cut: String = typed.chars().take(40).collect();
            match cut.len() < typed.len() {
                true => invalid(&why.replace(typed.as_str(), &format!("{cut}…"))),
                false => invalid(&why),
            }
        })?;
        change.retain_for_secs = Some(i64::try_from(period.as_secs()).unwrap_or(i64::MAX));
        change.restore_on_create = Some(form.restore_on_create.is_some());
    }
    Ok(change)
}

/// NUL shown as `\0`.
fn invalid(detail: &str) -> scim::Error {
    scim::Error::invalid_value(detail.replace('\0', "\\0"))
}

pub async fn set_rule(State(app): State<AppState>, CsrfForm(s, form): CsrfForm<RuleForm>) -> Page {
    let tenant = s.0.tenant.name.clone();
    let saved = match change(&form) {
        Ok(change) => s.directory().set_policy(&tenant, &change).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(policy) => {
            let rule = policy.deprovisioning;
            let message = match rule.on_delete {
                OnDelete::Delete => "A user Entra deletes is deleted.".to_owned(),
                OnDelete::Retain => format!(
                    "A user Entra deletes is retained for {}{}.",
                    period(rule.retain_for_secs),
                    if rule.restore_on_create {
                        ", and restored with its id when Entra creates it again"
                    } else {
                        ""
                    }
                ),
            };
            render(&app, &s, Ok(Some(message)), None).await
        }
        Err(e) => render(&app, &s, Err(e), Some(&form)).await,
    }
}

/// An empty form: the CSRF token is all a restore sends.
#[derive(serde::Deserialize)]
pub struct RestoreForm {}

pub async fn restore(
    State(app): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(s, _form): CsrfForm<RestoreForm>,
) -> Page {
    let tenant = s.0.tenant.name.clone();
    let restored = match Uuid::parse_str(&id) {
        Ok(id) => s.directory().restore_retained(&tenant, id).await,
        Err(_) => Err(scim::Error::not_found("no retained user with that id").into()),
    };
    match restored {
        Ok(user) => {
            let name = user
                .doc
                .get("userName")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let message = format!("{name} is restored, with its id {}.", user.id);
            render(&app, &s, Ok(Some(message)), None).await
        }
        Err(e) => render(&app, &s, Err(e), None).await,
    }
}
