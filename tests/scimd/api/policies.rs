//! Per-tenant rules from the GoToMeeting tutorial: the matching attribute (unique, enforced by
//! the database) and the roles a user may or must carry.

use axum::http::Method;
use serde_json::{Value, json};

use scimd::domain::{MatchingAttribute, Precedence};
use scimd::service::PolicyChange;

use crate::support::{Backend, TestApp, encode};

fn with_roles(name: &str, roles: Value) -> Value {
    json!({"userName": name, "roles": roles})
}

async fn set(app: &TestApp, change: PolicyChange) -> Result<scimd::domain::Policy, String> {
    app.state
        .directory
        .set_policy("default", &change)
        .await
        .map_err(|e| e.to_string())
}

async fn matching_on_external_id_makes_it_unique_and_case_exact(backend: Backend) {
    let app = TestApp::new(backend).await;
    set(
        &app,
        PolicyChange {
            matching: Some(Precedence::single(MatchingAttribute::ExternalId)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        app.post(
            "/scim/v2/Users",
            json!({"userName": "a", "externalId": "E1"})
        )
        .await
        .status
        .as_u16(),
        201
    );
    let dup = app
        .post(
            "/scim/v2/Users",
            json!({"userName": "b", "externalId": "E1"}),
        )
        .await;
    assert_eq!(
        dup.assert_scim_error(409, Some("uniqueness")),
        "a User with externalId 'E1' already exists (externalId is unique)"
    );
    assert_eq!(
        app.post(
            "/scim/v2/Users",
            json!({"userName": "c", "externalId": "e1"})
        )
        .await
        .status
        .as_u16(),
        201
    );
    assert_eq!(
        app.post("/scim/v2/Users", json!({"userName": "d"}))
            .await
            .status
            .as_u16(),
        201,
        "no value, no conflict"
    );
    assert_eq!(
        app.post("/scim/v2/Users", json!({"userName": "e"}))
            .await
            .status
            .as_u16(),
        201
    );
    let lookup = app
        .get("/scim/v2/Users?filter=externalId+eq+%22E1%22")
        .await;
    assert_eq!(lookup.body["totalResults"], 1);
}

async fn matching_on_the_work_email_is_unique_case_insensitively_and_changing_it_reports_conflicts(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let work = |name: &str, mail: &str| json!({"userName": name, "emails": [{"type": "work", "value": mail}, {"type": "home", "value": "shared@home.net"}]});
    app.post("/scim/v2/Users", work("a", "A@contoso.com")).await;
    app.post("/scim/v2/Users", work("b", "a@CONTOSO.com")).await;
    app.post("/scim/v2/Users", work("c", "c@contoso.com")).await;
    let refused = set(
        &app,
        PolicyChange {
            matching: Some(Precedence::single(MatchingAttribute::WorkEmail)),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        refused.unwrap_err(),
        "users share values of emails[type eq \"work\"].value, which must be unique to match on it: 'a@contoso.com' is shared by a, b"
    );
    assert_eq!(
        app.state
            .directory
            .tenant("default")
            .await
            .unwrap()
            .policy
            .matching,
        Precedence::single(MatchingAttribute::UserName)
    );
    let b = app.get("/scim/v2/Users?filter=userName+eq+b").await.body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.delete(&format!("/scim/v2/Users/{b}"))
            .await
            .status
            .as_u16(),
        204
    );
    let policy = set(
        &app,
        PolicyChange {
            matching: Some(Precedence::single(MatchingAttribute::WorkEmail)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        policy.matching,
        Precedence::single(MatchingAttribute::WorkEmail)
    );
    let dup = app.post("/scim/v2/Users", work("d", "C@Contoso.com")).await;
    assert_eq!(
        dup.assert_scim_error(409, Some("uniqueness")),
        "a User with emails[type eq \"work\"].value 'C@Contoso.com' already exists (emails[type eq \"work\"].value is unique, case-insensitively)"
    );
    // taking a work e-mail another user has, by PATCH, is refused too
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "c@contoso.com"}
    ]});
    let a = app.get("/scim/v2/Users?filter=userName+eq+a").await.body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .call(Method::PATCH, &format!("/scim/v2/Users/{a}"), Some(body))
        .await;
    res.assert_scim_error(409, Some("uniqueness"));
}

