//! `/api/v1/tenants/{name}/admins`: an admin added over the API signs in to the console with
//! the password given; rights and passwords change, admins go; never a password or its hash
//! in an answer or the audit trail; another tenant's admin is not found.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

use super::{Api, assert_problem};
use crate::api::oauth::field;
use crate::support::{Backend, TestResponse};

crate::on_both_stores!(
    an_admin_added_with_a_password_signs_in_to_the_console_at_once,
    admins_are_listed_in_pages_by_name_without_passwords,
    an_admin_is_changed_and_removed_and_a_new_password_replaces_the_old,
    another_tenants_admin_is_not_found_and_is_unchanged,
    a_taken_username_is_a_conflict_and_invalid_fields_are_named,
    hostile_input_changes_nothing,
    admins_need_a_key_that_may_write_and_the_audit_trail_holds_no_password,
);

const PASSWORD: &str = "correct horse battery staple";

/// Signs in at the console's form with its CSRF token: the answer.
pub async fn console_sign_in(api: &Api, tenant: &str, user: &str, password: &str) -> TestResponse {
    let page = api
        .app
        .send(Request::get("/admin").body(Body::empty()).unwrap())
        .await;
    let csrf = field(&page, "csrf").expect("the sign-in form's CSRF token");
    let body = serde_urlencoded::to_string([
        ("tenant", tenant),
        ("username", user),
        ("password", password),
        ("csrf", &csrf),
    ])
    .unwrap();
    let req = Request::post("/admin/sign-in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("scimd_login={csrf}"))
        .body(Body::from(body))
        .unwrap();
    api.app.send(req).await
}

async fn add(api: &Api, tenant: &str, body: Value) -> TestResponse {
    api.post(&format!("/api/v1/tenants/{tenant}/admins"), body)
        .await
}

async fn an_admin_added_with_a_password_signs_in_to_the_console_at_once(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let added = add(
        &api,
        "contoso",
        json!({ "username": "grace", "password": PASSWORD, "team_admin": true }),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(
        added.header("location"),
        Some("/api/v1/tenants/contoso/admins/grace")
    );
    assert_eq!(
        added.body,
        json!({ "username": "grace", "team_admin": true, "created": added.body["created"] })
    );
    let signed = console_sign_in(&api, "contoso", "grace", PASSWORD).await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    assert_eq!(signed.header("location"), Some("/admin"));
    let wrong = console_sign_in(&api, "contoso", "grace", "not the password at all").await;
    assert_eq!(wrong.status, 401);
    let shown = api.get("/api/v1/tenants/contoso/admins/GRACE").await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.body, added.body);
    // a user name that is not a plain path segment is encoded in its URL, which finds it
    let odd = add(
        &api,
        "contoso",
        json!({ "username": "a/../b?c%d é", "password": PASSWORD }),
    )
    .await;
    assert_eq!(odd.status, 201, "{}", odd.body);
    let location = odd.header("location").unwrap().to_owned();
    assert_eq!(
        location,
        "/api/v1/tenants/contoso/admins/a%2F..%2Fb%3Fc%25d%20%C3%A9"
    );
    let found = api.get(&location).await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body["username"], "a/../b?c%d é");
}

async fn admins_are_listed_in_pages_by_name_without_passwords(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    for name in ["erin", "bob", "dave", "alice", "carol"] {
        let added = add(
            &api,
            "contoso",
            json!({ "username": name, "password": PASSWORD, "team_admin": name == "bob" }),
        )
        .await;
        assert_eq!(added.status, 201, "{}", added.body);
    }
    let listed = api.all("/api/v1/tenants/contoso/admins", 2).await;
    let names: Vec<&str> = listed
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "bob", "carol", "dave", "erin"]);
    assert_eq!(listed[1]["team_admin"], true);
    assert_eq!(listed[0]["team_admin"], false);
    for admin in &listed {
        let mut keys: Vec<&String> = admin.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["created", "team_admin", "username"], "{admin}");
    }
    let text = Value::Array(listed).to_string();
    assert!(
        !text.contains("argon2") && !text.contains(PASSWORD),
        "{text}"
    );
    let bad = api
        .get("/api/v1/tenants/contoso/admins?limit=2&cursor=made-up")
        .await;
    assert_eq!(bad.status.as_u16() / 100, 4, "{}", bad.body);
}

