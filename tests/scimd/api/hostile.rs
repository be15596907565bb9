//! A corpus of malformed requests: each gets its precise SCIM 4xx — status, `scimType`, a
//! detail naming the attribute or the limit — and changes nothing in the directory.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

use crate::support::{Backend, TOKEN, TestApp};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// One malformed request and what it must get.
struct Case {
    method: Method,
    /// Under `/scim/v2`; `{user}` and `{group}` stand for the ids of existing resources.
    path: String,
    body: Option<String>,
    content_type: &'static str,
    status: u16,
    scim_type: Option<&'static str>,
    /// Words the detail must hold: the attribute or the limit it names.
    detail: &'static str,
}

fn case(
    method: Method,
    path: &str,
    body: Option<Value>,
    (status, scim_type, detail): (u16, Option<&'static str>, &'static str),
) -> Case {
    Case {
        method,
        path: path.to_owned(),
        body: body.map(|b| b.to_string()),
        content_type: "application/scim+json",
        status,
        scim_type,
        detail,
    }
}

fn patch(ops: Value) -> Option<Value> {
    Some(json!({"schemas": [PATCH_OP], "Operations": ops}))
}

fn corpus() -> Vec<Case> {
    let invalid = |detail| (400, Some("invalidValue"), detail);
    let many_emails: Vec<Value> = (0..1001)
        .map(|i| json!({"value": format!("{i}@x")}))
        .collect();
    let many_ops: Vec<Value> = (0..1001)
        .map(|i| json!({"op": "replace", "path": "title", "value": format!("t{i}")}))
        .collect();
    let many_members: Vec<Value> = (0..1001)
        .map(|_| json!({"op": "add", "path": "members", "value": [{"value": uuid::Uuid::new_v4().to_string()}]}))
        .collect();
    let mut cases = vec![
        case(
            Method::POST,
            "/Users",
            Some(json!({"userName": "a\u{0}b"})),
            invalid("userName: contains a NUL character"),
        ),
        case(
            Method::POST,
            "/Users",
            Some(json!({"userName": "n", "title": "t\u{0}"})),
            invalid("title: contains a NUL character"),
        ),
        case(
            Method::POST,
            "/Users",
            Some(json!({"userName": "n", "emails": [1, 2]})),
            invalid("emails[0]"),
        ),
        case(
            Method::POST,
            "/Users",
            Some(json!({"userName": "n", "emails": ["a@b"]})),
            invalid("emails[0]"),
        ),
        case(
            Method::POST,
            "/Users",
            Some(json!({"userName": "u".repeat(1025)})),
            invalid("at most 1024"),
        ),
        case(
            Method::POST,
            "/Users",
            Some(json!({"userName": "n", "title": "t".repeat(70_000)})),
            invalid("title: is 70000 bytes long"),
        ),
        case(
            Method::POST,
            "/Users",
            Some(json!({"userName": "n", "emails": many_emails})),
            invalid("emails: has 1001 values"),
        ),
        case(
            Method::POST,
            "/Groups",
            Some(json!({"displayName": "g\u{0}"})),
            invalid("displayName: contains a NUL character"),
        ),
        case(
            Method::PATCH,
            "/Users/{user}",
            patch(json!([{"op": "replace", "path": "title", "value": "x\u{0}"}])),
            invalid("title: contains a NUL character"),
        ),
        case(
            Method::PATCH,
            "/Users/{user}",
            patch(json!([{"op": "replace", "path": "€€", "value": "x"}])),
            (400, Some("invalidPath"), "€€"),
        ),
        case(
            Method::PATCH,
            "/Users/{user}",
            patch(json!(many_ops)),
            invalid("at most 1000 operations"),
        ),
        case(
            Method::PATCH,
            "/Groups/{group}",
            patch(json!(many_members)),
            invalid("at most 1000 operations"),
        ),
        case(
            Method::PATCH,
            "/Users/{user}",
            patch(json!([{"op": "remove"}])),
            (400, Some("noTarget"), "path"),
        ),
        case(
            Method::GET,
            "/Users?filter=userName%20eq%20%22a%00%22",
            None,
            (400, Some("invalidFilter"), "NUL"),
        ),
        case(
            Method::GET,
            &format!("/Users?filter=userName%20eq%20%22{}%22", "a".repeat(4100)),
            None,
            (400, Some("invalidFilter"), "4096"),
        ),
        case(
            Method::GET,
            "/Users?sortBy=%E2%82%AC%E2%82%AC",
            None,
            invalid("€€"),
        ),
        case(Method::GET, "/Users?count=many", None, invalid("count")),
        case(
            Method::GET,
            "/Users?cursor=not-a-cursor",
            None,
            (400, Some("invalidCursor"), "cursor"),
        ),
        case(
            Method::GET,
            "/Users?attributes=name&excludedAttributes=title",
            None,
            invalid("together"),
        ),
    ];
    let mut not_json = case(
        Method::POST,
        "/Users",
        None,
        (400, Some("invalidSyntax"), "not valid JSON"),
    );
    not_json.body = Some("{\"userName\": ".to_owned());
    cases.push(not_json);
    let mut text = case(
        Method::POST,
        "/Users",
        Some(json!({"userName": "n"})),
        (415, None, "text/plain"),
    );
    text.content_type = "text/plain";
    cases.push(text);
    let mut huge = case(
        Method::POST,
        "/Users",
        None,
        (413, None, "SCIMD_MAX_BODY_BYTES"),
    );
    huge.body = Some(json!({"userName": "n", "title": "t".repeat(1_100_000)}).to_string());
    cases.push(huge);
    cases
}

/// Everything the directory holds, as the API shows it.
async fn directory(app: &TestApp) -> (Value, Value) {
    let users = app.get("/scim/v2/Users?count=1000").await.body;
    let groups = app.get("/scim/v2/Groups?count=1000").await.body;
    (users, groups)
}

async fn malformed_requests_get_precise_scim_errors_and_change_nothing(backend: Backend) {
    let app = TestApp::new(backend).await;
    let user = app
        .post("/scim/v2/Users", json!({"userName": "kept"}))
        .await;
    let group = app
        .post("/scim/v2/Groups", json!({"displayName": "kept"}))
        .await;
    let (user, group) = (
        user.body["id"].as_str().unwrap(),
        group.body["id"].as_str().unwrap(),
    );
    let before = directory(&app).await;
    for c in corpus() {
        let path = format!(
            "/scim/v2{}",
            c.path.replace("{user}", user).replace("{group}", group)
        );
        let req = Request::builder()
            .method(c.method.clone())
            .uri(&path)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(header::CONTENT_TYPE, c.content_type)
            .body(c.body.clone().map_or_else(Body::empty, Body::from))
            .unwrap();
        let res = app.send(req).await;
        let detail = res.assert_scim_error(c.status, c.scim_type);
        assert!(
            detail.contains(c.detail),
            "{} {}: the detail '{detail}' does not name '{}'",
            c.method,
            c.path,
            c.detail
        );
        assert_eq!(
            directory(&app).await,
            before,
            "{} {} changed the directory",
            c.method,
            c.path
        );
    }
}

crate::on_both_stores!(malformed_requests_get_precise_scim_errors_and_change_nothing);