async fn roles_outside_the_allowed_list_are_refused_naming_the_role(backend: Backend) {
    let app = TestApp::new(backend).await;
    let policy = set(
        &app,
        PolicyChange {
            allowed_roles: Some(Some(vec!["Organizer".into(), "Attendee".into()])),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        policy.allowed_roles.as_deref(),
        Some(&["Organizer".to_owned(), "Attendee".to_owned()][..])
    );
    let ok = app
        .post(
            "/scim/v2/Users",
            with_roles("a", json!([{"value": "organizer", "primary": true}])),
        )
        .await;
    assert_eq!(ok.status.as_u16(), 201, "{}", ok.body);
    let bad = app
        .post(
            "/scim/v2/Users",
            with_roles("b", json!([{"value": "Admin"}])),
        )
        .await;
    assert_eq!(
        bad.assert_scim_error(400, Some("invalidValue")),
        "roles: 'Admin' is not a role of this application (allowed: Organizer, Attendee)"
    );
    let id = ok.body["id"].as_str().unwrap();
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Add", "path": "roles", "value": [{"value": "{\"id\":\"1\",\"value\":\"Presenter\",\"displayName\":\"Presenter\"}"}]}
    ]});
    let patched = app
        .call(Method::PATCH, &format!("/scim/v2/Users/{id}"), Some(body))
        .await;
    patched.assert_scim_error(400, Some("invalidValue"));
    assert_eq!(
        app.get(&format!("/scim/v2/Users/{id}")).await.body["roles"],
        json!([{"value": "organizer", "primary": true}])
    );
}

