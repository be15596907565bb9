//! Okta's provisioning journey replayed as real HTTP requests, checking the directory after.
//! The requests are those of Okta's SCIM 2.0 protocol reference ("Okta and SCIM Version 2.0",
//! https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20) and of its guide for
//! OIN submissions ("Build your SCIM API service",
//! https://developer.okta.com/docs/guides/build-provisioning-integration/prepare-api): a lookup
//! by `userName` with `startIndex=1&count=100`, a create holding `password` when "Sync
//! Password" is on, profile updates by `PUT`, deactivation by `PATCH` `active=false` (never a
//! `DELETE` of a user), paging at 100, and Group Push by `PATCH` with `members`, renames by a
//! `replace` whose value holds the group's `id`.

mod groups;
mod passwords;

use axum::http::Method;
use serde_json::{Value, json};

use crate::support::{Backend, TestApp, TestResponse};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PASSWORD: &str = "1mz050nq";

/// The Okta admin's words in the answer to a password the tenant refuses.
const PASSWORD_REFUSED: &str = "password: scimd does not keep passwords: turn off Sync Password \
     in the Okta application's Provisioning > To App settings, or ask the application's team to \
     set this tenant's password rule to ignore";

struct Okta<'a> {
    app: &'a TestApp,
}

impl Okta<'_> {
    /// `GET /Users?filter=userName eq "…"&startIndex=1&count=100`, as Okta encodes it.
    async fn find_user(&self, user_name: &str) -> TestResponse {
        let res = self
            .app
            .get(&format!(
                "/scim/v2/Users?filter=userName%20eq%20%22{}%22&startIndex=1&count=100",
                user_name.replace('@', "%40")
            ))
            .await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.body);
        assert_eq!(res.header("content-type"), Some("application/scim+json"));
        res
    }

    /// Okta's create body; with `password` when "Sync Password" is on.
    fn user_body(user_name: &str, given: &str, password: Option<&str>) -> Value {
        let mut body = json!({
            "schemas": [USER],
            "userName": user_name,
            "name": {"givenName": given, "familyName": "User"},
            "emails": [{"primary": true, "value": user_name, "type": "work"}],
            "displayName": format!("{given} User"),
            "locale": "en-US",
            "externalId": format!("00u{}", user_name.len()),
            "groups": [],
            "active": true
        });
        if let Some(password) = password {
            body["password"] = json!(password);
        }
        body
    }

    /// Okta's lookup, then its create when nobody has the userName; the user's id.
    async fn provision(&self, user_name: &str, given: &str) -> String {
        let found = self.find_user(user_name).await;
        assert_eq!(found.body["totalResults"], 0, "{}", found.body);
        let created = self
            .app
            .post("/scim/v2/Users", Self::user_body(user_name, given, None))
            .await;
        assert_eq!(created.status.as_u16(), 201, "{}", created.body);
        created.body["id"].as_str().unwrap().to_owned()
    }

    async fn patch(&self, path: &str, ops: Value) -> TestResponse {
        let body = json!({"schemas": [PATCH_OP], "Operations": ops});
        self.app.call(Method::PATCH, path, Some(body)).await
    }

    /// Okta's deactivation (`false`) or reactivation (`true`) of a user.
    async fn set_active(&self, id: &str, active: bool) -> TestResponse {
        self.patch(
            &format!("/scim/v2/Users/{id}"),
            json!([{"op": "replace", "value": {"active": active}}]),
        )
        .await
    }

    async fn group(&self, id: &str) -> Value {
        let res = self.app.get(&format!("/scim/v2/Groups/{id}")).await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.body);
        res.body
    }
}

