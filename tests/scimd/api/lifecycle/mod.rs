//! The account lifecycle as Microsoft Entra ID drives it ("How Application Provisioning works
//! in Microsoft Entra ID"): unassignment disables the user, a soft delete renames it to the
//! object id's 32 hex digits followed by the old name, a restore enables it with its name.
//! scimd keeps the stored name against that rename (the tenant's rule `soft_delete_renames`),
//! applies the rest, notes the rename on the request's activity row, and its event names only
//! what changed. Under the rule `on_delete = retain`, a hard delete keeps the user out of SCIM
//! for a period; a re-creation with its externalId, or an operator, restores it with its id.

mod matching;
mod okta;
mod rehire;
mod renames;
mod restore;
mod retain;

use axum::body::Body;
use axum::http::{Method, Request, header};
use scimd::domain::activity::{Activity, ActivityFilter};
use scimd::domain::events::{Event, Kinds};
use serde_json::{Value, json};

use crate::api::console::Console;
use crate::api::oauth::text;
use crate::support::receiver::Receiver;
use crate::support::{Backend, TOKEN, TestApp, TestResponse, entra_user};

/// The object id Entra puts before a soft-deleted user's name.
const OBJECT_ID: &str = "283405f5a8c24d0e9a1b7c3d2e4f5a6b";
const RALF: &str = "ralf@contoso.com";
const KEPT_NOTE: &str = "kept userName: Entra's soft-delete rename ignored";

/// A SCIM request with the bootstrap token and `request_id` as its `x-request-id`.
async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    request_id: &str,
    body: Value,
) -> TestResponse {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/scim+json")
        .header("x-request-id", request_id);
    app.send(req.body(Body::from(body.to_string())).unwrap())
        .await
}

