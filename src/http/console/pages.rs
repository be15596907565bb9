//! The console's sign-in and sign-out, its overview, cycles and activity pages. Each handler
//! reads the session (`Signed`, or `CsrfForm` for a form, whose CSRF token it checks), works on
//! the session's tenant only, and renders a template; a failure is a page (`Page`).

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::TimeDelta;
use serde_json::Value;

use super::extract::{Form, Path, Query};
use super::views;
use super::{
    CsrfForm, NoFields, Page, SESSION_COOKIE, Signed, failure, login_csrf_ok, page, see_other,
    set_cookie, sign_in_page,
};
use crate::domain::activity::{Activity, ActivityFilter};
use crate::http::AppState;
use crate::http::client::Client;
use crate::http::extract::BaseUrl;
use crate::http::page::{Cookies, held_page, retry_after};
use crate::scim::schema::ResourceKind;
use crate::service::oauth::SignInError;
use crate::service::{Answer, Context};
use uuid::Uuid;

/// The overview counts the last day's errors up to this many.
const ERRORS_COUNTED: u32 = 1000;
const OPERATIONS: [&str; 6] = ["create", "replace", "patch", "delete", "read", "search"];

/// The current names of the resources `rows` name (at most 100 distinct, each by its id).
pub(super) async fn names(app: &AppState, s: &Signed, rows: &[Activity]) -> HashMap<Uuid, String> {
    let mut names = HashMap::new();
    let ctx = Context::of(&s.0.tenant);
    for a in rows {
        let (Some(kind), Some(id)) = (a.resource_type.as_deref(), a.resource_id) else {
            continue;
        };
        if names.contains_key(&id) || names.len() >= 100 {
            continue;
        }
        let kind = if kind == "Group" {
            ResourceKind::Group
        } else {
            ResourceKind::User
        };
        if let Ok(Answer::Resource(shown)) = app.directory.get(&ctx, kind, &id.to_string()).await {
            let key = if kind == ResourceKind::Group {
                "displayName"
            } else {
                "userName"
            };
            if let Some(name) = shown.resource.doc.get(key).and_then(Value::as_str) {
                names.insert(id, name.to_owned());
            }
        }
    }
    names
}

fn gap(app: &AppState) -> TimeDelta {
    TimeDelta::from_std(app.cycle_gap).unwrap_or(TimeDelta::minutes(10))
}

#[derive(serde::Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

pub async fn sign_in(
    State(app): State<AppState>,
    cookies: Cookies,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let again = |message: &str, status| {
        sign_in_page(cookies, Some(message), &form.tenant, &form.username, status)
    };
    if !login_csrf_ok(cookies, &headers, &form.csrf) {
        return again(
            "the sign-in form expired or came from another page; sign in again",
            StatusCode::FORBIDDEN,
        );
    }
    match app
        .directory
        .console_sign_in(&form.tenant, &form.username, &form.password, client.address)
        .await
    {
        Ok(token) => {
            let mut response = see_other("/admin");
            set_cookie(cookies, &mut response, SESSION_COOKIE, &token, "Lax");
            response
        }
        Err(SignInError::Refused(message)) => again(&message, StatusCode::UNAUTHORIZED),
        Err(SignInError::Held(held)) => {
            let (status, message, wait) = held_page(&held);
            retry_after(again(&message, status), wait)
        }
        Err(SignInError::Service(e)) => failure(e),
    }
}

pub async fn sign_out(
    State(app): State<AppState>,
    cookies: Cookies,
    headers: HeaderMap,
    CsrfForm(_, NoFields {}): CsrfForm<NoFields>,
) -> Page {
    let token = cookies.get(&headers, SESSION_COOKIE).unwrap_or_default();
    app.directory.console_sign_out(&token).await?;
    let mut response = see_other("/admin");
    set_cookie(cookies, &mut response, SESSION_COOKIE, "", "Lax");
    Ok(response)
}

