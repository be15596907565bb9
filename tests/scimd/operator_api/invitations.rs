//! Invitations of admins added over the API without a password: the link is shown once, the
//! person opens it in a browser (real form posts with the CSRF token), sets a password and
//! signs in to the console with it; a used, expired, replaced or unknown link answers a page
//! that names no tenant; console changes are audited as the console admin.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

use super::admins::console_sign_in;
use super::{Api, assert_problem};
use crate::api::oauth::{field, text};
use crate::support::{Backend, TestResponse, cookie_pair};

crate::on_both_stores!(
    an_invited_admin_sets_a_password_in_the_browser_and_signs_in_with_it,
    a_used_replaced_expired_or_unknown_invitation_answers_a_page_naming_no_tenant,
    an_invitation_form_needs_its_csrf_token_and_a_valid_password_and_stays_usable,
    an_invitation_link_is_shown_once_and_never_in_the_audit_trail,
    a_change_made_in_the_console_is_audited_as_the_console_admin,
);

const PASSWORD: &str = "my own long passphrase";

/// The path of an invitation URL (`http://host/admin/invitation/…` → `/admin/invitation/…`).
fn path_of(url: &str) -> String {
    let at = url.find("/admin/invitation/").expect(url);
    url[at..].to_owned()
}

async fn open(api: &Api, path: &str) -> TestResponse {
    api.app
        .send(Request::get(path).body(Body::empty()).unwrap())
        .await
}

