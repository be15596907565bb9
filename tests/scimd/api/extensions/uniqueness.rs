//! `uniqueness: server` on an extension attribute: kept by a unique index of the tenant, so a
//! repeated value — ignoring case when `caseExact` is false — is 409 `uniqueness` naming the
//! attribute and the value, whether it comes by POST, PUT or PATCH, and under parallel
//! creates exactly one wins; a schema whose values already repeat is not registered.

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::{Value, json};

use scimd::scim::schema::ResourceKind;

use super::{
    CONTOSO, add, attr, call_as, contoso_schema, count, created, patch, refused, register,
    tenant_with_token, user,
};
use crate::support::{Backend, TOKEN, TestApp};

fn cost_center(name: &str, value: &str) -> Value {
    user(name, Some(json!({"costCenter": value})))
}

/// The 409 of a repeated costCenter, as the client sent it.
fn taken(value: &str) -> String {
    format!(
        "a User with {} '{value}' already exists (costCenter is unique in the tenant)",
        attr("costCenter")
    )
}

async fn a_repeated_unique_value_is_refused_ignoring_case_by_post_put_and_patch(backend: Backend) {
    let app = TestApp::new(backend).await;
    register(&app).await;
    let (first, _) = created(&app, "Users", cost_center("first", "CC-1")).await;

    let dup = app
        .post("/scim/v2/Users", cost_center("second", "cc-1"))
        .await;
    assert_eq!(
        dup.assert_scim_error(409, Some("uniqueness")),
        taken("cc-1")
    );
    let dup = app
        .post(
            "/scim/v2/Users",
            json!({"userName": "second", attr("costCenter"): "CC-1"}),
        )
        .await;
    assert_eq!(
        dup.assert_scim_error(409, Some("uniqueness")),
        taken("CC-1")
    );
    assert_eq!(count(&app, "Users", "userName eq \"second\"").await, 0);

    // users without a value never conflict
    created(&app, "Users", user("none-1", None)).await;
    created(&app, "Users", user("none-2", Some(json!({"badge": 1})))).await;

    let (second, before) = created(&app, "Users", cost_center("second", "CC-2")).await;
    let put = app.put(&second, cost_center("second", "Cc-1")).await;
    assert_eq!(
        put.assert_scim_error(409, Some("uniqueness")),
        taken("Cc-1")
    );
    let patched = patch(
        &app,
        &second,
        json!([{"op": "Replace", "path": attr("costCenter"), "value": "cC-1"}]),
    )
    .await;
    assert_eq!(
        patched.assert_scim_error(409, Some("uniqueness")),
        taken("cC-1")
    );
    let patched = patch(
        &app,
        &second,
        json!([{"op": "add", "path": CONTOSO, "value": {"costCenter": "CC-1"}}]),
    )
    .await;
    assert_eq!(
        patched.assert_scim_error(409, Some("uniqueness")),
        taken("CC-1")
    );
    assert_eq!(app.get(&second).await.body, before, "nothing was written");
    // the same value under another case for its own user is no conflict
    let own = patch(
        &app,
        &first,
        json!([{"op": "replace", "path": attr("costCenter"), "value": "cc-1"}]),
    )
    .await;
    assert_eq!(own.status.as_u16(), 200, "{}", own.body);
    assert_eq!(own.body[CONTOSO]["costCenter"], "cc-1");

    // a value freed by a change or a delete can be taken
    let moved = patch(
        &app,
        &first,
        json!([{"op": "replace", "path": attr("costCenter"), "value": "CC-3"}]),
    )
    .await;
    assert_eq!(moved.status.as_u16(), 200, "{}", moved.body);
    let taken_over = app.put(&second, cost_center("second", "CC-1")).await;
    assert_eq!(taken_over.status.as_u16(), 200, "{}", taken_over.body);
    assert_eq!(app.delete(&first).await.status.as_u16(), 204);
    created(&app, "Users", cost_center("third", "cc-3")).await;

    // unique in the tenant: another tenant with the same extension keeps its own values
    let token = tenant_with_token(&app, "fabrikam").await;
    add(&app, "fabrikam", ResourceKind::User, &contoso_schema()).await;
    let theirs = call_as(
        &app,
        &token,
        axum::http::Method::POST,
        "/scim/v2/Users",
        Some(cost_center("second", "CC-1")),
    )
    .await;
    assert_eq!(theirs.status.as_u16(), 201, "{}", theirs.body);
}