async fn an_admin_is_changed_and_removed_and_a_new_password_replaces_the_old(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    add(
        &api,
        "contoso",
        json!({ "username": "grace", "password": PASSWORD, "team_admin": true }),
    )
    .await;
    let path = "/api/v1/tenants/contoso/admins/grace";
    let new_password = "a brand new passphrase";
    let changed = api.patch(path, json!({ "password": new_password })).await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["team_admin"], true);
    let old = console_sign_in(&api, "contoso", "grace", PASSWORD).await;
    assert_eq!(old.status, 401);
    let new = console_sign_in(&api, "contoso", "grace", new_password).await;
    assert_eq!(new.status, 303);

    let demoted = api.patch(path, json!({ "team_admin": false })).await;
    assert_eq!(demoted.status, 200);
    assert_eq!(demoted.body["team_admin"], false);
    assert_eq!(api.get(path).await.body["team_admin"], false);
    // only team admins sign in to the console
    let refused = console_sign_in(&api, "contoso", "grace", new_password).await;
    assert_ne!(refused.status, 303);
    let nothing = api.patch(path, json!({})).await;
    assert_eq!(nothing.status, 200);
    assert_eq!(nothing.body, demoted.body);

    let removed = api.delete(path).await;
    assert_eq!(
        (removed.status.as_u16(), &removed.body),
        (204, &Value::Null)
    );
    assert_problem(&api.get(path).await, 404, "not-found", None);
    assert_problem(&api.delete(path).await, 404, "not-found", None);
    let again = api.patch(path, json!({ "team_admin": true })).await;
    assert_problem(&again, 404, "not-found", None);
    let dir = &api.app.state.directory;
    assert!(dir.admins("contoso").await.unwrap().is_empty());
}

async fn another_tenants_admin_is_not_found_and_is_unchanged(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    api.tenant("fabrikam").await;
    add(
        &api,
        "fabrikam",
        json!({ "username": "frank", "password": PASSWORD, "team_admin": true }),
    )
    .await;
    let mine = "/api/v1/tenants/contoso/admins/frank";
    let detail = assert_problem(&api.get(mine).await, 404, "not-found", None);
    assert!(detail.contains("contoso"), "{detail}");
    let patch = api
        .patch(
            mine,
            json!({ "team_admin": false, "password": "another long one" }),
        )
        .await;
    assert_problem(&patch, 404, "not-found", None);
    assert_problem(&api.delete(mine).await, 404, "not-found", None);
    let theirs = api.get("/api/v1/tenants/fabrikam/admins/frank").await;
    assert_eq!(theirs.body["team_admin"], true);
    let signed = console_sign_in(&api, "fabrikam", "frank", PASSWORD).await;
    assert_eq!(signed.status, 303);
    for path in [
        "/api/v1/tenants/nowhere/admins",
        "/api/v1/tenants/nowhere/admins/frank",
    ] {
        assert_problem(&api.get(path).await, 404, "not-found", None);
    }
    let add_nowhere = add(
        &api,
        "nowhere",
        json!({ "username": "x", "password": PASSWORD }),
    )
    .await;
    assert_problem(&add_nowhere, 404, "not-found", None);
}

async fn a_taken_username_is_a_conflict_and_invalid_fields_are_named(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let first = add(
        &api,
        "contoso",
        json!({ "username": "grace", "password": PASSWORD }),
    )
    .await;
    assert_eq!(first.status, 201);
    let taken = add(
        &api,
        "contoso",
        json!({ "username": "Grace", "password": PASSWORD }),
    )
    .await;
    assert_problem(&taken, 409, "conflict", None);
    let cases = [
        (json!({ "username": "", "password": PASSWORD }), "username"),
        (
            json!({ "username": "  ", "password": PASSWORD }),
            "username",
        ),
        (
            json!({ "username": "ada", "password": "short" }),
            "password",
        ),
        (json!({ "password": PASSWORD }), "username"),
        (
            json!({ "username": "ada", "password": PASSWORD, "team_admin": "yes" }),
            "team_admin",
        ),
        (
            json!({ "username": "ada", "password": PASSWORD, "role": "x" }),
            "role",
        ),
    ];
    for (body, field) in cases {
        let refused = add(&api, "contoso", body.clone()).await;
        assert_problem(&refused, 422, "validation", Some(field));
    }
    let path = "/api/v1/tenants/contoso/admins/grace";
    let short = api.patch(path, json!({ "password": "short" })).await;
    assert_problem(&short, 422, "validation", Some("password"));
    let typed = api.patch(path, json!({ "team_admin": 1 })).await;
    assert_problem(&typed, 422, "validation", Some("team_admin"));
    let array = api.patch(path, json!([null, null])).await;
    assert_problem(&array, 422, "validation", None);
    let names: Vec<Value> = api.all("/api/v1/tenants/contoso/admins", 10).await;
    assert_eq!(names.len(), 1);
    assert_eq!(names[0]["username"], "grace");
}

