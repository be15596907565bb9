//! Matching precedence (issue 26, item 4): a tenant lists several matching attributes in the
//! order of Entra's "Matching precedence", through the operator API; each is unique in the
//! tenant at once (a create, PUT or PATCH that repeats one is refused with 409 naming it),
//! Entra's lookup by each finds the user, a list over shared values is refused naming the
//! attribute and the users, and a hostile list is a clear 4xx.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

use super::patch_op;
use crate::operator_api::{Api, assert_problem};
use crate::support::{Backend, TOKEN, TestApp, TestResponse, encode, send};

const WORK: &str = "emails[type eq \"work\"].value";

/// Sets the default tenant's matching attributes through the operator API; the answer.
async fn set_list(api: &Api, list: Value) -> TestResponse {
    api.patch(
        "/api/v1/tenants/default",
        json!({ "matching_attributes": list }),
    )
    .await
}

/// The default tenant's matching attributes as the operator API shows them.
async fn listed(api: &Api) -> Value {
    let shown = api.get("/api/v1/tenants/default").await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(
        shown.body["matching_attribute"], shown.body["matching_attributes"][0],
        "the single field is precedence 1"
    );
    shown.body["matching_attributes"].clone()
}

fn user(name: &str, external_id: &str, email: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "externalId": external_id,
        "emails": [{"type": "work", "value": email, "primary": true}]
    })
}

/// Creates `body`; its id.
async fn created(app: &TestApp, body: Value) -> String {
    let answer = app.post("/scim/v2/Users", body).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body["id"].as_str().unwrap().to_owned()
}

/// Asserts 409 `uniqueness` whose detail names `attribute` and the value taken.
#[track_caller]
fn refused(answer: &TestResponse, attribute: &str, value: &str) {
    let detail = answer.assert_scim_error(409, Some("uniqueness"));
    assert!(
        detail.starts_with(&format!("a User with {attribute} '{value}' already exists")),
        "{detail}"
    );
    assert!(
        detail.contains(&format!("({attribute} is unique")),
        "{detail}"
    );
}

/// How the users' values are written in a PATCH: the path of `attribute` and its value.
fn patch_of(attribute: &str, value: &str) -> Value {
    patch_op(json!([{"op": "replace", "path": attribute, "value": value}]))
}

/// For one precedence, each listed attribute refuses a duplicate on create, PUT and PATCH,
/// and the refused user is stored as it was.
async fn each_refuses_a_duplicate(api: &Api, list: &[&str]) {
    let app = &api.app;
    let set = set_list(api, json!(list)).await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.body["matching_attributes"], json!(list));
    assert_eq!(set.body["matching_attribute"], list[0]);
    assert_eq!(listed(api).await, json!(list));
    let tag = list.join("-").len();
    let first = format!("ada{tag}");
    let (ext, mail) = (format!("E-{tag}"), format!("ada{tag}@contoso.com"));
    created(app, user(&first, &ext, &mail)).await;
    let other = format!("bob{tag}");
    let (other_ext, other_mail) = (format!("F-{tag}"), format!("bob{tag}@contoso.com"));
    let id = created(app, user(&other, &other_ext, &other_mail)).await;
    let path = format!("/scim/v2/Users/{id}");
    for &attribute in list {
        // the duplicate of one attribute only, the others distinct; the work email in
        // another letter case, as it compares
        let upper = mail.to_uppercase();
        let (name, e, m) = match attribute {
            "userName" => (first.to_uppercase(), "G", "g@x"),
            "externalId" => ("carl".to_owned(), ext.as_str(), "c@x"),
            _ => ("dora".to_owned(), "H", upper.as_str()),
        };
        // the value as sent: the error names it so
        let taken = match attribute {
            "userName" => name.clone(),
            "externalId" => e.to_owned(),
            _ => m.to_owned(),
        };
        let dup = app.post("/scim/v2/Users", user(&name, e, m)).await;
        refused(&dup, attribute, &taken);
        let put = app.put(&path, user(&name, e, m)).await;
        refused(&put, attribute, &taken);
        let patch = app
            .call(Method::PATCH, &path, Some(patch_of(attribute, &taken)))
            .await;
        refused(&patch, attribute, &taken);
    }
    let stored = app.get(&path).await.body;
    assert_eq!(
        (
            &stored["userName"],
            &stored["externalId"],
            &stored["emails"][0]["value"]
        ),
        (&json!(other), &json!(other_ext), &json!(other_mail)),
        "nothing of a refused write is stored"
    );
    assert_eq!(stored["meta"]["version"], "W/\"1\"");
}