async fn parallel_creates_with_one_unique_value_make_exactly_one_user(backend: Backend) {
    let app = TestApp::new(backend).await;
    register(&app).await;
    let posts: Vec<_> = (0..8)
        .map(|i| {
            let router = app.router.clone();
            let body = cost_center(
                &format!("racer-{i}"),
                if i % 2 == 0 { "RACE" } else { "race" },
            );
            tokio::spawn(async move {
                let req = Request::post("/scim/v2/Users")
                    .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
                    .header(header::CONTENT_TYPE, "application/scim+json")
                    .body(Body::from(body.to_string()))
                    .unwrap();
                crate::support::send(&router, req).await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for post in posts {
        let res = post.await.unwrap();
        if res.status.as_u16() == 409 {
            let detail = res.assert_scim_error(409, Some("uniqueness"));
            assert!(detail.contains(&attr("costCenter")), "{detail}");
        }
        statuses.push(res.status.as_u16());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
    assert_eq!(
        count(
            &app,
            "Users",
            &format!("{} eq \"race\"", attr("costCenter"))
        )
        .await,
        1
    );
    assert_eq!(count(&app, "Users", "userName sw \"racer-\"").await, 1);
}

async fn a_schema_whose_unique_attribute_already_repeats_is_refused_and_nothing_is_registered(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    // the same extension without the uniqueness rule, values repeating ignoring case
    let mut lenient = contoso_schema();
    lenient["attributes"][0]["uniqueness"] = json!("none");
    add(&app, "default", ResourceKind::User, &lenient).await;
    created(&app, "Users", cost_center("a", "CC-1")).await;
    created(&app, "Users", cost_center("b", "cc-1")).await;
    created(&app, "Users", cost_center("c", "CC-2")).await;
    dir.remove_schema("default", CONTOSO).await.unwrap();

    let reason = refused(&app, "default", ResourceKind::User, &contoso_schema()).await;
    assert_eq!(
        reason,
        "costCenter is to be unique, but resources of tenant default already share values of \
         it; make them unique first"
    );
    assert!(dir.schemas_of("default").await.unwrap().is_empty());
    app.get(&format!("/scim/v2/Schemas/{CONTOSO}"))
        .await
        .assert_scim_error(404, None);
    let body = app.post("/scim/v2/Users", cost_center("d", "CC-9")).await;
    assert_eq!(body.status.as_u16(), 201, "{}", body.body);
    assert!(
        body.body.get(CONTOSO).is_none(),
        "not registered: {}",
        body.body
    );

    // no unique index was left behind: the lenient schema still takes repeated values
    add(&app, "default", ResourceKind::User, &lenient).await;
    created(&app, "Users", cost_center("e", "CC-2")).await;
    assert_eq!(
        count(
            &app,
            "Users",
            &format!("{} eq \"cc-1\"", attr("costCenter"))
        )
        .await,
        2
    );

    // once the values are unique the rule can be registered, and holds
    dir.remove_schema("default", CONTOSO).await.unwrap();
    let rejected = refused(&app, "default", ResourceKind::User, &contoso_schema()).await;
    assert!(
        rejected.contains("costCenter is to be unique"),
        "{rejected}"
    );
    add(&app, "default", ResourceKind::User, &lenient).await;
    for (name, value) in [("b", "CC-1b"), ("e", "CC-2e")] {
        let found = app
            .get(&format!(
                "/scim/v2/Users?filter={}",
                crate::support::encode(&format!("userName eq \"{name}\""))
            ))
            .await;
        let path = format!(
            "/scim/v2/Users/{}",
            found.body["Resources"][0]["id"].as_str().unwrap()
        );
        let res = patch(
            &app,
            &path,
            json!([{"op": "replace", "path": attr("costCenter"), "value": value}]),
        )
        .await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.body);
    }
    dir.remove_schema("default", CONTOSO).await.unwrap();
    register(&app).await;
    let dup = app.post("/scim/v2/Users", cost_center("f", "cc-2")).await;
    assert_eq!(
        dup.assert_scim_error(409, Some("uniqueness")),
        taken("cc-2")
    );
}

async fn unique_integer_and_case_exact_reference_attributes_with_any_attrname_are_kept_unique(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let urn = "urn:ietf:params:scim:schemas:extension:fabrikam-corp:2.0:User";
    add(
        &app,
        "default",
        ResourceKind::User,
        &json!({
            "id": urn,
            "name": "Fabrikam",
            "attributes": [
                {"name": "employee-id", "type": "integer", "uniqueness": "global"},
                {"name": "desk_ref", "type": "reference", "uniqueness": "server", "caseExact": true,
                 "referenceTypes": ["external"]}
            ]
        }),
    )
    .await;
    let body = |name: &str, id: i64, desk: &str| json!({"userName": name, urn: {"employee-id": id, "desk_ref": desk}});
    created(&app, "Users", body("a", 7, "https://desks.example/A1")).await;
    let dup = app
        .post("/scim/v2/Users", body("b", 7, "https://desks.example/B1"))
        .await;
    assert_eq!(
        dup.assert_scim_error(409, Some("uniqueness")),
        format!(
            "a User with {urn}:employee-id '7' already exists (employee-id is unique in the tenant)"
        )
    );
    // caseExact: another case is another value
    created(&app, "Users", body("b", 8, "https://desks.example/a1")).await;
    let dup = app
        .post("/scim/v2/Users", body("c", 9, "https://desks.example/A1"))
        .await;
    assert_eq!(
        dup.assert_scim_error(409, Some("uniqueness")),
        format!(
            "a User with {urn}:desk_ref 'https://desks.example/A1' already exists (desk_ref is \
             unique in the tenant)"
        )
    );
    assert_eq!(
        count(&app, "Users", &format!("{urn}:employee-id ge 8")).await,
        1
    );
    assert_eq!(
        count(
            &app,
            "Users",
            &format!("{urn}:desk_ref eq \"https://desks.example/a1\"")
        )
        .await,
        1
    );
    // removed and registered again: its indexes dropped and made again, holding as before
    let dir = &app.state.directory;
    let registered = dir.schemas_of("default").await.unwrap();
    dir.remove_schema("default", urn).await.unwrap();
    let again = serde_json::to_value(&registered[0].schema).unwrap();
    add(&app, "default", ResourceKind::User, &again).await;
    let dup = app
        .post("/scim/v2/Users", body("c", 8, "https://desks.example/C1"))
        .await;
    dup.assert_scim_error(409, Some("uniqueness"));
    created(&app, "Users", body("c", 9, "https://desks.example/C1")).await;
}

crate::on_both_stores!(
    a_repeated_unique_value_is_refused_ignoring_case_by_post_put_and_patch,
    parallel_creates_with_one_unique_value_make_exactly_one_user,
    a_schema_whose_unique_attribute_already_repeats_is_refused_and_nothing_is_registered,
    unique_integer_and_case_exact_reference_attributes_with_any_attrname_are_kept_unique,
);
