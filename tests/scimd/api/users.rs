//! `/Users` CRUD and listing (RFC 7644 §3.3–3.6, RFC 7643 §4.1, §4.3).

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use crate::support::{Backend, TOKEN, TestApp, TestDb, entra_user};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

async fn create_read_replace_delete_round_trip_keeps_the_enterprise_extension(backend: Backend) {
    let app = TestApp::new(backend).await;

    let created = app
        .post("/scim/v2/Users", entra_user("bjensen@example.com"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.header("content-type"),
        Some("application/scim+json")
    );
    let id = created.body["id"].as_str().unwrap().to_owned();
    let location = format!("http://scimd.test/scim/v2/Users/{id}");
    assert_eq!(created.header("location"), Some(location.as_str()));
    assert_eq!(created.header("etag"), Some("W/\"1\""));
    let meta = &created.body["meta"];
    assert_eq!(meta["resourceType"], "User");
    assert_eq!(meta["location"], location);
    assert_eq!(meta["version"], "W/\"1\"");
    assert_eq!(meta["created"], meta["lastModified"]);
    let expected = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "id": id,
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "bjensen@example.com",
        "name": {"formatted": "Barbara Jensen", "familyName": "Jensen", "givenName": "Barbara"},
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": "bjensen@example.com@example.com"}],
        ENTERPRISE: {"employeeNumber": "701984", "department": "Tour Operations"},
        "meta": meta.clone(),
    });
    assert_eq!(created.body, expected);

    let read = app.get(&format!("/scim/v2/Users/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.header("etag"), Some("W/\"1\""));
    assert_eq!(read.body, expected);

    let mut replacement = entra_user("bjensen@example.com");
    replacement["active"] = json!("False");
    replacement["id"] = json!("ignored-read-only");
    replacement[ENTERPRISE] = json!({"department": "Sales", "manager": {"value": "mgr-1"}});
    replacement.as_object_mut().unwrap().remove("name");
    let replaced = app.put(&format!("/scim/v2/Users/{id}"), replacement).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.header("etag"), Some("W/\"2\""));
    assert_eq!(replaced.body["id"], id.as_str());
    assert_eq!(replaced.body["active"], false);
    assert!(
        replaced.body.get("name").is_none(),
        "PUT replaces: name is gone"
    );
    assert_eq!(
        replaced.body[ENTERPRISE],
        json!({"department": "Sales", "manager": {"value": "mgr-1", "$ref": "http://scimd.test/scim/v2/Users/mgr-1"}})
    );
    assert_eq!(replaced.body["meta"]["created"], meta["created"]);
    assert_eq!(replaced.body["meta"]["version"], "W/\"2\"");
    assert_eq!(
        app.get(&format!("/scim/v2/Users/{id}")).await.body,
        replaced.body
    );

    let deleted = app.delete(&format!("/scim/v2/Users/{id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(deleted.body, Value::Null);
    let gone = app.get(&format!("/scim/v2/Users/{id}")).await;
    let detail = gone.assert_scim_error(404, None);
    assert_eq!(detail, format!("User {id} not found"));
    app.delete(&format!("/scim/v2/Users/{id}"))
        .await
        .assert_scim_error(404, None);
}

async fn a_user_name_taken_in_another_case_is_409_uniqueness(backend: Backend) {
    let app = TestApp::new(backend).await;
    assert_eq!(
        app.post("/scim/v2/Users", entra_user("Ryan.Leenay@contoso.com"))
            .await
            .status,
        StatusCode::CREATED
    );

    let duplicate = app
        .post("/scim/v2/Users", entra_user("ryan.leenay@CONTOSO.com"))
        .await;
    let detail = duplicate.assert_scim_error(409, Some("uniqueness"));
    assert_eq!(
        detail,
        "a User with userName 'ryan.leenay@CONTOSO.com' already exists (userName is unique, case-insensitively)"
    );
    assert_eq!(app.get("/scim/v2/Users").await.body["totalResults"], 1);
}

async fn renaming_onto_a_taken_user_name_is_409_and_changes_nothing(backend: Backend) {
    let app = TestApp::new(backend).await;
    app.post("/scim/v2/Users", entra_user("alice")).await;
    let bob = app.post("/scim/v2/Users", entra_user("bob")).await;
    let id = bob.body["id"].as_str().unwrap();

    let renamed = app
        .put(&format!("/scim/v2/Users/{id}"), entra_user("ALICE"))
        .await;
    renamed.assert_scim_error(409, Some("uniqueness"));
    assert_eq!(
        app.get(&format!("/scim/v2/Users/{id}")).await.body,
        bob.body
    );
}

async fn put_without_user_name_is_400_and_changes_nothing(backend: Backend) {
    let app = TestApp::new(backend).await;
    let created = app.post("/scim/v2/Users", entra_user("carol")).await;
    let id = created.body["id"].as_str().unwrap();

    let put = app
        .put(
            &format!("/scim/v2/Users/{id}"),
            json!({"displayName": "Carol"}),
        )
        .await;
    let detail = put.assert_scim_error(400, Some("invalidValue"));
    assert_eq!(detail, "attribute 'userName' is required");
    assert_eq!(
        app.get(&format!("/scim/v2/Users/{id}")).await.body,
        created.body
    );
}

async fn unknown_attributes_and_password_are_never_returned(backend: Backend) {
    let app = TestApp::new(backend).await;
    // a tenant refuses passwords unless told to ignore them (`okta::` tests the refusal)
    let ignore = scimd::service::PolicyChange {
        passwords: Some(scimd::domain::Passwords::Ignore),
        ..Default::default()
    };
    app.state
        .directory
        .set_policy("default", &ignore)
        .await
        .unwrap();
    let created = app
        .post(
            "/scim/v2/Users",
            json!({"userName": "dave", "password": "t1meMa$heen", "Adreses": [{"locality": "x"}], "nickName": "D"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let text = created.body.to_string();
    assert!(
        !text.contains("t1meMa$heen") && !text.contains("password"),
        "{text}"
    );
    assert!(!text.to_lowercase().contains("adreses"), "{text}");
    assert_eq!(created.body["nickName"], "D");
    assert_eq!(
        created.body["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
}

async fn strings_true_and_false_are_stored_as_booleans(backend: Backend) {
    let app = TestApp::new(backend).await;
    let created = app
        .post(
            "/scim/v2/Users",
            json!({"userName": "emp1", "active": "True", "emails": [{"value": "e@x.org", "primary": "true"}]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["active"], true);
    assert_eq!(created.body["emails"][0]["primary"], true);
}

async fn listing_pages_with_start_index_and_count(backend: Backend) {
    let app = TestApp::new(backend).await;
    for i in 0..5 {
        app.post("/scim/v2/Users", json!({"userName": format!("user{i}")}))
            .await;
    }

    let page = app.get("/scim/v2/Users?startIndex=2&count=2").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("content-type"), Some("application/scim+json"));
    assert_eq!(
        page.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert_eq!(page.body["totalResults"], 5);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(page.body["itemsPerPage"], 2);
    let names: Vec<&str> = page.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["user1", "user2"]);

    let counted = app.get("/scim/v2/Users?count=0").await;
    assert_eq!(counted.body["totalResults"], 5);
    assert_eq!(counted.body["Resources"], json!([]));
    assert_eq!(counted.body["itemsPerPage"], 0);

    let past_end = app.get("/scim/v2/Users?startIndex=50").await;
    assert_eq!(past_end.body["totalResults"], 5);
    assert_eq!(past_end.body["Resources"], json!([]));

    let all = app
        .get("/scim/v2/Users?aadOptscim062020&startIndex=0")
        .await;
    assert_eq!(all.body["startIndex"], 1);
    assert_eq!(all.body["itemsPerPage"], 5);
}

async fn an_empty_directory_lists_an_empty_resources_array(backend: Backend) {
    let app = TestApp::new(backend).await;
    let list = app.get("/scim/v2/Users").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.body,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 0,
            "startIndex": 1,
            "itemsPerPage": 0,
            "Resources": [],
        })
    );
}

async fn an_unknown_or_malformed_id_is_404(backend: Backend) {
    let app = TestApp::new(backend).await;
    for id in ["6f3b0c0e-8c1d-4b9b-9a0e-2d6c1b2e7f10", "not-a-uuid"] {
        let detail = app
            .get(&format!("/scim/v2/Users/{id}"))
            .await
            .assert_scim_error(404, None);
        assert_eq!(detail, format!("User {id} not found"));
        app.put(&format!("/scim/v2/Users/{id}"), json!({"userName": "x"}))
            .await
            .assert_scim_error(404, None);
    }
}

async fn if_match_with_a_stale_version_is_412_and_if_none_match_current_is_304(backend: Backend) {
    let app = TestApp::new(backend).await;
    let created = app
        .post("/scim/v2/Users", json!({"userName": "frank"}))
        .await;
    let id = created.body["id"].as_str().unwrap();
    let path = format!("/scim/v2/Users/{id}");
    app.put(&path, json!({"userName": "frank", "title": "v2"}))
        .await;

    let with = |method: Method, name: &str, tag: &str, body: Option<Value>| {
        let mut req = Request::builder()
            .method(method)
            .uri(path.as_str())
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(name, tag);
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        req.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap()
    };

    let stale_put = app
        .send(with(
            Method::PUT,
            "if-match",
            "W/\"1\"",
            Some(json!({"userName": "frank"})),
        ))
        .await;
    stale_put.assert_scim_error(412, None);
    let stale_delete = app
        .send(with(Method::DELETE, "if-match", "W/\"1\"", None))
        .await;
    stale_delete.assert_scim_error(412, None);
    assert_eq!(app.get(&path).await.body["title"], "v2");

    let not_modified = app
        .send(with(Method::GET, "if-none-match", "W/\"2\"", None))
        .await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    assert_eq!(not_modified.header("etag"), Some("W/\"2\""));
    let modified = app
        .send(with(Method::GET, "if-none-match", "W/\"1\"", None))
        .await;
    assert_eq!(modified.status, StatusCode::OK);

    let current_put = app
        .send(with(
            Method::PUT,
            "if-match",
            "W/\"2\"",
            Some(json!({"userName": "frank"})),
        ))
        .await;
    assert_eq!(current_put.status, StatusCode::OK);
    assert_eq!(current_put.header("etag"), Some("W/\"3\""));
    let current_delete = app
        .send(with(Method::DELETE, "if-match", "W/\"3\"", None))
        .await;
    assert_eq!(current_delete.status, StatusCode::NO_CONTENT);
}

async fn data_survives_a_restart_and_the_bootstrap_token_stays_valid(backend: Backend) {
    let app = TestApp::new(backend).await;
    let created = app.post("/scim/v2/Users", entra_user("grace")).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let TestApp { db, state, router } = app;
    drop((state, router));

    let restarted = TestApp::on(db).await;
    let read = restarted.get(&format!("/scim/v2/Users/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, created.body);
    assert_eq!(
        restarted
            .state
            .directory
            .tokens("default")
            .await
            .unwrap()
            .len(),
        1,
        "bootstrap is idempotent"
    );
}

async fn meta_location_follows_the_request_host_when_no_public_url_is_set(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut config = crate::support::settings(&db.url);
    config.address.public_url = None;
    config.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    let state = scimd::build_state(&config).await.unwrap();
    let router = scimd::app(state);
    let create = |peer: &str, name: &str| {
        let mut req = Request::post("/scim/v2/Users")
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(header::HOST, "scim.example.com")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "forged.example")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({"userName": name}).to_string()))
            .unwrap();
        let peer: std::net::SocketAddr = peer.parse().unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        req
    };
    // from anyone but a trusted proxy, the forwarding headers are ignored: the Host is used
    let direct = crate::support::send(&router, create("198.51.100.7:4000", "heidi")).await;
    let id = direct.body["id"].as_str().unwrap();
    let location = format!("http://scim.example.com/scim/v2/Users/{id}");
    assert_eq!(direct.header("location"), Some(location.as_str()));
    assert_eq!(direct.body["meta"]["location"], location);
    // a trusted proxy's are believed
    let proxied = crate::support::send(&router, create("10.1.2.3:4000", "ingrid")).await;
    let id = proxied.body["id"].as_str().unwrap();
    let location = format!("https://forged.example/scim/v2/Users/{id}");
    assert_eq!(proxied.header("location"), Some(location.as_str()));
    assert_eq!(proxied.body["meta"]["location"], location);
}

async fn lower_case_endpoints_and_trailing_slashes_reach_the_same_handler(backend: Backend) {
    let app = TestApp::new(backend).await;
    let created = app
        .post("/scim/v2/users/", json!({"userName": "slash"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    for path in [
        format!("/scim/v2/USERS/{id}/"),
        format!("/scim/v2/Users/{id}"),
    ] {
        let read = app.get(&path).await;
        assert_eq!(read.status, StatusCode::OK, "{path}");
        assert_eq!(read.body, created.body);
    }
    let listed = app
        .get("/scim/v2/users/?filter=userName+eq+%22SLASH%22")
        .await;
    assert_eq!(listed.body["totalResults"], 1);
    let config = app.get("/scim/v2/serviceproviderconfig/").await;
    assert_eq!(config.status, StatusCode::OK);
}

crate::on_both_stores!(
    create_read_replace_delete_round_trip_keeps_the_enterprise_extension,
    a_user_name_taken_in_another_case_is_409_uniqueness,
    renaming_onto_a_taken_user_name_is_409_and_changes_nothing,
    put_without_user_name_is_400_and_changes_nothing,
    unknown_attributes_and_password_are_never_returned,
    strings_true_and_false_are_stored_as_booleans,
    listing_pages_with_start_index_and_count,
    an_empty_directory_lists_an_empty_resources_array,
    an_unknown_or_malformed_id_is_404,
    if_match_with_a_stale_version_is_412_and_if_none_match_current_is_304,
    data_survives_a_restart_and_the_bootstrap_token_stays_valid,
    meta_location_follows_the_request_host_when_no_public_url_is_set,
    lower_case_endpoints_and_trailing_slashes_reach_the_same_handler,
);