/// A PatchOp of `ops`.
fn patch_op(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

/// Entra's soft-delete rename of `name`.
fn renamed(name: &str) -> String {
    format!("{OBJECT_ID}{name}")
}

/// A started app whose events a webhook subscribes to (so that the outbox keeps them).
async fn app_with_events(backend: Backend) -> (TestApp, Receiver) {
    let app = TestApp::new(backend).await;
    let receiver = Receiver::start().await;
    app.state
        .directory
        .add_webhook("default", &receiver.url(), Kinds::ALL, false)
        .await
        .unwrap();
    (app, receiver)
}

/// Creates `name` as Entra does; its id.
async fn create(app: &TestApp, name: &str, request_id: &str) -> String {
    let created = call(
        app,
        Method::POST,
        "/scim/v2/Users",
        request_id,
        entra_user(name),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body["id"].as_str().unwrap().to_owned()
}

/// The activity row of the request `request_id`.
async fn row(app: &TestApp, request_id: &str) -> Activity {
    let filter = ActivityFilter {
        request_id: Some(request_id.to_owned()),
        limit: 10,
        ..Default::default()
    };
    let rows = app
        .state
        .directory
        .activity("default", &filter)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows.into_iter().next().unwrap()
}

/// The tenant's events, oldest first.
async fn events(app: &TestApp) -> Vec<Event> {
    app.state
        .directory
        .events_after("default", 0, 100)
        .await
        .unwrap()
}

/// The kinds and attributes (sorted: the stores keep a document's keys in their own order)
/// of the events of request `txn`.
fn of_request(events: &[Event], txn: &str) -> Vec<(Vec<&'static str>, Vec<String>)> {
    events
        .iter()
        .filter(|e| e.txn == txn)
        .map(|e| {
            let mut attributes = e.attributes.clone();
            attributes.sort_unstable();
            (e.kinds.names(), attributes)
        })
        .collect()
}

async fn entras_journey_keeps_the_name_through_the_soft_delete_rename_and_restores_the_user(
    backend: Backend,
) {
    let (app, _receiver) = app_with_events(backend).await;
    let id = create(&app, RALF, "assign").await;
    let path = format!("/scim/v2/Users/{id}");

    // unassigned (or out of scope, or soft-deleted): Entra disables the user
    let disable = patch_op(json!([{"op": "Replace", "path": "active", "value": "False"}]));
    let disabled = call(&app, Method::PATCH, &path, "disable", disable).await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(disabled.body["active"], false);
    assert_eq!(disabled.body["meta"]["version"], "W/\"2\"");

    // soft-deleted: the renamed user principal name, with active false again
    let rename = patch_op(json!([
        {"op": "replace", "path": "userName", "value": renamed(RALF)},
        {"op": "replace", "path": "active", "value": false}
    ]));
    let answered = call(&app, Method::PATCH, &path, "soft-delete", rename).await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert_eq!(answered.body["userName"], RALF);
    assert_eq!(answered.body["active"], false);
    assert_eq!(
        answered.body["meta"]["version"], "W/\"2\"",
        "nothing else changed, so nothing is stored"
    );
    let stored = app.get(&path).await.body;
    assert_eq!(stored["userName"], RALF);
    assert_eq!(stored["active"], false);
    let noted = row(&app, "soft-delete").await;
    assert_eq!(
        (
            noted.status,
            noted.operation.as_str(),
            noted.paths.as_deref()
        ),
        (200, "patch", Some("userName, active"))
    );
    assert_eq!(noted.kept.as_deref(), Some("userName"));
    assert_eq!(noted.ignored, None);
    assert!(!noted.deactivated, "the user was disabled already");
    assert_eq!(noted.note(), KEPT_NOTE);
    let all = events(&app).await;
    assert_eq!(
        of_request(&all, "disable"),
        [(vec!["patch", "deactivate"], vec!["active".to_owned()])]
    );
    assert_eq!(of_request(&all, "soft-delete"), [], "no change, no event");

    // the name stays taken while the user is disabled
    let mut other = entra_user(RALF);
    other["externalId"] = json!("another-person");
    let taken = call(&app, Method::POST, "/scim/v2/Users", "new-ralf", other).await;
    taken.assert_scim_error(409, Some("uniqueness"));

    // restored in Entra: enabled again with its own name
    let restore = patch_op(json!([
        {"op": "Replace", "path": "userName", "value": RALF},
        {"op": "Replace", "path": "active", "value": "True"}
    ]));
    let restored = call(&app, Method::PATCH, &path, "restore", restore).await;
    assert_eq!(restored.status, 200, "{}", restored.body);
    assert_eq!(restored.body["userName"], RALF);
    assert_eq!(restored.body["active"], true);
    assert_eq!(restored.body["id"], id.as_str());
    assert_eq!(restored.body["meta"]["version"], "W/\"3\"");
    assert_eq!(row(&app, "restore").await.kept, None);
    assert_eq!(
        of_request(&events(&app).await, "restore"),
        [(vec!["patch", "activate"], vec!["active".to_owned()])]
    );
}

async fn a_rename_sent_with_the_deactivation_keeps_the_name_and_disables_the_user(
    backend: Backend,
) {
    let (app, _receiver) = app_with_events(backend).await;
    // the attribute's name in any letter case, in a value object without a path, or as the
    // path (also with the core schema's URN), the digits in upper case
    let core = "urn:ietf:params:scim:schemas:core:2.0:User:userName";
    let cases = [
        ("userName", false),
        ("USERNAME", false),
        ("username", false),
        ("UserName", true),
        (core, true),
    ];
    for (n, (key, by_path)) in cases.into_iter().enumerate() {
        let name = format!("user{n}@contoso.com");
        let id = create(&app, &name, &format!("assign-{n}")).await;
        let path = format!("/scim/v2/Users/{id}");
        let request = format!("soft-delete-{n}");
        let sent = format!("{}{name}", OBJECT_ID.to_uppercase());
        let ops = match by_path {
            false => json!([{"op": "Replace", "value": {key: sent, "active": false}}]),
            true => json!([
                {"op": "Replace", "path": key, "value": sent},
                {"op": "Replace", "path": "active", "value": "False"}
            ]),
        };
        let answered = call(&app, Method::PATCH, &path, &request, patch_op(ops)).await;
        assert_eq!(answered.status, 200, "{key}: {}", answered.body);
        assert_eq!(answered.body["userName"], name.as_str(), "{key}");
        assert_eq!(answered.body["active"], false, "{key}");
        assert_eq!(answered.body["meta"]["version"], "W/\"2\"", "{key}");
        let noted = row(&app, &request).await;
        assert_eq!(noted.kept.as_deref(), Some("userName"), "{key}");
        assert!(noted.deactivated, "{key}");
        assert_eq!(noted.note(), KEPT_NOTE);
        assert_eq!(
            of_request(&events(&app).await, &request),
            [(vec!["patch", "deactivate"], vec!["active".to_owned()])],
            "{key}: the event names what changed, not userName"
        );
    }
}

async fn the_same_rename_by_put_keeps_the_name_and_applies_the_rest(backend: Backend) {
    let (app, _receiver) = app_with_events(backend).await;
    let id = create(&app, RALF, "assign").await;
    let path = format!("/scim/v2/Users/{id}");
    let mut body = entra_user(&renamed(RALF));
    body["id"] = json!(id);
    body["active"] = json!(false);
    body["emails"] =
        json!([{"primary": true, "type": "work", "value": format!("{RALF}@example.com")}]);
    body["name"]["givenName"] = json!("Ralf");
    let answered = call(&app, Method::PUT, &path, "soft-delete", body).await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert_eq!(answered.body["userName"], RALF);
    assert_eq!(answered.body["active"], false);
    assert_eq!(answered.body["name"]["givenName"], "Ralf");
    assert_eq!(answered.body["meta"]["version"], "W/\"2\"");
    let stored = app.get(&path).await.body;
    assert_eq!(
        (&stored["userName"], &stored["active"]),
        (&json!(RALF), &json!(false))
    );
    let noted = row(&app, "soft-delete").await;
    assert_eq!(
        (
            noted.status,
            noted.operation.as_str(),
            noted.kept.as_deref()
        ),
        (200, "replace", Some("userName"))
    );
    assert!(noted.deactivated);
    assert_eq!(noted.note(), KEPT_NOTE);
    assert_eq!(
        of_request(&events(&app).await, "soft-delete"),
        [(
            vec!["put", "deactivate"],
            vec!["active".to_owned(), "name".to_owned()]
        )]
    );
    // restored by PUT with its name
    let mut restore = entra_user(RALF);
    restore["id"] = json!(id);
    let restored = call(&app, Method::PUT, &path, "restore", restore).await;
    assert_eq!(restored.status, 200, "{}", restored.body);
    assert_eq!(restored.body["userName"], RALF);
    assert_eq!(restored.body["active"], true);
    assert_eq!(row(&app, "restore").await.kept, None);
}

async fn the_consoles_activity_page_shows_the_rename_as_ignored(backend: Backend) {
    let console = Console::new(backend).await;
    let app = &console.app;
    let id = create(app, RALF, "assign").await;
    let path = format!("/scim/v2/Users/{id}");
    let rename = patch_op(json!([
        {"op": "replace", "path": "userName", "value": renamed(RALF)},
        {"op": "replace", "path": "active", "value": false}
    ]));
    let answered = call(app, Method::PATCH, &path, "soft-delete", rename).await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    let browser = console.browser("default", "alice").await;
    let page = console.get(&browser, "/admin/activity").await;
    assert_eq!(page.status, 200);
    let html = text(&page);
    let row = html
        .split("<tr")
        .find(|row| row.contains("soft-delete"))
        .unwrap_or_else(|| panic!("no row of the request: {html}"));
    assert!(row.contains("patch (userName, active)"), "{row}");
    assert!(row.contains(KEPT_NOTE), "{row}");
    assert!(!row.contains(&renamed(RALF)), "no value is shown: {row}");
}

crate::on_both_stores!(
    the_consoles_activity_page_shows_the_rename_as_ignored,
    entras_journey_keeps_the_name_through_the_soft_delete_rename_and_restores_the_user,
    a_rename_sent_with_the_deactivation_keeps_the_name_and_disables_the_user,
    the_same_rename_by_put_keeps_the_name_and_applies_the_rest,
);
