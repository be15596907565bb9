//! The console's directory: users and groups searched with SCIM filters, and one user (with its
//! groups) or group (with its members, a page at a time, read a page at a time) with its
//! attributes and its activity.

use axum::extract::State;
use serde_json::Value;

use super::extract::{Path, Query};
use super::pages::names;
use super::{Page, Signed, page, views};
use crate::domain::activity::ActivityFilter;
use crate::http::AppState;
use crate::http::extract::BaseUrl;
use crate::scim::query::SearchParams;
use crate::scim::schema::ResourceKind;
use crate::service::{Answer, Context};

/// Resources, and a group's members, per page.
const PAGE: u64 = 50;

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
) -> Page {
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
        Err(e) => return Err(e.into()),
    }
    let shown = entries.len() as u64;
    Ok(page(views::Directory {
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
    }))
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
) -> Page {
    resource(&app, &base, &s, ResourceKind::User, &id, 0).await
}

#[derive(serde::Deserialize, Default)]
pub struct GroupQuery {
    #[serde(default)]
    start: u64,
}

pub async fn group(
    State(app): State<AppState>,
    base: BaseUrl,
    s: Signed,
    Path(id): Path<String>,
    Query(q): Query<GroupQuery>,
) -> Page {
    resource(&app, &base, &s, ResourceKind::Group, &id, q.start).await
}

/// A user (with its groups) or a group (with a page of its members, read from the store a
/// page at a time), its attributes and its activity.
async fn resource(
    app: &AppState,
    base: &BaseUrl,
    s: &Signed,
    kind: ResourceKind,
    id: &str,
    start: u64,
) -> Page {
    let ctx = Context {
        excluded_attributes: (kind == ResourceKind::Group).then_some("members"),
        ..Context::of(&s.0.tenant)
    };
    let Answer::Resource(shown) = app.directory.get(&ctx, kind, id).await? else {
        let internal = crate::service::Error::internal("a read answered with a version only");
        return Err(internal.into());
    };
    let doc = shown.render(&base.0);
    let mut document = doc.as_object().cloned().unwrap_or_default();
    let here = format!("/admin/groups/{}", shown.resource.id);
    let (links_title, links, previous, next) = match kind {
        ResourceKind::User => {
            let groups = document.remove("groups");
            ("Groups", group_links(groups.as_ref()), None, None)
        }
        ResourceKind::Group => {
            let (members, total) = app
                .directory
                .group_members(&s.0, shown.resource.id, start, PAGE as u32)
                .await?;
            let links = members
                .iter()
                .map(|m| {
                    let path = if m.kind == ResourceKind::Group {
                        "groups"
                    } else {
                        "users"
                    };
                    let label = m.display.clone().unwrap_or_else(|| m.id.to_string());
                    (format!("/admin/{path}/{}", m.id), label)
                })
                .collect();
            let previous =
                (start > 0).then(|| format!("{here}?start={}", start.saturating_sub(PAGE)));
            let next = (start + PAGE < total).then(|| format!("{here}?start={}", start + PAGE));
            ("Members", links, previous, next)
        }
    };
    let filter = ActivityFilter {
        resource: Some(shown.resource.id.0),
        limit: 200,
        ..Default::default()
    };
    let rows = app.directory.activity(&s.0.tenant.name, &filter).await?;
    let name = match kind {
        ResourceKind::User => text(&document, "userName"),
        ResourceKind::Group => text(&document, "displayName"),
    };
    Ok(page(views::Resource {
        nav: s.nav("directory"),
        kind: kind.as_str(),
        name,
        id: shown.resource.id.to_string(),
        links_title,
        links,
        previous,
        next,
        document: serde_json::to_string_pretty(&Value::Object(document)).unwrap_or_default(),
        rows: views::rows(&rows, &names(app, s, &rows).await),
    }))
}

/// The links to a user's groups (`groups` as rendered).
fn group_links(groups: Option<&Value>) -> Vec<(String, String)> {
    groups
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|g| {
                    let id = g.get("value").and_then(Value::as_str).unwrap_or_default();
                    let label = g.get("display").and_then(Value::as_str).unwrap_or(id);
                    (format!("/admin/groups/{id}"), label.to_owned())
                })
                .collect()
        })
        .unwrap_or_default()
}