pub async fn overview(
    State(app): State<AppState>,
    base: BaseUrl,
    s: Result<Signed, Response>,
) -> Page {
    let s = match s {
        Ok(s) => s,
        Err(sign_in) => return Ok(sign_in),
    };
    let tenant = &s.0.tenant.name;
    let health = app.directory.check_health(&s.0.tenant).await?;
    let since = app.directory.now() - TimeDelta::days(30);
    let cycles = app.directory.cycles(tenant, since, gap(&app)).await?;
    let day = app.directory.now() - TimeDelta::hours(24);
    let filter = ActivityFilter {
        since: Some(day),
        refused: true,
        limit: ERRORS_COUNTED,
        ..Default::default()
    };
    let mut errors = app.directory.activity(tenant, &filter).await?;
    let count = errors.len();
    let shown: Vec<_> = errors.split_off(errors.len().saturating_sub(20));
    Ok(page(views::Overview {
        nav: s.nav("overview"),
        health: views::HealthBanner::of(&health),
        tenant_url: base.0,
        last: cycles
            .last()
            .map(|c| views::cycle(c, gap(&app), app.directory.now())),
        errors_count: count,
        errors_more: count >= ERRORS_COUNTED as usize,
        rows: views::rows(&shown, &names(&app, &s, &shown).await),
    }))
}

pub async fn cycles(State(app): State<AppState>, s: Signed) -> Page {
    let since = app.directory.now() - TimeDelta::days(30);
    let cycles = app
        .directory
        .cycles(&s.0.tenant.name, since, gap(&app))
        .await?;
    Ok(page(views::Cycles {
        nav: s.nav("cycles"),
        gap: format!("{} minutes", gap(&app).num_minutes()),
        cycles: cycles
            .iter()
            .rev()
            .map(|c| views::cycle(c, gap(&app), app.directory.now()))
            .collect(),
    }))
}

pub async fn cycle(State(app): State<AppState>, s: Signed, Path(start): Path<i64>) -> Page {
    let tenant = &s.0.tenant.name;
    let since = app.directory.now() - TimeDelta::days(30);
    let all = app.directory.cycles(tenant, since, gap(&app)).await?;
    let Some(c) = all.iter().find(|c| c.started.timestamp() == start) else {
        let missing =
            crate::scim::Error::not_found("no cycle starts at that time (it may have been pruned)");
        return Err(crate::service::Error::from(missing).into());
    };
    let within = |refused: bool| ActivityFilter {
        since: Some(c.started),
        until: Some(c.last + TimeDelta::minutes(1)),
        refused,
        status_class: (!refused).then_some(2),
        limit: 500,
        ..Default::default()
    };
    let refused = app.directory.activity(tenant, &within(true)).await?;
    let changes = app.directory.activity(tenant, &within(false)).await?;
    Ok(page(views::CyclePage {
        nav: s.nav("cycles"),
        c: views::cycle(c, gap(&app), app.directory.now()),
        rows: views::rows(&refused, &names(&app, &s, &refused).await),
        changes: views::rows(&changes, &names(&app, &s, &changes).await),
    }))
}

#[derive(serde::Deserialize, Default)]
pub struct ActivityQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    operation: String,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    request_id: String,
}

pub async fn activity(
    State(app): State<AppState>,
    s: Signed,
    Query(q): Query<ActivityQuery>,
) -> Page {
    let mut message = None;
    let resource = match q.resource.trim() {
        "" => None,
        r => match r.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                message = Some(format!("'{r}' is not a resource id (a UUID)"));
                None
            }
        },
    };
    let filter = ActivityFilter {
        status_class: match q.status.as_str() {
            "2xx" => Some(2),
            "4xx" => Some(4),
            "5xx" => Some(5),
            _ => None,
        },
        operation: OPERATIONS
            .iter()
            .find(|o| **o == q.operation)
            .map(|o| (*o).to_owned()),
        resource,
        request_id: Some(q.request_id.trim().to_owned()).filter(|r| !r.is_empty()),
        limit: 200,
        ..Default::default()
    };
    let rows = app.directory.activity(&s.0.tenant.name, &filter).await?;
    Ok(page(views::ActivityPage {
        nav: s.nav("activity"),
        status: q.status.clone(),
        operation: q.operation.clone(),
        operations: OPERATIONS.iter().map(|o| (*o).to_owned()).collect(),
        resource: q.resource.clone(),
        request_id: q.request_id.clone(),
        message,
        rows: views::rows(&rows, &names(&app, &s, &rows).await),
    }))
}
