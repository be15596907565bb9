//! What is not Entra's soft-delete rename is applied as sent: other digit counts, non-hex
//! digits, another suffix, the tenant's rule `apply`; a tenant matching on `externalId` keeps
//! that too; renames racing other updates keep the name; hostile names (NUL bytes, huge
//! values) get a clear answer, never a 5xx.

use axum::http::Method;
use scimd::domain::{MatchingAttribute, Precedence, SoftDeleteRenames};
use scimd::service::PolicyChange;
use serde_json::json;

use super::{
    OBJECT_ID, RALF, app_with_events, call, create, events, of_request, patch_op, renamed, row,
};
use crate::support::{Backend, TestApp, entra_user};

async fn set_rules(app: &TestApp, change: PolicyChange) {
    app.state
        .directory
        .set_policy("default", &change)
        .await
        .unwrap();
}

async fn names_that_are_not_entras_rename_are_applied_as_sent(backend: Backend) {
    let (app, _receiver) = app_with_events(backend).await;
    let cases = [
        ("31 digits", format!("{}{RALF}", &OBJECT_ID[..31])),
        ("33 digits", format!("{OBJECT_ID}a{RALF}")),
        ("a non-hex digit", format!("{}g{RALF}", &OBJECT_ID[..31])),
        ("another suffix", format!("{OBJECT_ID}ralf@fabrikam.com")),
        ("the digits after", format!("{RALF}{OBJECT_ID}")),
    ];
    for (n, (what, sent)) in cases.into_iter().enumerate() {
        let name = format!("{n}{RALF}");
        let sent = sent.replace(RALF, &name);
        let id = create(&app, &name, &format!("assign-{n}")).await;
        let path = format!("/scim/v2/Users/{id}");
        let request = format!("rename-{n}");
        let ops = json!([
            {"op": "replace", "path": "userName", "value": sent},
            {"op": "replace", "path": "active", "value": false}
        ]);
        let answered = call(&app, Method::PATCH, &path, &request, patch_op(ops)).await;
        assert_eq!(answered.status, 200, "{what}: {}", answered.body);
        assert_eq!(answered.body["userName"], sent.as_str(), "{what}");
        assert_eq!(
            app.get(&path).await.body["userName"],
            sent.as_str(),
            "{what}"
        );
        let noted = row(&app, &request).await;
        assert_eq!((noted.note(), noted.kept), (String::new(), None), "{what}");
        assert_eq!(
            of_request(&events(&app).await, &request),
            [(
                vec!["patch", "deactivate"],
                vec!["active".to_owned(), "userName".to_owned()]
            )],
            "{what}"
        );
    }
}

async fn with_the_rule_apply_the_rename_is_applied_as_sent_and_frees_the_name(backend: Backend) {
    let (app, _receiver) = app_with_events(backend).await;
    let tenant = app.state.directory.tenant("default").await.unwrap();
    assert_eq!(tenant.policy.soft_delete_renames, SoftDeleteRenames::Keep);
    let apply = PolicyChange {
        soft_delete_renames: Some(SoftDeleteRenames::Apply),
        ..Default::default()
    };
    set_rules(&app, apply).await;
    let id = create(&app, RALF, "assign").await;
    let path = format!("/scim/v2/Users/{id}");
    let ops = json!([
        {"op": "replace", "path": "userName", "value": renamed(RALF)},
        {"op": "replace", "path": "active", "value": false}
    ]);
    let answered = call(&app, Method::PATCH, &path, "soft-delete", patch_op(ops)).await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert_eq!(answered.body["userName"], renamed(RALF));
    assert_eq!(answered.body["active"], false);
    assert_eq!(row(&app, "soft-delete").await.kept, None);
    // the old name is free for someone else
    let mut other = entra_user(RALF);
    other["externalId"] = json!("another-person");
    let created = call(&app, Method::POST, "/scim/v2/Users", "new-ralf", other).await;
    assert_eq!(created.status, 201, "{}", created.body);
    // and `keep` again keeps the renamed name against a second rename
    let keep = PolicyChange {
        soft_delete_renames: Some(SoftDeleteRenames::Keep),
        ..Default::default()
    };
    set_rules(&app, keep).await;
    let twice = renamed(&renamed(RALF));
    let ops = json!([{"op": "replace", "path": "userName", "value": twice}]);
    let kept = call(&app, Method::PATCH, &path, "again", patch_op(ops)).await;
    assert_eq!(kept.body["userName"], renamed(RALF), "{}", kept.body);
    assert_eq!(row(&app, "again").await.kept.as_deref(), Some("userName"));
}