/// `members` of a group as `(value, display)` pairs.
fn members(group: &Value) -> Vec<(String, String)> {
    group
        .get("members")
        .and_then(Value::as_array)
        .map(|m| {
            m.iter()
                .map(|m| {
                    (
                        m["value"].as_str().unwrap().to_owned(),
                        m["display"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn the_lookup_finds_nobody_then_the_create_answers_201_with_the_user_okta_reads_back(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let okta = Okta { app: &app };
    let empty = okta.find_user("test.user@okta.local").await;
    assert_eq!(
        empty.body,
        json!({"schemas": [LIST], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
    );
    let created = app
        .post(
            "/scim/v2/Users",
            Okta::user_body("test.user@okta.local", "Test", None),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    assert_eq!(
        created.header("content-type"),
        Some("application/scim+json")
    );
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.header("location"),
        Some(format!("http://scimd.test/scim/v2/Users/{id}").as_str())
    );
    let body = &created.body;
    assert_eq!(body["userName"], "test.user@okta.local");
    assert_eq!(
        body["name"],
        json!({"givenName": "Test", "familyName": "User"})
    );
    assert_eq!(
        body["emails"],
        json!([{"primary": true, "value": "test.user@okta.local", "type": "work"}])
    );
    assert_eq!(body["displayName"], "Test User");
    assert_eq!(body["locale"], "en-US");
    assert_eq!(body["externalId"], "00u20");
    assert_eq!(body["active"], true);
    assert_eq!(body["meta"]["resourceType"], "User");
    assert!(body.get("password").is_none());
    let read = app.get(&format!("/scim/v2/Users/{id}")).await;
    assert_eq!(read.status.as_u16(), 200);
    assert_eq!(read.body, created.body);
    // Okta's next lookup finds the user instead of creating it again
    let found = okta.find_user("test.user@okta.local").await;
    assert_eq!(found.body["totalResults"], 1);
    assert_eq!(found.body["itemsPerPage"], 1);
    assert_eq!(found.body["startIndex"], 1);
    assert_eq!(found.body["Resources"][0], created.body);
}

async fn a_profile_update_by_put_replaces_the_whole_user(backend: Backend) {
    let app = TestApp::new(backend).await;
    let okta = Okta { app: &app };
    let id = okta.provision("test.user@okta.local", "Test").await;
    let before = app.get(&format!("/scim/v2/Users/{id}")).await.body;
    // Okta sends back the whole user, with its id and meta, the changed attributes in it
    let mut body = Okta::user_body("test.user@okta.local", "Another", None);
    body["id"] = json!(id);
    body["meta"] = before["meta"].clone();
    body["emails"] = json!([{"primary": true, "value": "another.user@okta.local", "type": "work"}]);
    body.as_object_mut().unwrap().remove("locale");
    let put = app.put(&format!("/scim/v2/Users/{id}"), body).await;
    assert_eq!(put.status.as_u16(), 200, "{}", put.body);
    assert_eq!(put.header("content-type"), Some("application/scim+json"));
    assert_eq!(put.body["id"], id.as_str());
    assert_eq!(
        put.body["name"],
        json!({"givenName": "Another", "familyName": "User"})
    );
    assert_eq!(put.body["displayName"], "Another User");
    assert_eq!(
        put.body["emails"],
        json!([{"primary": true, "value": "another.user@okta.local", "type": "work"}])
    );
    assert!(
        put.body.get("locale").is_none(),
        "a PUT replaces: what it leaves out is gone"
    );
    assert_eq!(put.body["meta"]["version"], "W/\"2\"");
    assert_eq!(
        app.get(&format!("/scim/v2/Users/{id}")).await.body,
        put.body
    );
}

async fn deactivation_and_reactivation_by_patch_keep_the_user_and_its_groups(backend: Backend) {
    let app = TestApp::new(backend).await;
    let okta = Okta { app: &app };
    let id = okta.provision("leaver@okta.local", "Leaver").await;
    let pushed = app
        .post(
            "/scim/v2/Groups",
            json!({"schemas": [GROUP], "displayName": "Staff", "members": [{"value": id, "display": "leaver@okta.local"}]}),
        )
        .await;
    assert_eq!(pushed.status.as_u16(), 201, "{}", pushed.body);
    let gid = pushed.body["id"].as_str().unwrap().to_owned();

    let off = okta.set_active(&id, false).await;
    assert_eq!(off.status.as_u16(), 200, "{}", off.body);
    assert_eq!(off.header("content-type"), Some("application/scim+json"));
    assert_eq!(off.body["active"], false);
    assert_eq!(off.body["userName"], "leaver@okta.local");
    let found = okta.find_user("leaver@okta.local").await;
    assert_eq!(found.body["totalResults"], 1, "deactivated, not deleted");
    assert_eq!(found.body["Resources"][0]["active"], false);
    assert_eq!(
        members(&okta.group(&gid).await),
        [(id.clone(), "leaver@okta.local".to_owned())]
    );

    let on = okta.set_active(&id, true).await;
    assert_eq!(on.status.as_u16(), 200, "{}", on.body);
    assert_eq!(on.body["active"], true);
    assert_eq!(on.body["groups"][0]["value"], gid.as_str());
    let read = app.get(&format!("/scim/v2/Users/{id}")).await.body;
    assert_eq!(read["active"], true);
    assert_eq!(read["meta"]["version"], "W/\"3\"");
}

async fn users_are_paged_by_start_index_and_count_at_100(backend: Backend) {
    let app = TestApp::new(backend).await;
    let total = 105;
    let mut ids = Vec::new();
    for i in 0..total {
        let created = app
            .post(
                "/scim/v2/Users",
                Okta::user_body(&format!("user{i:03}@okta.local"), "Paged", None),
            )
            .await;
        assert_eq!(created.status.as_u16(), 201, "{}", created.body);
        ids.push(created.body["id"].as_str().unwrap().to_owned());
    }
    let first = app.get("/scim/v2/Users?startIndex=1&count=100").await;
    assert_eq!(first.status.as_u16(), 200, "{}", first.body);
    assert_eq!(first.header("content-type"), Some("application/scim+json"));
    assert_eq!(first.body["schemas"], json!([LIST]));
    assert_eq!(first.body["totalResults"], total);
    assert_eq!(first.body["itemsPerPage"], 100);
    assert_eq!(first.body["startIndex"], 1);
    let second = app.get("/scim/v2/Users?startIndex=101&count=100").await;
    assert_eq!(second.status.as_u16(), 200, "{}", second.body);
    assert_eq!(second.body["totalResults"], total);
    assert_eq!(second.body["itemsPerPage"], total - 100);
    assert_eq!(second.body["startIndex"], 101);
    let beyond = app.get("/scim/v2/Users?startIndex=201&count=100").await;
    assert_eq!(beyond.body["totalResults"], total);
    assert_eq!(beyond.body["itemsPerPage"], 0);
    assert_eq!(beyond.body["Resources"], json!([]));
    // the two pages hold every user once
    let mut seen: Vec<String> = [&first, &second]
        .iter()
        .flat_map(|page| page.body["Resources"].as_array().unwrap().clone())
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen.len(), total);
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids);
}

async fn a_duplicate_create_is_409_uniqueness_and_an_unknown_id_is_404(backend: Backend) {
    let app = TestApp::new(backend).await;
    let okta = Okta { app: &app };
    let id = okta.provision("dup@okta.local", "Dup").await;
    let again = app
        .post(
            "/scim/v2/Users",
            Okta::user_body("DUP@okta.local", "Again", None),
        )
        .await;
    let detail = again.assert_scim_error(409, Some("uniqueness"));
    assert!(detail.contains("userName"), "{detail}");
    assert_eq!(
        okta.find_user("dup@okta.local").await.body["totalResults"],
        1
    );
    let stored = app.get(&format!("/scim/v2/Users/{id}")).await;
    assert_eq!(stored.body["displayName"], "Dup User");

    let unknown = "6f4d0a2e-0b6b-4b8e-9d6c-0c9c1d2e3f40";
    for path in [
        format!("/scim/v2/Users/{unknown}"),
        format!("/scim/v2/Groups/{unknown}"),
        "/scim/v2/Users/010101".to_owned(),
    ] {
        let missing = app.get(&path).await;
        let detail = missing.assert_scim_error(404, None);
        assert!(detail.contains("not found"), "{path}: {detail}");
    }
}

crate::on_both_stores!(
    the_lookup_finds_nobody_then_the_create_answers_201_with_the_user_okta_reads_back,
    a_profile_update_by_put_replaces_the_whole_user,
    deactivation_and_reactivation_by_patch_keep_the_user_and_its_groups,
    users_are_paged_by_start_index_and_count_at_100,
    a_duplicate_create_is_409_uniqueness_and_an_unknown_id_is_404,
);