async fn hostile_input_changes_nothing(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let nul_name = add(
        &api,
        "contoso",
        json!({ "username": "a\u{0}b", "password": PASSWORD }),
    )
    .await;
    assert_problem(&nul_name, 422, "validation", Some("username"));
    let nul_password = add(
        &api,
        "contoso",
        json!({ "username": "ab", "password": format!("{PASSWORD}\u{0}") }),
    )
    .await;
    assert_problem(&nul_password, 422, "validation", Some("password"));
    let huge = add(
        &api,
        "contoso",
        json!({ "username": "x".repeat(100_000), "password": PASSWORD }),
    )
    .await;
    assert_problem(&huge, 422, "validation", Some("username"));
    let long = add(
        &api,
        "contoso",
        json!({ "username": "x".repeat(1025), "password": PASSWORD }),
    )
    .await;
    assert_problem(&long, 422, "validation", Some("username"));
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let req = Request::post("/api/v1/tenants/contoso/admins")
        .header(header::AUTHORIZATION, format!("Bearer {}", api.key))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(deep))
        .unwrap();
    let nested = api.app.send(req).await;
    assert_problem(&nested, 400, "malformed-request", None);
    // serde would read a struct from an array; the API takes objects only
    let array = add(&api, "contoso", json!(["x", PASSWORD, true])).await;
    assert_eq!(array.status, 422, "{}", array.body);
    let array = api
        .call(
            Method::POST,
            "/api/v1/tenants/contoso/admins",
            Some(json!(["x", PASSWORD])),
        )
        .await;
    assert_problem(&array, 422, "validation", None);
    let nul_path = api.get("/api/v1/tenants/contoso/admins/a%00b").await;
    assert_problem(&nul_path, 404, "not-found", None);
    assert!(
        api.all("/api/v1/tenants/contoso/admins", 10)
            .await
            .is_empty()
    );
}

async fn admins_need_a_key_that_may_write_and_the_audit_trail_holds_no_password(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let reader = api
        .app
        .state
        .directory
        .add_operator_key("dashboard", true)
        .await
        .unwrap()
        .key;
    let path = "/api/v1/tenants/contoso/admins";
    let body = json!({ "username": "grace", "password": PASSWORD, "team_admin": true });
    let nobody = api
        .call_with(Method::POST, path, Some(body.clone()), "scimd_op_nope", &[])
        .await;
    assert_problem(&nobody, 401, "unauthorized", None);
    let read_only = api
        .call_with(Method::POST, path, Some(body.clone()), &reader, &[])
        .await;
    assert_problem(&read_only, 403, "forbidden", None);
    assert!(api.all(path, 10).await.is_empty());
    assert_eq!(add(&api, "contoso", body).await.status, 201);
    let listed = api.call_with(Method::GET, path, None, &reader, &[]).await;
    assert_eq!(listed.status, 200);
    let second = "the second passphrase";
    api.patch(
        &format!("{path}/grace"),
        json!({ "password": second, "team_admin": false }),
    )
    .await;
    api.delete(&format!("{path}/grace")).await;
    let entries = api.all("/api/v1/audit?tenant=contoso", 100).await;
    let seen: Vec<(&str, &str, &str)> = entries
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("admin."))
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"]["kind"].as_str().unwrap(),
                e["target"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("admin.remove", "operator_key", "grace"),
            ("admin.set", "operator_key", "grace"),
            ("admin.password", "operator_key", "grace"),
            ("admin.add", "operator_key", "grace"),
        ]
    );
    let everything = Value::Array(api.all("/api/v1/audit", 1000).await).to_string();
    for secret in [PASSWORD, second, "argon2"] {
        assert!(!everything.contains(secret), "{secret} in {everything}");
    }
}
