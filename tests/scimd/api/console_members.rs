//! A group's page in the console shows its members a page of 50 at a time, read from the store
//! a page at a time (not the whole group), with links to the previous and next pages; every
//! console form is refused without its CSRF token.

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::json;

use super::security::{PASSWORD, console_sign_in, proxied_app};
use crate::api::oauth::text;
use crate::support::{Backend, cookie_pair};

async fn a_large_group_s_members_are_shown_fifty_at_a_time(backend: Backend) {
    let app = proxied_app(backend).await;
    let mut members = Vec::new();
    for n in 0..120 {
        let user = app
            .post(
                "/scim/v2/Users",
                json!({"userName": format!("member{n:03}")}),
            )
            .await;
        members.push(json!({"value": user.body["id"]}));
    }
    let group = app
        .post(
            "/scim/v2/Groups",
            json!({"displayName": "Everyone", "members": members}),
        )
        .await;
    let id = group.body["id"].as_str().unwrap().to_owned();
    let signed = console_sign_in(&app, "192.0.2.1", ("default", "alice", PASSWORD)).await;
    let cookie = cookie_pair(signed.header("set-cookie").unwrap());
    let page = |start: u64| {
        let req = Request::get(format!("/admin/groups/{id}?start={start}"))
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap();
        app.send(req)
    };
    let first = text(&page(0).await);
    assert!(
        first.contains(">member000<") && first.contains(">member049<"),
        "{first}"
    );
    assert!(!first.contains(">member050<"));
    assert!(first.contains(&format!("/admin/groups/{id}?start=50")));
    assert!(
        !first.contains("?start=0\""),
        "no previous page on the first"
    );
    let last = text(&page(100).await);
    assert!(
        last.contains(">member100<") && last.contains(">member119<"),
        "{last}"
    );
    assert!(!last.contains(">member099<"));
    assert!(
        last.contains(&format!("/admin/groups/{id}?start=50")),
        "previous"
    );
    assert!(!last.contains("?start=150"), "no next page on the last");
    // the group's own document is shown without its member list
    assert!(last.contains("Everyone"));
}

async fn every_console_form_is_refused_without_its_csrf_token(backend: Backend) {
    let app = proxied_app(backend).await;
    let signed = console_sign_in(&app, "192.0.2.1", ("default", "alice", PASSWORD)).await;
    let cookie = cookie_pair(signed.header("set-cookie").unwrap());
    let webhook = "00000000-0000-4000-8000-000000000000";
    for path in [
        "/admin/sign-out".to_owned(),
        "/admin/tokens".to_owned(),
        format!("/admin/tokens/{webhook}/revoke"),
        "/admin/clients".to_owned(),
        "/admin/clients/scimd-x/rotate".to_owned(),
        "/admin/clients/scimd-x/remove".to_owned(),
        format!("/admin/webhooks/{webhook}/pause"),
        format!("/admin/webhooks/{webhook}/resume"),
        format!("/admin/webhooks/{webhook}/test"),
        format!("/admin/webhooks/{webhook}/retry"),
    ] {
        for form in ["label=x", "csrf=forged&label=x"] {
            let req = Request::post(path.as_str())
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap();
            let answer = app.send(req).await;
            assert_eq!(answer.status, 403, "{path} with {form}");
            assert!(text(&answer).contains("Form refused"), "{path}");
        }
    }
    assert_eq!(
        app.state.directory.tokens("default").await.unwrap().len(),
        1,
        "only the bootstrap token"
    );
}

crate::on_both_stores!(
    a_large_group_s_members_are_shown_fifty_at_a_time,
    every_console_form_is_refused_without_its_csrf_token,
);
