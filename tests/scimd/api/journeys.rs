//! Entra ID's provisioning journeys replayed as real HTTP requests, in Entra's default mode and
//! with `?aadOptscim062020` on the Tenant URL, checking the directory after. The requests are
//! those of Microsoft's "Tutorial: Develop and plan provisioning for a SCIM endpoint in
//! Microsoft Entra ID" (https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups)
//! and of Microsoft's "Known issues and resolutions with SCIM 2.0 protocol compliance of the
//! Microsoft Entra user provisioning service",
//! https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

use crate::support::{Backend, TestApp, TestResponse};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The two ways Entra talks: without and with the `aadOptscim062020` flag (Microsoft's
/// "Known issues and resolutions with SCIM 2.0 protocol compliance…", above).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// No flag: capitalised ops, booleans as "True"/"False", one Replace per attribute,
    /// member removal as `Remove members` with a value list.
    Default,
    /// `?aadOptscim062020` on the Tenant URL (and so on every request).
    Flagged,
}

const MODES: [Mode; 2] = [Mode::Default, Mode::Flagged];

impl Mode {
    /// `path` under the Tenant URL, with the flag where Entra carries it.
    fn url(self, path: &str) -> String {
        match (self, path.contains('?')) {
            (Mode::Default, _) => format!("/scim/v2{path}"),
            (Mode::Flagged, false) => format!("/scim/v2{path}?aadOptscim062020"),
            (Mode::Flagged, true) => {
                format!("/scim/v2{}", path.replacen('?', "?aadOptscim062020&", 1))
            }
        }
    }

    fn op(self, op: &str) -> String {
        match self {
            Mode::Default => format!("{}{}", op[..1].to_uppercase(), &op[1..]),
            Mode::Flagged => op.to_owned(),
        }
    }

    fn boolean(self, b: bool) -> Value {
        match self {
            Mode::Default => json!(if b { "True" } else { "False" }),
            Mode::Flagged => json!(b),
        }
    }

    /// Entra's update of several attributes: one op per attribute, or (flagged) filtered paths
    /// apart and everything else in one path-less replace with path keys.
    fn update(self, changes: &[(&str, Value)]) -> Vec<Value> {
        match self {
            Mode::Default => changes
                .iter()
                .map(|(path, value)| json!({"op": "Replace", "path": path, "value": value}))
                .collect(),
            Mode::Flagged => {
                let (filtered, plain): (Vec<_>, Vec<_>) =
                    changes.iter().partition(|(p, _)| p.contains('['));
                let mut ops: Vec<Value> = filtered
                    .iter()
                    .map(|(path, value)| json!({"op": "replace", "path": path, "value": value}))
                    .collect();
                let value: serde_json::Map<String, Value> = plain
                    .iter()
                    .map(|(p, v)| ((*p).to_owned(), v.clone()))
                    .collect();
                ops.push(json!({"op": "replace", "value": value}));
                ops
            }
        }
    }

    fn remove_member(self, id: &str) -> Value {
        match self {
            Mode::Default => json!({"op": "Remove", "path": "members", "value": [{"value": id}]}),
            Mode::Flagged => json!({"op": "remove", "path": format!("members[value eq \"{id}\"]")}),
        }
    }
}

struct Entra<'a> {
    app: &'a TestApp,
    mode: Mode,
}

