//! Hostile requests at `/api/v1/tenants/{name}/setup-links`: NUL bytes, a huge or deeply nested
//! body, an `expires_in` out of range or not a string, ids that are not a link of the tenant,
//! and parallel makes and revokes of one link. Every answer is a problem or a success, never
//! a 5xx, and what is stored afterwards is what the successes said.

use std::sync::Arc;

use axum::http::Method;
use serde_json::{Value, json};

use super::setup_links::{LINKS, access, token_of};
use super::{Api, assert_problem};
use crate::support::Backend;
use scimd::service::setup::SetupAccess;

crate::on_both_stores!(
    an_expires_in_out_of_range_or_not_a_string_is_refused_naming_it_and_nothing_is_made,
    a_huge_deep_or_malformed_body_is_a_problem_and_nothing_is_made,
    an_id_that_is_not_a_link_of_the_tenant_is_not_found_and_revokes_nothing,
    parallel_makes_and_revokes_of_one_link_answer_2xx_or_404_and_the_list_agrees,
);

async fn an_expires_in_out_of_range_or_not_a_string_is_refused_naming_it_and_nothing_is_made(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let long = "9".repeat(10_000);
    for bad in [
        "7d\u{0}",
        "\u{0}",
        "7\u{0}d",
        "",
        "0d",
        "59m",
        "31d",
        "721h",
        "07d",
        "7 d",
        "7D",
        "-1d",
        "7w",
        "d",
        "1.5d",
        "\u{0667}d",
        "7dé",
        &long,
    ] {
        let refused = api.post(LINKS, json!({ "expires_in": bad })).await;
        let detail = assert_problem(&refused, 422, "validation", Some("expires_in"));
        assert!(detail.contains("between 1h and 30d"), "{bad:?}: {detail}");
        assert!(detail.len() < 300, "{detail}");
    }
    for bad in [
        json!(7),
        json!(true),
        json!(["7d"]),
        json!({ "d": 7 }),
        json!(7.5),
    ] {
        let refused = api.post(LINKS, json!({ "expires_in": bad })).await;
        assert_problem(&refused, 422, "validation", Some("expires_in"));
    }
    let unknown = api.post(LINKS, json!({ "expires": "7d" })).await;
    let detail = assert_problem(&unknown, 422, "validation", Some("expires"));
    assert!(detail.contains("expected `expires_in`"), "{detail}");
    // the bounds themselves are valid
    for good in ["1h", "60m", "30d", "720h"] {
        let made = api.post(LINKS, json!({ "expires_in": good })).await;
        assert_eq!(made.status, 201, "{good}: {}", made.body);
    }
    assert_eq!(api.all(LINKS, 100).await.len(), 4);
}

async fn a_huge_deep_or_malformed_body_is_a_problem_and_nothing_is_made(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let key = api.key.clone();
    let send = |body: String, content_type: &'static str| {
        let api = &api;
        let key = key.clone();
        async move {
            let req = axum::http::Request::post(LINKS)
                .header("authorization", format!("Bearer {key}"))
                .header("content-type", content_type)
                .body(axum::body::Body::from(body))
                .unwrap();
            api.app.send(req).await
        }
    };
    let huge = format!("{{\"expires_in\": \"{}\"}}", "7".repeat(2 * 1024 * 1024));
    let refused = send(huge, "application/json").await;
    assert_problem(&refused, 413, "payload-too-large", None);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_problem(
        &send(deep, "application/json").await,
        400,
        "malformed-request",
        None,
    );
    let deep_object = format!(
        "{{\"expires_in\": {}{}}}",
        "{\"a\":".repeat(50_000),
        "}".repeat(50_000)
    );
    // refused at the first brace, where a string was expected, before any recursion
    let refused = send(deep_object, "application/json").await;
    assert_problem(&refused, 422, "validation", Some("expires_in"));
    for (body, status, kind) in [
        ("{\"expires_in\": \"7d\"", 400, "malformed-request"),
        ("{\"expires_in\": \"7d\"} {}", 400, "malformed-request"),
        ("[]", 422, "validation"),
        ("\"7d\"", 422, "validation"),
        ("{\"expires_in\": \"7d\u{0}\"}", 400, "malformed-request"),
    ] {
        let refused = send(body.to_owned(), "application/json").await;
        assert_problem(
            &refused,
            status,
            kind,
            refused.body.get("field").and_then(Value::as_str),
        );
    }
    let form = send(
        "expires_in=7d".to_owned(),
        "application/x-www-form-urlencoded",
    )
    .await;
    assert_problem(&form, 415, "unsupported-media-type", None);
    assert_eq!(api.all(LINKS, 100).await, Vec::<Value>::new());
}

