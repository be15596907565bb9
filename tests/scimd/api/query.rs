//! The query surface (RFC 7644 §3.4): filters, sorting, both paginations, projection and the
//! `.search` endpoints, as Entra and Microsoft's reference tests use them.

use serde_json::{Value, json};

use crate::support::{Backend, TestApp, TestResponse, encode, entra_user};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

pub(super) fn user_names(res: &TestResponse) -> Vec<String> {
    res.body["Resources"]
        .as_array()
        .unwrap_or_else(|| panic!("no Resources in {}", res.body))
        .iter()
        .map(|u| u["userName"].as_str().unwrap_or("<none>").to_owned())
        .collect()
}

/// Five users shaped like the ones of Microsoft's collection ("User tests with garbage").
pub(super) async fn seed(app: &TestApp) -> Vec<String> {
    let users = [
        json!({"userName": "OMalley", "name": {"familyName": "Employee"}, "title": "b", "emails": [{"value": "om@example.com", "type": "work"}]}),
        json!({"userName": "emp1", "name": {"familyName": "Employee"}, "title": "a", "emails": [{"value": "e1@example.org", "type": "work"}, {"value": "z@home.net", "type": "home", "primary": true}]}),
        json!({"userName": "emp2", "name": {"familyName": "Employee"}, "emails": [{"value": "e2@example.com", "type": "work"}]}),
        json!({"userName": "emp3", "name": {"familyName": "Employee"}, "title": "C", "emails": [{"value": "e3@other.net", "type": "work"}]}),
        json!({"userName": "enterprise", "name": {"familyName": "Boss"}, "emails": [{"value": "boss@example.com", "type": "work"}], ENTERPRISE: {"employeeNumber": "42"}}),
    ];
    let mut ids = Vec::new();
    for user in users {
        let res = app.post("/scim/v2/Users", user).await;
        assert_eq!(res.status.as_u16(), 201, "{}", res.body);
        ids.push(res.body["id"].as_str().unwrap().to_owned());
    }
    ids
}

async fn test_connection_probe_with_a_random_guid_gets_an_empty_list_response(backend: Backend) {
    let app = TestApp::new(backend).await;
    let res = app
        .get("/scim/v2/Users?filter=userName+eq+%226f3b0c0e-8c1d-4b9b-9a0e-2d6c1b2e7f10%22")
        .await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(
        res.body,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 0,
            "startIndex": 1,
            "itemsPerPage": 0,
            "Resources": [],
        })
    );
}

async fn user_name_eq_is_exact_but_case_insensitive(backend: Backend) {
    let app = TestApp::new(backend).await;
    app.post("/scim/v2/Users", entra_user("exampleName_1"))
        .await;
    let res = app
        .get("/scim/v2/Users?filter=userName%20eq%20%22exampleName%22")
        .await;
    assert_eq!(res.body["totalResults"], 0, "eq is not a prefix match");
    let res = app
        .get("/scim/v2/Users?filter=USERNAME+Eq+%22EXAMPLENAME_1%22&aadOptscim062020")
        .await;
    assert_eq!(user_names(&res), ["exampleName_1"]);
}

async fn entra_lookups_by_external_id_work_email_and_manager_precheck(backend: Backend) {
    let app = TestApp::new(backend).await;
    let manager = app
        .post("/scim/v2/Users", entra_user("manager@contoso.com"))
        .await;
    let manager_id = manager.body["id"].as_str().unwrap();
    let mut body = entra_user("report@contoso.com");
    body["externalId"] = json!("jyoung");
    body[ENTERPRISE] = json!({"manager": manager_id});
    let report = app.post("/scim/v2/Users", body).await;
    let report_id = report.body["id"].as_str().unwrap();

    let by_external = app.get("/scim/v2/Users?filter=externalId+eq+jyoung").await;
    assert_eq!(user_names(&by_external), ["report@contoso.com"]);
    let other_case = app
        .get("/scim/v2/Users?filter=externalId+eq+%22JYOUNG%22")
        .await;
    assert_eq!(
        other_case.body["totalResults"], 0,
        "externalId is caseExact"
    );

    let by_mail = app
        .get("/scim/v2/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22Report@Contoso.com@example.com%22")
        .await;
    assert_eq!(user_names(&by_mail), ["report@contoso.com"]);

    let precheck =
        format!("/scim/v2/Users?filter=id+eq+%22{report_id}%22+and+manager+eq+%22{manager_id}%22");
    assert_eq!(
        user_names(&app.get(&precheck).await),
        ["report@contoso.com"]
    );
    let reversed =
        format!("/scim/v2/Users?filter=manager+eq+%22{report_id}%22+and+id+eq+%22{report_id}%22");
    assert_eq!(app.get(&reversed).await.body["totalResults"], 0);
}

