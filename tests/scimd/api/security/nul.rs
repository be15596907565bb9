//! NUL characters, which PostgreSQL's `text` and `jsonb` cannot hold, in every kind of field a
//! request has: SCIM member names and values, PATCH paths, filters and query parameters, ids in
//! the path, Bulk operations, the OAuth endpoints' parameters and forms, and the console's
//! forms. Each is answered below 500 (a 400 `invalidValue` where the value would be stored;
//! ignored where it is dropped anyway), sign-ins with one are counted by the throttle, and
//! nothing is stored.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

use super::{PASSWORD, console_sign_in, proxied_app};
use crate::api::oauth::{ENTRA, field, text, token_request};
use crate::support::cookie_pair;
use crate::support::{Backend, TestApp, TestResponse, encode};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

async fn scim(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> TestResponse {
    app.call(method, path, body).await
}

async fn directory(app: &TestApp) -> (Value, Value) {
    let users = app.get("/scim/v2/Users?count=1000").await.body;
    let groups = app.get("/scim/v2/Groups?count=1000").await.body;
    (users, groups)
}

async fn nul_in_every_scim_field_is_refused_or_dropped_and_nothing_is_stored(backend: Backend) {
    let app = TestApp::new(backend).await;
    let seed = app
        .post("/scim/v2/Users", json!({"userName": "seed"}))
        .await;
    let id = seed.body["id"].as_str().unwrap().to_owned();
    let before = directory(&app).await;
    let nul = "a\u{0}b";
    let refused: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/scim/v2/Users".into(),
            Some(json!({"userName": nul})),
        ),
        (
            Method::POST,
            "/scim/v2/Users".into(),
            Some(json!({"userName": "n1", ENTERPRISE: {"department": nul}})),
        ),
        (
            Method::POST,
            "/scim/v2/Groups".into(),
            Some(json!({"displayName": nul})),
        ),
        (
            Method::POST,
            "/scim/v2/Groups".into(),
            Some(json!({"displayName": "g", "members": [{"value": id, "display": nul}]})),
        ),
        (
            Method::PUT,
            format!("/scim/v2/Users/{id}"),
            Some(json!({"userName": "seed", "title": nul})),
        ),
        (
            Method::PATCH,
            format!("/scim/v2/Users/{id}"),
            Some(json!({"schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "title", "value": nul}]})),
        ),
        (
            Method::PATCH,
            format!("/scim/v2/Users/{id}"),
            Some(json!({"schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": format!("ti{nul}tle"), "value": "x"}]})),
        ),
        (
            Method::PATCH,
            format!("/scim/v2/Users/{id}"),
            Some(json!({"schemas": [PATCH_OP],
            "Operations": [{"op": "add", "value": {"title": nul}}]})),
        ),
        (
            Method::GET,
            format!(
                "/scim/v2/Users?filter={}",
                encode(&format!("userName eq \"{nul}\""))
            ),
            None,
        ),
        (
            Method::GET,
            format!("/scim/v2/Users?attributes={}", encode(nul)),
            None,
        ),
        (
            Method::GET,
            format!("/scim/v2/Users?sortBy={}", encode(nul)),
            None,
        ),
        (Method::GET, "/scim/v2/Users/a%00b".into(), None),
        (Method::DELETE, "/scim/v2/Users/%00".into(), None),
        (
            Method::GET,
            format!("/scim/v2/Schemas/{}", encode(nul)),
            None,
        ),
        (
            Method::POST,
            "/scim/v2/Users/.search".into(),
            Some(json!({"filter": format!("userName eq \"{nul}\"")})),
        ),
    ];
    for (method, path, body) in refused {
        let answer = scim(&app, method.clone(), &path, body.clone()).await;
        let status = answer.status.as_u16();
        assert!(
            (400..500).contains(&status),
            "{method} {path} {body:?}: {status} {}",
            answer.body
        );
        assert_eq!(answer.header("content-type"), Some("application/scim+json"));
    }
    // a Bulk request answers per operation
    let bulk = scim(&app, Method::POST, "/scim/v2/Bulk", Some(json!({"schemas": [BULK], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": nul, "data": {"userName": nul}},
        {"method": "POST", "path": format!("/Users{nul}"), "bulkId": "b2", "data": {"userName": "b2"}},
    ]}))).await;
    assert_eq!(bulk.status, 200, "{}", bulk.body);
    for op in bulk.body["Operations"].as_array().unwrap() {
        let status: u16 = op["status"].as_str().unwrap().parse().unwrap();
        assert!((400..500).contains(&status), "{op}");
    }
    assert_eq!(directory(&app).await, before, "nothing was stored");
    // a member name is dropped like any name no schema defines, and noted as no name
    let dropped = app
        .post(
            "/scim/v2/Users",
            json!({"userName": "kept", format!("x{nul}"): "v"}),
        )
        .await;
    assert_eq!(dropped.status, 201, "{}", dropped.body);
    assert!(!dropped.body.to_string().contains("\\u0000"));
    let all = scimd::domain::activity::ActivityFilter {
        limit: 100,
        ..Default::default()
    };
    let rows = app.state.directory.activity("default", &all).await.unwrap();
    let created = rows
        .iter()
        .find(|r| r.status == 201 && r.ignored.is_some())
        .unwrap();
    assert_eq!(created.ignored.as_deref(), Some("(not an attribute name)"));
}