async fn a_tenant_matching_on_external_id_keeps_it_against_the_rename(backend: Backend) {
    let (app, _receiver) = app_with_events(backend).await;
    let matching = PolicyChange {
        matching: Some(
            Precedence::new(&[MatchingAttribute::UserName, MatchingAttribute::ExternalId]).unwrap(),
        ),
        ..Default::default()
    };
    set_rules(&app, matching).await;
    let id = create(&app, RALF, "assign").await;
    let path = format!("/scim/v2/Users/{id}");
    let external = entra_user(RALF)["externalId"].as_str().unwrap().to_owned();
    let ops = json!([
        {"op": "replace", "path": "externalId", "value": renamed(&external)},
        {"op": "replace", "path": "userName", "value": renamed(RALF)},
        {"op": "replace", "path": "active", "value": false}
    ]);
    let answered = call(&app, Method::PATCH, &path, "soft-delete", patch_op(ops)).await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert_eq!(answered.body["externalId"], external.as_str());
    assert_eq!(answered.body["userName"], RALF);
    assert_eq!(answered.body["active"], false);
    let noted = row(&app, "soft-delete").await;
    assert_eq!(noted.kept.as_deref(), Some("userName, externalId"));
    assert_eq!(
        noted.note(),
        "kept userName, externalId: Entra's soft-delete rename ignored"
    );
    assert_eq!(
        of_request(&events(&app).await, "soft-delete"),
        [(vec!["patch", "deactivate"], vec!["active".to_owned()])]
    );
}

async fn hostile_renamed_names_get_a_clear_answer_and_never_a_5xx(backend: Backend) {
    let (app, _receiver) = app_with_events(backend).await;
    let id = create(&app, RALF, "assign").await;
    let path = format!("/scim/v2/Users/{id}");
    let huge = format!("{OBJECT_ID}{}", "r".repeat(200_000));
    let cases = [
        (
            "a NUL byte inside",
            format!("{OBJECT_ID}ralf\u{0}@contoso.com"),
        ),
        ("a NUL byte after", format!("{}\u{0}", renamed(RALF))),
        (
            "NUL bytes for digits",
            format!("{}{RALF}", "\u{0}".repeat(32)),
        ),
        ("a huge name", huge),
    ];
    for (n, (what, sent)) in cases.into_iter().enumerate() {
        let request = format!("hostile-{n}");
        let ops = json!([{"op": "replace", "path": "userName", "value": sent}]);
        let answered = call(&app, Method::PATCH, &path, &request, patch_op(ops)).await;
        answered.assert_scim_error(400, Some("invalidValue"));
        let stored = app.get(&path).await.body;
        assert_eq!(stored["userName"], RALF, "{what}");
        assert_eq!(stored["meta"]["version"], "W/\"1\"", "{what}");
    }
}

async fn renames_racing_other_updates_keep_the_name_whichever_write_wins(backend: Backend) {
    let (app, _receiver) = app_with_events(backend).await;
    let app = std::sync::Arc::new(app);
    let id = create(&app, RALF, "assign").await;
    let path = format!("/scim/v2/Users/{id}");
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (app, path) = (app.clone(), path.clone());
        tasks.push(tokio::spawn(async move {
            let ops = match i % 3 {
                0 => json!([
                    {"op": "replace", "path": "userName", "value": renamed(RALF)},
                    {"op": "replace", "path": "active", "value": false}
                ]),
                _ => json!([{"op": "replace", "path": "title", "value": format!("t{i}")}]),
            };
            let request = format!("race-{i}");
            call(&app, Method::PATCH, &path, &request, patch_op(ops))
                .await
                .status
                .as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let stored = app.get(&path).await.body;
    assert_eq!(stored["userName"], RALF, "{stored}");
    assert_eq!(stored["active"], false, "{stored}");
    let mut kept = 0;
    let mut deactivated = 0;
    for i in (0..12).step_by(3) {
        let noted = row(&app, &format!("race-{i}")).await;
        assert_eq!(noted.kept.as_deref(), Some("userName"), "{noted:?}");
        kept += 1;
        deactivated += usize::from(noted.deactivated);
    }
    assert_eq!(
        (kept, deactivated),
        (4, 1),
        "one rename deactivated, each kept"
    );
    let all = events(&app).await;
    let raced: Vec<_> = all.iter().filter(|e| e.txn.starts_with("race-")).collect();
    assert!(
        raced
            .iter()
            .all(|e| !e.attributes.contains(&"userName".to_owned())),
        "{raced:?}"
    );
    let deactivations = raced
        .iter()
        .filter(|e| e.kinds.names().contains(&"deactivate"));
    assert_eq!(deactivations.count(), 1, "{raced:?}");
    assert_eq!(
        raced.len(),
        9,
        "eight titles and one deactivation: {raced:?}"
    );
}

crate::on_both_stores!(
    renames_racing_other_updates_keep_the_name_whichever_write_wins,
    names_that_are_not_entras_rename_are_applied_as_sent,
    with_the_rule_apply_the_rename_is_applied_as_sent_and_frees_the_name,
    a_tenant_matching_on_external_id_keeps_it_against_the_rename,
    hostile_renamed_names_get_a_clear_answer_and_never_a_5xx,
);