async fn two_matching_attributes_each_refuse_a_duplicate_with_a_409_naming_the_attribute(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    each_refuses_a_duplicate(&api, &["userName", "externalId"]).await;
    each_refuses_a_duplicate(&api, &["externalId", WORK]).await;
}

async fn a_list_over_shared_values_is_refused_naming_the_attribute_and_users_and_changes_nothing(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    created(&api.app, user("ada", "E-1", "same@contoso.com")).await;
    created(&api.app, user("grace", "E-2", "Same@Contoso.com")).await;
    let refused = set_list(&api, json!(["externalId", WORK])).await;
    let detail = assert_problem(&refused, 409, "conflict", Some("emails.value"));
    assert!(
        detail.contains(&format!("users share values of {WORK}")),
        "{detail}"
    );
    assert!(
        detail.contains("ada") && detail.contains("grace"),
        "{detail}"
    );
    assert_eq!(listed(&api).await, json!(["userName"]));
    // externalId was not made unique either: the list is set whole or not at all
    created(&api.app, user("hedy", "E-1", "hedy@contoso.com")).await;
}

async fn removing_an_attribute_from_the_list_frees_its_values(backend: Backend) {
    let api = Api::new(backend).await;
    assert_eq!(
        set_list(&api, json!(["userName", "externalId", WORK]))
            .await
            .status,
        200
    );
    created(&api.app, user("ada", "E-1", "ada@contoso.com")).await;
    let dup = api
        .app
        .post("/scim/v2/Users", user("bob", "E-1", "bob@contoso.com"))
        .await;
    refused(&dup, "externalId", "E-1");
    let set = set_list(&api, json!([WORK, "userName"])).await;
    assert_eq!(set.body["matching_attributes"], json!([WORK, "userName"]));
    created(&api.app, user("bob", "E-1", "bob@contoso.com")).await;
    let dup = api
        .app
        .post("/scim/v2/Users", user("carl", "E-3", "ADA@contoso.com"))
        .await;
    refused(&dup, WORK, "ADA@contoso.com");
    // the old single field still sets a list of one
    let single = api
        .patch(
            "/api/v1/tenants/default",
            json!({ "matching_attribute": "userName" }),
        )
        .await;
    assert_eq!(single.body["matching_attributes"], json!(["userName"]));
    created(&api.app, user("carl", "E-3", "ADA@contoso.com")).await;
}

async fn the_lookups_by_each_matching_attribute_find_the_user(backend: Backend) {
    let api = Api::new(backend).await;
    set_list(&api, json!(["externalId", WORK, "userName"])).await;
    let id = created(&api.app, user("ada", "0aB-1", "Ada@Contoso.com")).await;
    created(&api.app, user("bob", "0ab-1", "bob@contoso.com")).await;
    for filter in [
        "externalId eq \"0aB-1\"",
        "emails[type eq \"work\"].value eq \"ada@contoso.COM\"",
        "userName eq \"ADA\"",
    ] {
        let found = api
            .app
            .get(&format!("/scim/v2/Users?filter={}", encode(filter)))
            .await;
        assert_eq!(found.status, 200, "{}", found.body);
        assert_eq!(found.body["totalResults"], 1, "{filter}: {}", found.body);
        assert_eq!(found.body["Resources"][0]["id"], id.as_str(), "{filter}");
    }
}