async fn nul_in_oauth_and_console_fields_gets_a_page_or_error_and_sign_ins_are_counted(
    backend: Backend,
) {
    let app = proxied_app(backend).await;
    let dir = &app.state.directory;
    let client = dir
        .add_client("default", &[ENTRA.to_owned()])
        .await
        .unwrap();
    let authorize = format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={}",
        encode("x\u{0}y"),
        encode(ENTRA)
    );
    let page = app
        .send(Request::get(authorize).body(Body::empty()).unwrap())
        .await;
    assert_eq!(page.status, 400, "{}", text(&page));
    let token = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "x\u{0}y"),
            ("client_secret", "s"),
        ],
        None,
    )
    .await;
    assert_eq!(token.status, 400, "{}", token.body);
    assert_eq!(token.body["error"], "invalid_request");
    assert_eq!(
        token.body["error_description"],
        "a value contains a NUL character, which scimd cannot store"
    );
    let code = token_request(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", "c\u{0}"),
            ("client_id", &client.client.client_id),
            ("client_secret", &client.secret),
        ],
        None,
    )
    .await;
    assert_eq!(code.body["error"], "invalid_grant", "{}", code.body);
    // sign-ins with a NUL in the tenant or the name are wrong, and counted
    let tenant = console_sign_in(&app, "192.0.2.77", ("de\u{0}fault", "alice", PASSWORD)).await;
    assert_eq!(tenant.status, 401, "{}", text(&tenant));
    for n in 0..6 {
        let answer = console_sign_in(&app, "192.0.2.77", ("default", "al\u{0}ice", PASSWORD)).await;
        let expected = if n < 5 { 401 } else { 429 };
        assert_eq!(answer.status, expected, "attempt {n}: {}", text(&answer));
    }
    // the console's own forms
    let signed = console_sign_in(&app, "192.0.2.78", ("default", "alice", PASSWORD)).await;
    let cookie = cookie_pair(signed.header("set-cookie").unwrap());
    let overview = app
        .send(
            Request::get("/admin/connection")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let csrf = field(&overview, "csrf").unwrap();
    let tokens_before = dir.tokens("default").await.unwrap().len();
    for (path, form) in [
        (
            "/admin/tokens",
            vec![("label", "x\u{0}y"), ("csrf", csrf.as_str())],
        ),
        (
            "/admin/clients",
            vec![
                ("redirect_uri", "https://a\u{0}.example/cb"),
                ("csrf", csrf.as_str()),
            ],
        ),
    ] {
        let req = Request::post(path)
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(serde_urlencoded::to_string(&form).unwrap()))
            .unwrap();
        let answer = app.send(req).await;
        assert_eq!(answer.status, 400, "{path}: {}", text(&answer));
    }
    assert_eq!(dir.tokens("default").await.unwrap().len(), tokens_before);
    assert_eq!(dir.clients("default").await.unwrap().len(), 1);
}

crate::on_both_stores!(
    nul_in_every_scim_field_is_refused_or_dropped_and_nothing_is_stored,
    nul_in_oauth_and_console_fields_gets_a_page_or_error_and_sign_ins_are_counted,
);