async fn microsoft_reference_filters_with_unquoted_values_count_as_the_collection_expects(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    seed(&app).await;
    let cases = [
        (
            "name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)",
            3,
        ),
        ("userName sw O", 1),
        ("meta.Created gt 2015-10-10T14:38:21.8617979-07:00", 5),
        ("DisplayName eq \"BobIsAmazing\"", 0),
        ("title pr", 3),
        ("not (title pr)", 2),
        ("title gt \"a\"", 2),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"42\"",
            1,
        ),
        (
            "schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"",
            1,
        ),
        ("emails[type eq \"home\" and primary eq true]", 1),
        (
            "meta.resourceType eq \"User\" and meta.lastModified le \"2999-01-01T00:00:00Z\"",
            5,
        ),
    ];
    for (filter, expected) in cases {
        let res = app
            .get(&format!("/scim/v2/Users?filter={}", encode(filter)))
            .await;
        assert_eq!(res.status.as_u16(), 200, "{filter}: {}", res.body);
        assert_eq!(res.body["totalResults"], expected, "{filter}");
    }
}

async fn invalid_filters_over_http_are_400_invalid_filter(backend: Backend) {
    let app = TestApp::new(backend).await;
    let cases = [
        (
            "userName regex \"x\"",
            "invalid filter: 'regex' is not a filter operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)",
        ),
        (
            "nickname.first eq \"x\"",
            "invalid filter: attribute 'nickname.first' is not defined for User",
        ),
        (
            "active lt true",
            "invalid filter: 'active' cannot be ordered: lt does not apply to it",
        ),
        ("", "invalid filter: the filter is empty"),
    ];
    for (filter, detail) in cases {
        let res = app
            .get(&format!("/scim/v2/Users?filter={}", encode(filter)))
            .await;
        assert_eq!(res.assert_scim_error(400, Some("invalidFilter")), detail);
    }
}

async fn sql_injection_through_filter_values_and_attribute_names_finds_nothing(backend: Backend) {
    let app = TestApp::new(backend).await;
    seed(&app).await;
    let values = [
        "x' or '1'='1",
        "'; drop table resources; --",
        "%",
        "_",
        "\\",
        "x\" or \"1\"=\"1",
    ];
    for value in values {
        for op in ["eq", "co", "sw", "ew", "gt"] {
            let filter = format!("userName {op} {}", Value::String(value.to_owned()));
            let res = app
                .get(&format!("/scim/v2/Users?filter={}", encode(&filter)))
                .await;
            assert_eq!(res.status.as_u16(), 200, "{filter}: {}", res.body);
            let expected = if op == "gt" {
                res.body["totalResults"].clone()
            } else {
                json!(0)
            };
            assert_eq!(res.body["totalResults"], expected, "{filter}");
        }
    }
    for path in [
        "userName\"; drop table resources; --",
        "name.'x'",
        "emails[value eq \"a\"]; select 1",
        "urn:x';--:userName",
    ] {
        let filter = format!("{path} eq \"a\"");
        let res = app
            .get(&format!("/scim/v2/Users?filter={}", encode(&filter)))
            .await;
        res.assert_scim_error(400, Some("invalidFilter"));
        let sorted = app
            .get(&format!("/scim/v2/Users?sortBy={}", encode(path)))
            .await;
        sorted.assert_scim_error(400, Some("invalidValue"));
    }
    assert_eq!(app.get("/scim/v2/Users").await.body["totalResults"], 5);
}

async fn value_path_lookups_follow_every_write(backend: Backend) {
    let app = TestApp::new(backend).await;
    let created = app.post("/scim/v2/Users", entra_user("follow")).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let by_mail = |mail: &str| {
        format!("/scim/v2/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22{mail}%22")
    };
    assert_eq!(
        app.get(&by_mail("follow@example.com")).await.body["totalResults"],
        1
    );
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "moved@example.com"}
    ]});
    let patched = app
        .call(
            axum::http::Method::PATCH,
            &format!("/scim/v2/Users/{id}"),
            Some(body),
        )
        .await;
    assert_eq!(patched.status.as_u16(), 200);
    assert_eq!(
        app.get(&by_mail("follow@example.com")).await.body["totalResults"],
        0
    );
    assert_eq!(
        app.get(&by_mail("MOVED@example.com")).await.body["totalResults"],
        1
    );
    let mut replaced = entra_user("follow");
    replaced["emails"] = json!([{"type": "work", "value": "put@example.com"}]);
    app.put(&format!("/scim/v2/Users/{id}"), replaced).await;
    assert_eq!(
        app.get(&by_mail("moved@example.com")).await.body["totalResults"],
        0
    );
    assert_eq!(
        app.get(&by_mail("put@example.com")).await.body["totalResults"],
        1
    );
    app.delete(&format!("/scim/v2/Users/{id}")).await;
    assert_eq!(
        app.get(&by_mail("put@example.com")).await.body["totalResults"],
        0
    );
}

crate::on_both_stores!(
    test_connection_probe_with_a_random_guid_gets_an_empty_list_response,
    user_name_eq_is_exact_but_case_insensitive,
    entra_lookups_by_external_id_work_email_and_manager_precheck,
    microsoft_reference_filters_with_unquoted_values_count_as_the_collection_expects,
    invalid_filters_over_http_are_400_invalid_filter,
    sql_injection_through_filter_values_and_attribute_names_finds_nothing,
    value_path_lookups_follow_every_write,
);