async fn hostile_lists_are_refused_with_clear_problems_and_change_nothing(backend: Backend) {
    let api = Api::new(backend).await;
    let huge: Vec<&str> = std::iter::repeat_n("userName", 20_000).collect();
    let unknowns: Vec<String> = (0..5_000).map(|i| format!("attribute{i}")).collect();
    let cases = [
        (
            json!({"matching_attributes": ["mail"]}),
            "is not a matching attribute",
        ),
        (json!({"matching_attributes": []}), "name at least one"),
        (
            json!({"matching_attributes": ["userName", "USERNAME"]}),
            "listed twice",
        ),
        (
            json!({"matching_attributes": ["user\u{0}Name"]}),
            "is not a matching attribute",
        ),
        (json!({"matching_attributes": huge}), "listed twice"),
        (
            json!({"matching_attributes": unknowns}),
            "is not a matching attribute",
        ),
        (
            json!({"matching_attributes": ["userName"], "matching_attribute": "userName"}),
            "not both",
        ),
        (
            json!({"matching_attribute": "x".repeat(100_000)}),
            "is not a matching attribute",
        ),
    ];
    for (body, says) in cases {
        let answer = api.patch("/api/v1/tenants/default", body).await;
        let field = answer.body["field"].as_str().map(str::to_owned);
        let detail = assert_problem(&answer, 422, "validation", field.as_deref());
        assert!(field.is_some_and(|f| f.starts_with("matching_attribute")));
        assert!(detail.contains(says), "{detail}");
        assert!(
            detail.len() < 400,
            "a short detail, whatever was sent: {detail}"
        );
    }
    for body in [
        json!({"matching_attributes": "userName"}),
        json!({"matching_attributes": [7]}),
    ] {
        let answer = api.patch("/api/v1/tenants/default", body.clone()).await;
        assert!(answer.status.is_client_error(), "{body}: {}", answer.status);
        assert_eq!(
            answer.header("content-type"),
            Some("application/problem+json")
        );
    }
    assert_eq!(listed(&api).await, json!(["userName"]));
    // null, like an absent field, leaves the list as it is
    let unchanged = api
        .patch(
            "/api/v1/tenants/default",
            json!({"matching_attributes": null}),
        )
        .await;
    assert_eq!(unchanged.status, 200, "{}", unchanged.body);
    assert_eq!(unchanged.body["matching_attributes"], json!(["userName"]));
}

async fn a_new_tenant_takes_the_list_and_a_bad_list_creates_no_tenant(backend: Backend) {
    let api = Api::new(backend).await;
    let made = api
        .post(
            "/api/v1/tenants",
            json!({"name": "contoso", "matching_attributes": ["externalId", "userName"]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(
        made.body["matching_attributes"],
        json!(["externalId", "userName"])
    );
    assert_eq!(made.body["matching_attribute"], "externalId");
    let shown = api.get("/api/v1/tenants/contoso").await;
    assert_eq!(shown.body, made.body, "what is stored is what was answered");
    let bad = api
        .post(
            "/api/v1/tenants",
            json!({"name": "fabrikam", "matching_attributes": ["externalId", "externalid"]}),
        )
        .await;
    assert_problem(&bad, 422, "validation", Some("matching_attributes"));
    assert_eq!(api.get("/api/v1/tenants/fabrikam").await.status, 404);
}

async fn parallel_creates_with_the_same_external_id_answer_one_201_and_409_for_the_rest(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    set_list(&api, json!(["userName", "externalId"])).await;
    let creates = (0..8).map(|i| {
        let router = api.app.router.clone();
        tokio::spawn(async move {
            let req = Request::builder()
                .method(Method::POST)
                .uri("/scim/v2/Users")
                .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
                .header(header::CONTENT_TYPE, "application/scim+json")
                .body(Body::from(
                    user(&format!("u{i}"), "SAME", &format!("u{i}@x.org")).to_string(),
                ))
                .unwrap();
            send(&router, req).await
        })
    });
    let mut statuses = Vec::new();
    for answer in futures_util::future::join_all(creates).await {
        let answer = answer.unwrap();
        if answer.status == 409 {
            refused(&answer, "externalId", "SAME");
        }
        statuses.push(answer.status.as_u16());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
    let found = api
        .app
        .get(&format!(
            "/scim/v2/Users?filter={}",
            encode("externalId eq \"SAME\"")
        ))
        .await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);
}

crate::on_both_stores!(
    two_matching_attributes_each_refuse_a_duplicate_with_a_409_naming_the_attribute,
    a_list_over_shared_values_is_refused_naming_the_attribute_and_users_and_changes_nothing,
    removing_an_attribute_from_the_list_frees_its_values,
    the_lookups_by_each_matching_attribute_find_the_user,
    hostile_lists_are_refused_with_clear_problems_and_change_nothing,
    a_new_tenant_takes_the_list_and_a_bad_list_creates_no_tenant,
    parallel_creates_with_the_same_external_id_answer_one_201_and_409_for_the_rest,
);