async fn a_required_role_refuses_default_access_but_never_blocks_off_boarding(backend: Backend) {
    let app = TestApp::new(backend).await;
    let before = app
        .post("/scim/v2/Users", json!({"userName": "legacy"}))
        .await;
    let legacy = before.body["id"].as_str().unwrap().to_owned();
    set(
        &app,
        PolicyChange {
            require_role: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let refused = app
        .post("/scim/v2/Users", json!({"userName": "norole", "roles": []}))
        .await;
    assert_eq!(
        refused.assert_scim_error(400, Some("invalidValue")),
        "roles: this application requires a role; assign the user to the application in Microsoft Entra ID with one of its roles (the Default Access role is not provisioned)"
    );
    let ok = app
        .post(
            "/scim/v2/Users",
            with_roles("withrole", json!([{"value": "Attendee"}])),
        )
        .await;
    assert_eq!(ok.status.as_u16(), 201);
    let disable = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    let res = app
        .call(
            Method::PATCH,
            &format!("/scim/v2/Users/{legacy}"),
            Some(disable),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.body);
    assert_eq!(res.body["active"], false);
    set(
        &app,
        PolicyChange {
            require_role: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        app.post("/scim/v2/Users", json!({"userName": "free"}))
            .await
            .status
            .as_u16(),
        201
    );
}

async fn a_tenant_matched_on_the_work_email_finds_users_by_it_and_keeps_one_per_user(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let email = |kind: &str, mail: &str| json!({"type": kind, "value": mail});
    let user = |name: &str, emails: Value| json!({"userName": name, "emails": emails});
    let home = email("home", "shared@home.net");
    app.post(
        "/scim/v2/Users",
        user("a", json!([email("work", "A@Contoso.com"), home])),
    )
    .await;
    let b = app
        .post(
            "/scim/v2/Users",
            user(
                "b",
                json!([
                    email("work", "b1@contoso.com"),
                    email("work", "b2@contoso.com")
                ]),
            ),
        )
        .await;
    app.post(
        "/scim/v2/Users",
        user("c", json!([email("work", "c@contoso.com"), home])),
    )
    .await;
    let work_email = Some(Precedence::single(MatchingAttribute::WorkEmail));
    let switch = PolicyChange {
        matching: work_email,
        ..Default::default()
    };
    assert_eq!(
        set(&app, switch.clone()).await.unwrap_err(),
        "users hold several values of emails[type eq \"work\"].value, which must have one value per user to match on it: b"
    );
    let tenant = app.state.directory.tenant("default").await.unwrap();
    assert_eq!(
        tenant.policy.matching,
        Precedence::single(MatchingAttribute::UserName)
    );
    let b_url = format!("/scim/v2/Users/{}", b.body["id"].as_str().unwrap());
    let one = app
        .put(&b_url, user("b", json!([email("work", "b1@contoso.com")])))
        .await;
    assert_eq!(one.status.as_u16(), 200, "{}", one.body);
    assert_eq!(
        set(&app, switch).await.unwrap().matching,
        Precedence::single(MatchingAttribute::WorkEmail)
    );

    // Entra's lookup, any letter case, and the RFC's form; the key narrows, the filter decides
    let names = |filter: &'static str| {
        let app = &app;
        async move {
            let res = app
                .get(&format!("/scim/v2/Users?filter={}", encode(filter)))
                .await;
            assert_eq!(res.status.as_u16(), 200, "{filter}: {}", res.body);
            let names: Vec<String> = res.body["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["userName"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(res.body["totalResults"], names.len(), "{filter}");
            names
        }
    };
    assert_eq!(
        names("emails[type eq \"work\"].value eq \"a@CONTOSO.com\"").await,
        ["a"]
    );
    assert_eq!(
        names("emails[value eq \"c@contoso.com\" and type eq \"Work\"]").await,
        ["c"]
    );
    assert_eq!(
        names("emails[type eq \"work\"].value eq \"b1@contoso.com\"").await,
        ["b"]
    );
    assert!(
        names("emails[type eq \"work\"].value eq \"b2@contoso.com\"")
            .await
            .is_empty()
    );
    assert!(
        names("emails[type eq \"work\"].value eq \"shared@home.net\"")
            .await
            .is_empty()
    );
    let other_user = "emails[type eq \"work\"].value eq \"a@contoso.com\" and userName eq \"c\"";
    assert!(names(other_user).await.is_empty());
    assert_eq!(
        names("emails.value eq \"shared@home.net\"").await,
        ["a", "c"]
    );

    // a second work email is refused on every write, and nothing changes
    let two = json!([
        email("work", "d1@contoso.com"),
        email("Work", "d2@contoso.com")
    ]);
    let refused = app.post("/scim/v2/Users", user("d", two)).await;
    let detail = "emails: this application matches users on emails[type eq \"work\"].value, so a user has one work email, not 2";
    assert_eq!(refused.assert_scim_error(400, Some("invalidValue")), detail);
    assert!(names("userName eq \"d\"").await.is_empty());
    let before = app.get(&b_url).await.body;
    let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Add", "path": "emails", "value": [email("work", "b3@contoso.com")]}
    ]});
    let patched = app.call(Method::PATCH, &b_url, Some(add)).await;
    assert_eq!(patched.assert_scim_error(400, Some("invalidValue")), detail);
    assert_eq!(app.get(&b_url).await.body, before);
}

crate::on_both_stores!(
    matching_on_external_id_makes_it_unique_and_case_exact,
    matching_on_the_work_email_is_unique_case_insensitively_and_changing_it_reports_conflicts,
    a_tenant_matched_on_the_work_email_finds_users_by_it_and_keeps_one_per_user,
    roles_outside_the_allowed_list_are_refused_naming_the_role,
    a_required_role_refuses_default_access_but_never_blocks_off_boarding,
);
