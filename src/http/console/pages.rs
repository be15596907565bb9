//! The console's pages and forms. Each handler reads the session (`Signed`), works on the
//! session's tenant only, and renders a template; a form is refused unless its CSRF token is
//! the session's.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{TimeDelta, Utc};
use serde_json::Value;

use super::extract::{Form, Path, Query};
use super::views;
use super::{
    SESSION_COOKIE, Signed, failure, login_csrf_ok, page, see_other, set_cookie, sign_in_page,
};
use crate::domain::activity::{Activity, ActivityFilter};
use crate::http::AppState;
use crate::http::client::Client;
use crate::http::extract::BaseUrl;
use crate::http::page::{Cookies, held_page, retry_after};
use crate::scim::query::SearchParams;
use crate::scim::schema::ResourceKind;
use crate::service::oauth::SignInError;
use crate::service::{Answer, Context};
use uuid::Uuid;

const PAGE: u64 = 50;
/// The overview counts the last day's errors up to this many.
const ERRORS_COUNTED: u32 = 1000;
const OPERATIONS: [&str; 6] = ["create", "replace", "patch", "delete", "read", "search"];

/// The current names of the resources `rows` name (at most 100 distinct, each by its id).
async fn names(app: &AppState, s: &Signed, rows: &[Activity]) -> HashMap<Uuid, String> {
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

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn sign_out(
    State(app): State<AppState>,
    s: Signed,
    cookies: Cookies,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = s.refusal(&form.csrf) {
        return refused;
    }
    let token = cookies.get(&headers, SESSION_COOKIE).unwrap_or_default();
    if let Err(e) = app.directory.console_sign_out(&token).await {
        return failure(e);
    }
    let mut response = see_other("/admin");
    set_cookie(cookies, &mut response, SESSION_COOKIE, "", "Lax");
    response
}

pub async fn overview(
    State(app): State<AppState>,
    base: BaseUrl,
    s: Result<Signed, Response>,
) -> Response {
    let s = match s {
        Ok(s) => s,
        Err(sign_in) => return sign_in,
    };
    let tenant = &s.0.tenant.name;
    let since = Utc::now() - TimeDelta::days(30);
    let cycles = match app.directory.cycles(tenant, since, gap(&app)).await {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    let day = Utc::now() - TimeDelta::hours(24);
    let filter = ActivityFilter {
        since: Some(day),
        refused: true,
        limit: ERRORS_COUNTED,
        ..Default::default()
    };
    let mut errors = match app.directory.activity(tenant, &filter).await {
        Ok(rows) => rows,
        Err(e) => return failure(e),
    };
    let count = errors.len();
    let shown: Vec<_> = errors.split_off(errors.len().saturating_sub(20));
    page(views::Overview {
        nav: s.nav("overview"),
        tenant_url: base.0,
        last: cycles
            .last()
            .map(|c| views::cycle(c, gap(&app), Utc::now())),
        errors_count: count,
        errors_more: count >= ERRORS_COUNTED as usize,
        rows: views::rows(&shown, &names(&app, &s, &shown).await),
    })
}

pub async fn cycles(State(app): State<AppState>, s: Signed) -> Response {
    let since = Utc::now() - TimeDelta::days(30);
    match app
        .directory
        .cycles(&s.0.tenant.name, since, gap(&app))
        .await
    {
        Ok(cycles) => page(views::Cycles {
            nav: s.nav("cycles"),
            gap: format!("{} minutes", gap(&app).num_minutes()),
            cycles: cycles
                .iter()
                .rev()
                .map(|c| views::cycle(c, gap(&app), Utc::now()))
                .collect(),
        }),
        Err(e) => failure(e),
    }
}

pub async fn cycle(State(app): State<AppState>, s: Signed, Path(start): Path<i64>) -> Response {
    let tenant = &s.0.tenant.name;
    let since = Utc::now() - TimeDelta::days(30);
    let all = match app.directory.cycles(tenant, since, gap(&app)).await {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    let Some(c) = all.iter().find(|c| c.started.timestamp() == start) else {
        let missing =
            crate::scim::Error::not_found("no cycle starts at that time (it may have been pruned)");
        return failure(missing.into());
    };
    let within = |refused: bool| ActivityFilter {
        since: Some(c.started),
        until: Some(c.last + TimeDelta::minutes(1)),
        refused,
        status_class: (!refused).then_some(2),
        limit: 500,
        ..Default::default()
    };
    let (refused, changes) = match (
        app.directory.activity(tenant, &within(true)).await,
        app.directory.activity(tenant, &within(false)).await,
    ) {
        (Ok(r), Ok(c)) => (r, c),
        (Err(e), _) | (_, Err(e)) => return failure(e),
    };
    page(views::CyclePage {
        nav: s.nav("cycles"),
        c: views::cycle(c, gap(&app), Utc::now()),
        rows: views::rows(&refused, &names(&app, &s, &refused).await),
        changes: views::rows(&changes, &names(&app, &s, &changes).await),
    })
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
) -> Response {
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
    match app.directory.activity(&s.0.tenant.name, &filter).await {
        Ok(rows) => page(views::ActivityPage {
            nav: s.nav("activity"),
            status: q.status.clone(),
            operation: q.operation.clone(),
            operations: OPERATIONS.iter().map(|o| (*o).to_owned()).collect(),
            resource: q.resource.clone(),
            request_id: q.request_id.clone(),
            message,
            rows: views::rows(&rows, &names(&app, &s, &rows).await),
        }),
        Err(e) => failure(e),
    }
}

#[derive(serde::Deserialize, Default)]
pub struct DirectoryQuery {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    filter: String,
    #[serde(default)]
    start: Option<u64>,
}

pub async fn directory(
    State(app): State<AppState>,
    s: Signed,
    Query(q): Query<DirectoryQuery>,
) -> Response {
    let kind = if q.kind == "Group" {
        ResourceKind::Group
    } else {
        ResourceKind::User
    };
    let start = q.start.unwrap_or(1).max(1);
    let filter = Some(q.filter.trim().to_owned()).filter(|f| !f.is_empty());
    let params = SearchParams {
        filter: filter.clone(),
        start_index: Some(start.to_string()),
        count: Some(PAGE.to_string()),
        excluded_attributes: Some("members,groups".into()),
        ..Default::default()
    };
    let link = |at: u64| {
        let query = serde_urlencoded::to_string([
            ("type", kind.as_str()),
            ("filter", q.filter.as_str()),
            ("start", &at.to_string()),
        ])
        .unwrap_or_default();
        format!("/admin/directory?{query}")
    };
    let (mut message, mut total, mut entries) = (None, 0, Vec::new());
    match app.directory.search(&s.0.tenant, kind, &params).await {
        Ok(found) => {
            total = found.total;
            entries = found
                .resources
                .iter()
                .map(|r| entry(kind, &r.resource.doc, r.resource.id.to_string()))
                .collect();
        }
        Err(crate::service::Error::Scim(e)) => message = Some(e.detail),
        Err(e) => return failure(e),
    }
    let shown = entries.len() as u64;
    page(views::Directory {
        nav: s.nav("directory"),
        kind: kind.as_str(),
        filter: q.filter.clone(),
        message,
        total,
        first: start,
        last: start + shown.saturating_sub(1),
        resources: entries,
        previous: (start > 1).then(|| link(start.saturating_sub(PAGE).max(1))),
        next: (start + shown <= total && shown > 0).then(|| link(start + shown)),
    })
}

fn text(doc: &serde_json::Map<String, Value>, key: &str) -> String {
    doc.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn entry(kind: ResourceKind, doc: &serde_json::Map<String, Value>, id: String) -> views::Entry {
    let (name, link) = match kind {
        ResourceKind::User => (text(doc, "userName"), format!("/admin/users/{id}")),
        ResourceKind::Group => (text(doc, "displayName"), format!("/admin/groups/{id}")),
    };
    views::Entry {
        name,
        display: text(doc, "displayName"),
        active: doc.get("active").map(|a| a.to_string()).unwrap_or_default(),
        external_id: text(doc, "externalId"),
        link,
    }
}

pub async fn user(
    State(app): State<AppState>,
    base: BaseUrl,
    s: Signed,
    Path(id): Path<String>,
) -> Response {
    resource(&app, &base, &s, ResourceKind::User, &id, 0).await
}

#[derive(serde::Deserialize, Default)]
pub struct GroupQuery {
    #[serde(default)]
    start: usize,
}

pub async fn group(
    State(app): State<AppState>,
    base: BaseUrl,
    s: Signed,
    Path(id): Path<String>,
    Query(q): Query<GroupQuery>,
) -> Response {
    resource(&app, &base, &s, ResourceKind::Group, &id, q.start).await
}

/// A user (with its groups) or a group (with its members, a page at a time), its attributes
/// and its activity.
async fn resource(
    app: &AppState,
    base: &BaseUrl,
    s: &Signed,
    kind: ResourceKind,
    id: &str,
    start: usize,
) -> Response {
    let ctx = Context::of(&s.0.tenant);
    let shown = match app.directory.get(&ctx, kind, id).await {
        Ok(Answer::Resource(shown)) => shown,
        Ok(Answer::VersionOnly(_)) => {
            return failure(crate::service::Error::internal(
                "a read answered with a version only",
            ));
        }
        Err(e) => return failure(e),
    };
    let doc = shown.render(&base.0);
    let object = doc.as_object().cloned().unwrap_or_default();
    let (key, title, link_kind) = match kind {
        ResourceKind::User => ("groups", "Groups", "groups"),
        ResourceKind::Group => ("members", "Members", "members"),
    };
    let all: Vec<(String, String)> = object
        .get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|m| {
                    let value = m.get("value").and_then(Value::as_str).unwrap_or_default();
                    let is_group = link_kind == "groups"
                        || m.get("type").and_then(Value::as_str) == Some("Group");
                    let path = if is_group { "groups" } else { "users" };
                    let label = m.get("display").and_then(Value::as_str).unwrap_or(value);
                    (format!("/admin/{path}/{value}"), label.to_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    let per = PAGE as usize;
    let links: Vec<_> = all.iter().skip(start).take(per).cloned().collect();
    let here = format!("/admin/groups/{}", shown.resource.id);
    let previous = (kind == ResourceKind::Group && start > 0)
        .then(|| format!("{here}?start={}", start.saturating_sub(per)));
    let next = (kind == ResourceKind::Group && start + per < all.len())
        .then(|| format!("{here}?start={}", start + per));
    let mut document = object.clone();
    document.remove(key);
    let filter = ActivityFilter {
        resource: Some(shown.resource.id.0),
        limit: 200,
        ..Default::default()
    };
    let rows = match app.directory.activity(&s.0.tenant.name, &filter).await {
        Ok(rows) => rows,
        Err(e) => return failure(e),
    };
    let name = match kind {
        ResourceKind::User => text(&object, "userName"),
        ResourceKind::Group => text(&object, "displayName"),
    };
    page(views::Resource {
        nav: s.nav("directory"),
        kind: kind.as_str(),
        name,
        id: shown.resource.id.to_string(),
        links_title: title,
        links,
        previous,
        next,
        document: serde_json::to_string_pretty(&Value::Object(document)).unwrap_or_default(),
        rows: views::rows(&rows, &names(app, s, &rows).await),
    })
}