impl Entra<'_> {
    async fn get(&self, path: &str) -> TestResponse {
        self.app.get(&self.mode.url(path)).await
    }

    async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.app.post(&self.mode.url(path), body).await
    }

    async fn patch(&self, path: &str, ops: Vec<Value>) -> TestResponse {
        let body = json!({"schemas": [PATCH_OP], "Operations": ops});
        self.app
            .call(Method::PATCH, &self.mode.url(path), Some(body))
            .await
    }

    async fn delete(&self, path: &str) -> TestResponse {
        self.app.delete(&self.mode.url(path)).await
    }

    /// `GET /Users?filter=userName+eq+"…"` as Entra encodes it.
    async fn find_user(&self, user_name: &str) -> TestResponse {
        let res = self
            .get(&format!(
                "/Users?filter=userName+eq+%22{}%22",
                user_name.replace('@', "%40")
            ))
            .await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.body);
        res
    }

    async fn find_group(&self, name: &str) -> TestResponse {
        let res = self
            .get(&format!(
                "/Groups?excludedAttributes=members&filter=displayName+eq+%22{name}%22"
            ))
            .await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.body);
        res
    }

    /// The initial cycle for one user: look up by the matching attribute, create when absent.
    async fn provision(&self, user_name: &str, department: &str) -> String {
        let found = self.find_user(user_name).await;
        if found.body["totalResults"] == 1 {
            return found.body["Resources"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned();
        }
        assert_eq!(found.body["Resources"], json!([]));
        let created = self
            .post(
                "/Users",
                json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
                    "externalId": user_name.split('@').next().unwrap(),
                    "userName": user_name,
                    "active": true,
                    "displayName": user_name.split('@').next().unwrap(),
                    "emails": [{"primary": true, "type": "work", "value": user_name}],
                    "meta": {"resourceType": "User"},
                    "name": {"formatted": "Given Family", "familyName": "Family", "givenName": "Given"},
                    "roles": [],
                    ENTERPRISE: {"department": department}
                }),
            )
            .await;
        assert_eq!(created.status.as_u16(), 201, "{}", created.body);
        created.body["id"].as_str().unwrap().to_owned()
    }

    /// A group created empty, then given one member, as Entra does.
    async fn group_with(&self, name: &str, member: &str) -> String {
        let created = self.post("/Groups", json!({"displayName": name})).await;
        let g = created.body["id"].as_str().unwrap().to_owned();
        let add =
            json!({"op": self.mode.op("add"), "path": "members", "value": [{"value": member}]});
        assert_eq!(
            self.patch(&format!("/Groups/{g}"), vec![add])
                .await
                .status
                .as_u16(),
            204
        );
        g
    }

    async fn group_members(&self, group: &str) -> Vec<String> {
        let res = self.get(&format!("/Groups/{group}")).await;
        res.body
            .get("members")
            .and_then(Value::as_array)
            .map(|m| {
                m.iter()
                    .map(|m| m["value"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

async fn test_connection_probes_users_and_groups_with_random_guids(backend: Backend) {
    for mode in MODES {
        let app = TestApp::new(backend).await;
        let entra = Entra { app: &app, mode };
        let empty = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": [],
        });
        assert_eq!(
            entra
                .find_user("8c2e5c83-9b0b-4d55-9bbd-6d1f0e8f2a11")
                .await
                .body,
            empty,
            "{mode:?}"
        );
        assert_eq!(
            entra
                .find_group("f2b1d1a5-1f57-4f3c-b1cb-0b52b6d6c1f3")
                .await
                .body,
            empty,
            "{mode:?}"
        );
        // the same probe with a wrong Secret Token
        let req = Request::get(mode.url("/Users?filter=userName+eq+%22x%22"))
            .header(header::AUTHORIZATION, "Bearer wrong")
            .body(Body::empty())
            .unwrap();
        app.send(req).await.assert_scim_error(401, None);
    }
}

async fn the_initial_cycle_creates_users_then_links_managers_and_a_second_cycle_matches_them(
    backend: Backend,
) {
    for mode in MODES {
        let app = TestApp::new(backend).await;
        let entra = Entra { app: &app, mode };
        let boss = entra.provision("boss@contoso.com", "Board").await;
        let report = entra.provision("report@contoso.com", "Sales").await;
        let manager_path = format!("{ENTERPRISE}:manager");
        let precheck = format!("/Users?filter=id+eq+%22{report}%22+and+manager+eq+%22{boss}%22");
        assert_eq!(
            entra.get(&precheck).await.body["totalResults"],
            0,
            "{mode:?}"
        );
        let linked = entra
            .patch(
                &format!("/Users/{report}"),
                vec![json!({"op": mode.op("add"), "path": manager_path, "value": boss})],
            )
            .await;
        assert_eq!(linked.status.as_u16(), 200, "{}", linked.body);
        assert_eq!(linked.body[ENTERPRISE]["manager"]["value"], boss.as_str());
        assert_eq!(
            entra.get(&precheck).await.body["totalResults"],
            1,
            "{mode:?}"
        );
        // a second cycle finds both instead of creating them again
        assert_eq!(entra.provision("BOSS@contoso.com", "Board").await, boss);
        assert_eq!(entra.provision("report@contoso.com", "Sales").await, report);
        assert_eq!(entra.get("/Users").await.body["totalResults"], 2);
    }
}

async fn incremental_updates_change_only_what_entra_sends(backend: Backend) {
    for mode in MODES {
        let app = TestApp::new(backend).await;
        let entra = Entra { app: &app, mode };
        let id = entra.provision("mover@contoso.com", "Sales").await;
        let res = entra
            .patch(
                &format!("/Users/{id}"),
                mode.update(&[
                    ("displayName", json!("Mover Moved")),
                    ("name.givenName", json!("Moved")),
                    ("emails[type eq \"work\"].value", json!("moved@contoso.com")),
                    (
                        "phoneNumbers[type eq \"mobile\"].value",
                        json!("+1 555 0101"),
                    ),
                    (&format!("{ENTERPRISE}:employeeNumber"), json!("4711")),
                    (&format!("{ENTERPRISE}:department"), json!("Marketing")),
                ]),
            )
            .await;
        assert_eq!(res.status.as_u16(), 200, "{mode:?}: {}", res.body);
        let user = entra.get(&format!("/Users/{id}")).await.body;
        assert_eq!(user["displayName"], "Mover Moved");
        assert_eq!(
            user["name"],
            json!({"formatted": "Given Family", "familyName": "Family", "givenName": "Moved"})
        );
        assert_eq!(
            user["emails"],
            json!([{"primary": true, "type": "work", "value": "moved@contoso.com"}])
        );
        assert_eq!(
            user["phoneNumbers"],
            json!([{"type": "mobile", "value": "+1 555 0101"}])
        );
        assert_eq!(
            user[ENTERPRISE],
            json!({"employeeNumber": "4711", "department": "Marketing"})
        );
        assert_eq!(user["userName"], "mover@contoso.com");
        assert_eq!(
            user["meta"]["version"], "W/\"2\"",
            "{mode:?}: one PATCH, one version"
        );
    }
}

async fn groups_are_created_empty_then_filled_and_pruned(backend: Backend) {
    for mode in MODES {
        let app = TestApp::new(backend).await;
        let entra = Entra { app: &app, mode };
        let users = [
            entra.provision("a@contoso.com", "x").await,
            entra.provision("b@contoso.com", "x").await,
            entra.provision("c@contoso.com", "x").await,
        ];
        assert_eq!(entra.find_group("Sales+Team").await.body["totalResults"], 0);
        let created = entra
            .post(
                "/Groups",
                json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                    "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                    "displayName": "Sales Team",
                    "meta": {"resourceType": "Group"}
                }),
            )
            .await;
        assert_eq!(created.status.as_u16(), 201, "{}", created.body);
        let g = created.body["id"].as_str().unwrap().to_owned();
        let found = entra.find_group("Sales+Team").await;
        assert_eq!(found.body["Resources"][0]["id"], g.as_str());
        assert!(found.body["Resources"][0].get("members").is_none());
        let value: Vec<Value> = users
            .iter()
            .map(|u| json!({"value": u, "$ref": null}))
            .collect();
        let added = entra
            .patch(
                &format!("/Groups/{g}"),
                vec![json!({"op": mode.op("add"), "path": "members", "value": value})],
            )
            .await;
        assert_eq!(added.status.as_u16(), 204, "{}", added.body);
        let removed = entra
            .patch(&format!("/Groups/{g}"), vec![mode.remove_member(&users[1])])
            .await;
        assert_eq!(removed.status.as_u16(), 204, "{}", removed.body);
        assert_eq!(
            entra.group_members(&g).await,
            [users[0].clone(), users[2].clone()],
            "{mode:?}"
        );
        let renamed = entra
            .patch(
                &format!("/Groups/{g}"),
                vec![
                    json!({"op": mode.op("replace"), "path": "displayName", "value": "Sales EMEA"}),
                ],
            )
            .await;
        assert_eq!(renamed.status.as_u16(), 204);
        assert_eq!(entra.find_group("Sales+EMEA").await.body["totalResults"], 1);
        assert_eq!(
            entra.group_members(&g).await.len(),
            2,
            "a rename keeps the members"
        );
    }
}

async fn soft_delete_and_re_enable_keep_the_user_and_its_groups(backend: Backend) {
    for mode in MODES {
        let app = TestApp::new(backend).await;
        let entra = Entra { app: &app, mode };
        let id = entra.provision("leaver@contoso.com", "x").await;
        let g = entra.group_with("Staff", &id).await;
        let disabled = entra
            .patch(&format!("/Users/{id}"), vec![json!({"op": mode.op("replace"), "path": "active", "value": mode.boolean(false)})])
            .await;
        assert_eq!(
            disabled.body["active"], false,
            "{mode:?}: {}",
            disabled.body
        );
        let found = entra.find_user("leaver@contoso.com").await;
        assert_eq!(found.body["Resources"][0]["active"], false);
        assert_eq!(entra.group_members(&g).await, std::slice::from_ref(&id));
        let enabled = entra
            .patch(&format!("/Users/{id}"), vec![json!({"op": mode.op("replace"), "path": "active", "value": mode.boolean(true)})])
            .await;
        assert_eq!(enabled.body["active"], true);
        assert_eq!(enabled.body["groups"][0]["value"], g.as_str());
    }
}

async fn hard_delete_thirty_days_later_removes_the_user_everywhere(backend: Backend) {
    for mode in MODES {
        let app = TestApp::new(backend).await;
        let entra = Entra { app: &app, mode };
        let id = entra.provision("gone@contoso.com", "x").await;
        let g = entra.group_with("Staff", &id).await;
        entra.patch(&format!("/Users/{id}"), vec![json!({"op": mode.op("replace"), "path": "active", "value": mode.boolean(false)})]).await;
        assert_eq!(
            entra.delete(&format!("/Users/{id}")).await.status.as_u16(),
            204
        );
        entra
            .get(&format!("/Users/{id}"))
            .await
            .assert_scim_error(404, None);
        assert_eq!(
            entra.find_user("gone@contoso.com").await.body["totalResults"],
            0
        );
        assert!(entra.group_members(&g).await.is_empty());
        entra
            .delete(&format!("/Users/{id}"))
            .await
            .assert_scim_error(404, None);
    }
}

async fn roles_arrive_in_the_three_expression_shapes(backend: Backend) {
    for mode in MODES {
        let app = TestApp::new(backend).await;
        let entra = Entra { app: &app, mode };
        // SingleAppRoleAssignment: one primary role on create, updated through its filter path
        let single = entra
            .post("/Users", json!({"userName": "single", "roles": [{"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}]}))
            .await;
        assert_eq!(
            single.body["roles"],
            json!([{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}])
        );
        let id = single.body["id"].as_str().unwrap();
        let changed = entra
            .patch(&format!("/Users/{id}"), vec![json!({"op": mode.op("replace"), "path": "roles[primary eq \"True\"].value", "value": "Organizer"})])
            .await;
        assert_eq!(
            changed.body["roles"],
            json!([{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "Organizer"}])
        );
        // AppRoleAssignmentsComplex: roles added as JSON-encoded strings, never removed
        let complex = entra
            .post("/Users", json!({"userName": "complex", "roles": [{"primary": false, "type": "WindowsAzureActiveDirectoryRole", "displayName": "Admin", "value": "Admin"}]}))
            .await;
        let id = complex.body["id"].as_str().unwrap().to_owned();
        let added = entra
            .patch(
                &format!("/Users/{id}"),
                vec![json!({"op": mode.op("add"), "path": "roles", "value": [{"value": "{\"id\":\"06b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"User\",\"displayName\":\"User\"}"}]})],
            )
            .await;
        assert_eq!(
            added.body["roles"],
            json!([
                {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "display": "Admin", "value": "Admin"},
                {"display": "User", "value": "User"}
            ])
        );
        // AssertiveAppRoleAssignmentsComplex: replace with the full set removes what is gone
        let asserted = entra
            .patch(
                &format!("/Users/{id}"),
                vec![json!({"op": "replace", "path": "roles", "value": [{"primary": false, "type": "WindowsAzureActiveDirectoryRole", "display": "User", "value": "User"}]})],
            )
            .await;
        assert_eq!(
            asserted.body["roles"],
            json!([{"primary": false, "type": "WindowsAzureActiveDirectoryRole", "display": "User", "value": "User"}])
        );
    }
}

crate::on_both_stores!(
    test_connection_probes_users_and_groups_with_random_guids,
    the_initial_cycle_creates_users_then_links_managers_and_a_second_cycle_matches_them,
    incremental_updates_change_only_what_entra_sends,
    groups_are_created_empty_then_filled_and_pruned,
    soft_delete_and_re_enable_keep_the_user_and_its_groups,
    hard_delete_thirty_days_later_removes_the_user_everywhere,
    roles_arrive_in_the_three_expression_shapes,
);