async fn an_id_that_is_not_a_link_of_the_tenant_is_not_found_and_revokes_nothing(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    api.tenant("fabrikam").await;
    let ours = api.post(LINKS, json!({})).await.body;
    let theirs = api
        .post("/api/v1/tenants/fabrikam/setup-links", json!({}))
        .await
        .body;
    let their_id = theirs["id"].as_str().unwrap();
    let our_id = ours["id"].as_str().unwrap();
    let refused = api.delete(&format!("{LINKS}/{their_id}")).await;
    let detail = assert_problem(&refused, 404, "not-found", None);
    assert!(detail.contains("contoso"), "{detail}");
    for bad in [
        "%00".to_owned(),
        format!("{our_id}%00"),
        format!("%00{our_id}"),
        "not-a-uuid".to_owned(),
        "00000000-0000-0000-0000-000000000000".to_owned(),
        "x".repeat(5000),
    ] {
        let refused = api.delete(&format!("{LINKS}/{bad}")).await;
        assert_problem(&refused, 404, "not-found", None);
    }
    for tenant in ["nobody", "contoso%00", "%00"] {
        let refused = api
            .delete(&format!("/api/v1/tenants/{tenant}/setup-links/{our_id}"))
            .await;
        assert_problem(&refused, 404, "not-found", None);
    }
    for (list, made) in [
        (LINKS, &ours),
        ("/api/v1/tenants/fabrikam/setup-links", &theirs),
    ] {
        let listed = api.all(list, 10).await;
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (&listed[0]["id"], &listed[0]["state"]),
            (&made["id"], &json!("active"))
        );
        let token = token_of(made["url"].as_str().unwrap());
        assert!(matches!(access(&api, token).await, SetupAccess::Open(_)));
    }
}

async fn parallel_makes_and_revokes_of_one_link_answer_2xx_or_404_and_the_list_agrees(
    backend: Backend,
) {
    let api = Arc::new(Api::new(backend).await);
    api.tenant("contoso").await;
    let victim = api.post(LINKS, json!({})).await.body;
    let victim_path = format!("{LINKS}/{}", victim["id"].as_str().unwrap());
    let mut tasks = Vec::new();
    for i in 0..16 {
        let api = api.clone();
        let path = victim_path.clone();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                (
                    Method::POST,
                    api.post(LINKS, json!({ "expires_in": "1d" })).await,
                )
            } else {
                (Method::DELETE, api.delete(&path).await)
            }
        }));
    }
    let mut made = Vec::new();
    for task in tasks {
        let (method, answer) = task.await.unwrap();
        let status = answer.status.as_u16();
        assert!(
            matches!(status, 201 | 204 | 404),
            "{method} {status}: {}",
            answer.body
        );
        // the link exists throughout: every revoke finds it, every make makes one
        let expected = if method == Method::POST { 201 } else { 204 };
        assert_eq!(status, expected, "{method}: {}", answer.body);
        if status == 201 {
            made.push(answer.body["id"].clone());
        }
    }
    assert_eq!(made.len(), 8);
    let listed = api.all(LINKS, 5).await;
    assert_eq!(listed.len(), 9);
    for link in &listed {
        let expected = if link["id"] == victim["id"] {
            "revoked"
        } else {
            "active"
        };
        assert_eq!(link["state"], expected, "{link}");
        assert!(
            link["id"] == victim["id"] || made.contains(&link["id"]),
            "{link}"
        );
    }
    let token = token_of(victim["url"].as_str().unwrap());
    assert_eq!(
        access(&api, token).await,
        SetupAccess::Gone { state: "revoked" }
    );
}