/// Opens the link and posts its form with the CSRF token and cookie it gave.
async fn accept(api: &Api, path: &str, password: &str, confirm: &str) -> TestResponse {
    let page = open(api, path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = field(&page, "csrf").expect("the form's CSRF token");
    let cookie = cookie_pair(page.header("set-cookie").unwrap());
    let body = serde_urlencoded::to_string([
        ("csrf", csrf.as_str()),
        ("password", password),
        ("confirm", confirm),
    ])
    .unwrap();
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .unwrap();
    api.app.send(req).await
}

async fn invite(api: &Api, username: &str, body: Value) -> TestResponse {
    let mut body = body;
    body["username"] = json!(username);
    api.post("/api/v1/tenants/contoso/admins", body).await
}

async fn an_invited_admin_sets_a_password_in_the_browser_and_signs_in_with_it(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let added = invite(&api, "grace", json!({ "team_admin": true })).await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(
        added.header("location"),
        Some("/api/v1/tenants/contoso/admins/grace")
    );
    let url = added.body["invitation_url"].as_str().unwrap().to_owned();
    assert!(url.contains("/admin/invitation/scimd_inv_"), "{url}");
    let created = added.body["created"].as_str().unwrap();
    let expires = added.body["invitation_expires"].as_str().unwrap();
    let (created, expires) = (
        chrono::DateTime::parse_from_rfc3339(created).unwrap(),
        chrono::DateTime::parse_from_rfc3339(expires).unwrap(),
    );
    let days = (expires - created).num_hours();
    assert!((167..=168).contains(&days), "{days} hours");
    assert_eq!(added.body["team_admin"], true);
    // no password works before the invitation is used
    let before = console_sign_in(&api, "contoso", "grace", "!invited").await;
    assert_eq!(before.status, 401);

    let path = path_of(&url);
    let page = open(&api, &path).await;
    assert_eq!(page.status, 200);
    let shown = text(&page);
    assert!(
        shown.contains("contoso") && shown.contains("grace"),
        "{shown}"
    );
    assert!(!shown.contains("<script"), "{shown}");
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    let done = accept(&api, &path, PASSWORD, PASSWORD).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let shown = text(&done);
    assert!(shown.contains("Your password is set"), "{shown}");
    assert!(shown.contains("href=\"/admin\""), "{shown}");
    let signed = console_sign_in(&api, "contoso", "grace", PASSWORD).await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    assert_eq!(open(&api, &path).await.status, 410);
}

async fn a_used_replaced_expired_or_unknown_invitation_answers_a_page_naming_no_tenant(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let first = invite(&api, "grace", json!({ "expires_in": "2h" })).await;
    let old = path_of(first.body["invitation_url"].as_str().unwrap());
    let again = api
        .call(
            Method::POST,
            "/api/v1/tenants/contoso/admins/grace/invitation",
            None,
        )
        .await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body["username"], "grace");
    let new = path_of(again.body["invitation_url"].as_str().unwrap());
    assert_ne!(old, new);
    let replaced = open(&api, &old).await;
    assert_eq!(replaced.status, 404);
    for page in [
        &replaced,
        &open(&api, "/admin/invitation/scimd_inv_made-up").await,
    ] {
        let shown = text(page);
        assert!(shown.contains("Ask the application's team"), "{shown}");
        assert!(
            !shown.contains("contoso") && !shown.contains("grace"),
            "{shown}"
        );
    }
    assert_eq!(open(&api, "/admin/invitation/a%00b").await.status, 404);
    assert_eq!(
        open(&api, &format!("/admin/invitation/{}", "x".repeat(5000)))
            .await
            .status,
        404
    );

    let short = api
        .post(
            "/api/v1/tenants/contoso/admins/grace/invitation",
            json!({ "expires_in": "1h" }),
        )
        .await;
    let short = path_of(short.body["invitation_url"].as_str().unwrap());
    let clock = api.app.state.directory.clock();
    clock.set(clock.now() + chrono::TimeDelta::minutes(61));
    let expired = open(&api, &short).await;
    assert_eq!(expired.status, 410);
    let shown = text(&expired);
    assert!(shown.contains("Ask the application's team"), "{shown}");
    assert!(
        !shown.contains("contoso") && !shown.contains("grace"),
        "{shown}"
    );
    let post = Request::post(&short)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(
            "csrf=x&password=a+long+enough+one&confirm=a+long+enough+one",
        ))
        .unwrap();
    assert_eq!(api.app.send(post).await.status, 410);

    let removed = invite(&api, "heidi", json!({})).await;
    let link = path_of(removed.body["invitation_url"].as_str().unwrap());
    api.delete("/api/v1/tenants/contoso/admins/heidi").await;
    assert_eq!(open(&api, &link).await.status, 404);

    for bad in ["0h", "31d", "soon", " 3d", "03d", ""] {
        let refused = invite(&api, "ivan", json!({ "expires_in": bad })).await;
        assert_problem(&refused, 422, "validation", Some("expires_in"));
    }
    let both = invite(
        &api,
        "ivan",
        json!({ "password": PASSWORD, "expires_in": "1d" }),
    )
    .await;
    // with a password there is no invitation, and its validity is not used
    assert_eq!(both.status, 201, "{}", both.body);
    assert!(both.body.get("invitation_url").is_none(), "{}", both.body);
    let array = api
        .call(
            Method::POST,
            "/api/v1/tenants/contoso/admins/grace/invitation",
            Some(json!(["3d"])),
        )
        .await;
    assert_problem(&array, 422, "validation", None);
    let nobody = api
        .call(
            Method::POST,
            "/api/v1/tenants/contoso/admins/nobody/invitation",
            None,
        )
        .await;
    assert_problem(&nobody, 404, "not-found", None);
    let names: Vec<Value> = api.all("/api/v1/tenants/contoso/admins", 10).await;
    assert_eq!(names.len(), 2, "{names:?}");
}

async fn an_invitation_form_needs_its_csrf_token_and_a_valid_password_and_stays_usable(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let added = invite(&api, "grace", json!({ "team_admin": true })).await;
    let path = path_of(added.body["invitation_url"].as_str().unwrap());
    let forged = Request::post(&path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, "scimd_login=forged")
        .body(Body::from(format!(
            "csrf=other&password={0}&confirm={0}",
            PASSWORD.replace(' ', "+")
        )))
        .unwrap();
    assert_eq!(api.app.send(forged).await.status, 403);
    let short = accept(&api, &path, "short", "short").await;
    assert_eq!(short.status, 422);
    assert!(text(&short).contains("at least 12 characters"));
    let differ = accept(&api, &path, PASSWORD, "something else entirely").await;
    assert_eq!(differ.status, 422);
    let nul = accept(
        &api,
        &path,
        "a long password\0 here",
        "a long password\0 here",
    )
    .await;
    assert_eq!(nul.status, 422);
    for password in [PASSWORD, "short", "something else entirely"] {
        let refused = console_sign_in(&api, "contoso", "grace", password).await;
        assert_eq!(refused.status, 401);
    }
    let done = accept(&api, &path, PASSWORD, PASSWORD).await;
    assert_eq!(done.status, 200);
    assert_eq!(
        console_sign_in(&api, "contoso", "grace", PASSWORD)
            .await
            .status,
        303
    );
}

