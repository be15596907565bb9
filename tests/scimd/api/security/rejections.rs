//! Requests refused before their handler runs — a parameter or a form field sent twice, a form
//! sent as JSON, an id that is not UTF-8 once decoded — get the answer of their endpoint's
//! kind: a page from the Authorize endpoint and the console, a SCIM error from the SCIM API;
//! never axum's plain text. Found by the hostile run (`binary::hostile`).

use axum::body::Body;
use axum::http::{Method, Request, header};

use super::{PASSWORD, console_sign_in, proxied_app};
use crate::support::{Backend, TestApp, TestResponse};

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> TestResponse {
    let mut req = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    app.send(req.body(Body::from(body.to_owned())).unwrap())
        .await
}

#[track_caller]
fn assert_page(answer: &TestResponse, status: u16, what: &str) {
    assert_eq!(answer.status.as_u16(), status, "{what}: {}", answer.body);
    assert_eq!(
        answer.header("content-type"),
        Some("text/html; charset=utf-8"),
        "{what}: {}",
        answer.body
    );
    assert!(answer.body.as_str().unwrap().contains("<html"), "{what}");
}

async fn the_authorize_page_and_the_sign_in_form_refuse_a_parameter_twice_or_json_on_a_page(
    backend: Backend,
) {
    let app = proxied_app(backend).await;
    let twice = "/oauth/authorize?response_type=code&client_id=a&client_id=b";
    let page = send(&app, Method::GET, twice, &[], "").await;
    assert_page(&page, 400, "a parameter twice");
    assert!(
        page.body.as_str().unwrap().contains("duplicate field"),
        "{}",
        page.body
    );
    let form = [(
        header::CONTENT_TYPE.as_str(),
        "application/x-www-form-urlencoded",
    )];
    let json = [(header::CONTENT_TYPE.as_str(), "application/json")];
    let sign_in = send(&app, Method::POST, "/admin/sign-in", &json, "{}").await;
    assert_page(&sign_in, 415, "a sign-in sent as JSON");
    let doubled = "tenant=a&tenant=b&username=alice&password=x&csrf=y";
    let sign_in = send(&app, Method::POST, "/admin/sign-in", &form, doubled).await;
    assert_page(&sign_in, 422, "a field twice");
}

async fn the_console_refuses_forms_paths_and_queries_it_cannot_read_on_a_page_and_scim_with_a_scim_error(
    backend: Backend,
) {
    let app = proxied_app(backend).await;
    let signed = console_sign_in(&app, "192.0.2.5", ("default", "alice", PASSWORD)).await;
    let cookie = signed
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    let session = (header::COOKIE.as_str(), cookie);
    let json = (header::CONTENT_TYPE.as_str(), "application/json");
    let tokens = send(&app, Method::POST, "/admin/tokens", &[json, session], "{}").await;
    assert_page(&tokens, 415, "a console form sent as JSON");
    for (method, path) in [
        (Method::POST, "/admin/webhooks/%FF/pause"),
        (Method::GET, "/admin/cycles/%00"),
        (Method::GET, "/admin/users/%C0%80"),
        (Method::GET, "/admin/directory?filter=a&filter=b"),
    ] {
        let answer = send(&app, method, path, &[session], "").await;
        assert_page(&answer, 400, path);
    }
    for path in [
        "/scim/v2/Users/%FF",
        "/scim/v2/Groups/%C0%80",
        "/scim/v2/Schemas/%FF",
    ] {
        let answer = app.get(path).await;
        let detail = answer.assert_scim_error(400, None);
        assert!(
            detail.starts_with("the path could not be read"),
            "{path}: {detail}"
        );
    }
}

crate::on_both_stores!(
    the_authorize_page_and_the_sign_in_form_refuse_a_parameter_twice_or_json_on_a_page,
    the_console_refuses_forms_paths_and_queries_it_cannot_read_on_a_page_and_scim_with_a_scim_error,
);