async fn an_invitation_link_is_shown_once_and_never_in_the_audit_trail(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let key = [("idempotency-key", "invite-grace-1")];
    let body = Some(json!({ "username": "grace", "team_admin": true }));
    let path = "/api/v1/tenants/contoso/admins";
    let first = api
        .call_with(Method::POST, path, body.clone(), &api.key.clone(), &key)
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let url = first.body["invitation_url"].as_str().unwrap().to_owned();
    let retry = api
        .call_with(Method::POST, path, body, &api.key.clone(), &key)
        .await;
    assert_problem(&retry, 409, "secret-not-repeated", Some("Idempotency-Key"));
    assert_eq!(retry.body["resource"]["username"], "grace");
    assert!(!retry.body.to_string().contains(&url));
    let again_path = "/api/v1/tenants/contoso/admins/grace/invitation";
    let key = [("idempotency-key", "reinvite-grace-1")];
    let again = api
        .call_with(Method::POST, again_path, None, &api.key.clone(), &key)
        .await;
    let second = again.body["invitation_url"].as_str().unwrap().to_owned();
    let retry = api
        .call_with(Method::POST, again_path, None, &api.key.clone(), &key)
        .await;
    assert_problem(&retry, 409, "secret-not-repeated", Some("Idempotency-Key"));
    assert!(!retry.body.to_string().contains(&second));
    assert_eq!(
        accept(&api, &path_of(&second), PASSWORD, PASSWORD)
            .await
            .status,
        200
    );

    let entries = api.all("/api/v1/audit?tenant=contoso", 100).await;
    let actions: Vec<(&str, &str, &str)> = entries
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("admin."))
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"]["kind"].as_str().unwrap(),
                e["actor"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    // the invitation is used by the person it was for, in the console
    assert_eq!(
        actions,
        [
            ("admin.invitation_used", "console", "contoso/grace"),
            ("admin.invite", "operator_key", "backend"),
            ("admin.invite", "operator_key", "backend"),
            ("admin.add", "operator_key", "backend"),
        ]
    );
    let everything = Value::Array(api.all("/api/v1/audit", 1000).await).to_string();
    for secret in [&url, &second] {
        let token = secret.rsplit('/').next().unwrap();
        assert!(!everything.contains(token), "{token} in {everything}");
    }
    assert!(!everything.contains(PASSWORD));
}

async fn a_change_made_in_the_console_is_audited_as_the_console_admin(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let added = api
        .post(
            "/api/v1/tenants/contoso/admins",
            json!({ "username": "grace", "password": PASSWORD, "team_admin": true }),
        )
        .await;
    assert_eq!(added.status, 201);
    let signed = console_sign_in(&api, "contoso", "grace", PASSWORD).await;
    let session = cookie_pair(signed.header("set-cookie").unwrap());
    let overview = api
        .app
        .send(
            Request::get("/admin/connection")
                .header(header::COOKIE, &session)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let csrf = field(&overview, "csrf").unwrap();
    let issue = Request::post("/admin/tokens")
        .header(header::COOKIE, &session)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={csrf}&label=from-console")))
        .unwrap();
    let issued = api.app.send(issue).await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    let entries = api.all("/api/v1/audit?tenant=contoso", 100).await;
    let newest = &entries[0];
    assert_eq!(newest["action"], "token.issue", "{newest}");
    assert_eq!(newest["actor"]["kind"], "console", "{newest}");
    assert_eq!(newest["actor"]["name"], "contoso/grace", "{newest}");
}
