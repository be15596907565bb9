//! The audit trail of administration: every change made over the API, by a `scimd` command or
//! in the console is recorded with who made it, what, of which tenant, when and from where;
//! never a secret; newest first, page by page; pruned after its retention.

use axum::http::Method;
use serde_json::{Value, json};

use super::Api;
use crate::support::Backend;
use scimd::domain::audit::Actor;

crate::on_both_stores!(
    every_change_over_the_api_and_by_a_command_is_in_the_audit_trail_with_who_made_it,
    no_secret_is_ever_in_the_audit_trail,
    the_audit_trail_is_read_newest_first_page_by_page_and_by_tenant,
    audit_entries_older_than_the_retention_are_pruned,
);

/// The trail's entries, newest first: (action, tenant, actor kind, actor name).
async fn trail(api: &Api, query: &str) -> Vec<(String, Value, String, String)> {
    api.all(&format!("/api/v1/audit{query}"), 100)
        .await
        .into_iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["tenant"].clone(),
                e["actor"]["kind"].as_str().unwrap().to_owned(),
                e["actor"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn every_change_over_the_api_and_by_a_command_is_in_the_audit_trail_with_who_made_it(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    api.patch("/api/v1/tenants/contoso", json!({ "require_role": true }))
        .await;
    let token = api.post("/api/v1/tenants/contoso/tokens", json!({})).await;
    let id = token.body["id"].as_str().unwrap().to_owned();
    api.delete(&format!("/api/v1/tenants/contoso/tokens/{id}"))
        .await;
    // what a `scimd` command does, as the person running it
    let cli = api.app.state.directory.acting(Actor {
        kind: scimd::domain::audit::ActorKind::Cli,
        name: "ops-alice".into(),
        address: None,
    });
    cli.issue_token("contoso", Some("from-the-shell"))
        .await
        .unwrap();
    let entries = api.all("/api/v1/audit?tenant=contoso", 100).await;
    let seen: Vec<(&str, &str, &str, Value, Value)> = entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"]["kind"].as_str().unwrap(),
                e["actor"]["name"].as_str().unwrap(),
                e["target"].clone(),
                e["detail"].clone(),
            )
        })
        .collect();
    let cli_token = &seen[0].3;
    assert_eq!(
        seen,
        [
            (
                "token.issue",
                "cli",
                "ops-alice",
                cli_token.clone(),
                json!("label=from-the-shell")
            ),
            (
                "token.revoke",
                "operator_key",
                "backend",
                json!(id),
                Value::Null
            ),
            (
                "token.issue",
                "operator_key",
                "backend",
                json!(id),
                Value::Null
            ),
            (
                "tenant.set",
                "operator_key",
                "backend",
                Value::Null,
                json!("require_role=true")
            ),
            (
                "tenant.create",
                "operator_key",
                "backend",
                Value::Null,
                Value::Null
            ),
        ]
    );
    for entry in &entries {
        assert_eq!(entry["tenant"], "contoso");
        assert!(entry["at"].as_str().unwrap().ends_with('Z'));
        let expected_address = if entry["actor"]["kind"] == "cli" {
            Value::Null
        } else {
            // requests through the router in tests come from no socket: no address is known
            entry["actor"]["address"].clone()
        };
        assert_eq!(entry["actor"]["address"], expected_address);
    }
    // a change that was refused is not in the trail
    let refused = api
        .post("/api/v1/tenants", json!({ "name": "contoso" }))
        .await;
    assert_eq!(refused.status, 409);
    assert_eq!(
        api.all("/api/v1/audit?tenant=contoso", 100).await.len(),
        entries.len()
    );
}

async fn no_secret_is_ever_in_the_audit_trail(backend: Backend) {
    let api = Api::new(backend).await;
    let dir = &api.app.state.directory;
    let mut secrets = vec![api.key.clone()];
    api.tenant("contoso").await;
    let token = api.post("/api/v1/tenants/contoso/tokens", json!({})).await;
    secrets.push(token.body["token"].as_str().unwrap().to_owned());
    let key = dir.add_operator_key("second", false).await.unwrap();
    secrets.push(key.key);
    let client = dir
        .add_client(
            "contoso",
            &["https://portal.azure.com/TokenAuthorize".into()],
        )
        .await
        .unwrap();
    secrets.push(client.secret);
    let rotated = dir
        .rotate_client_secret(&client.client.client_id)
        .await
        .unwrap();
    secrets.push(rotated.secret);
    let password = "correct horse battery staple";
    dir.add_admin("contoso", "ada", password, true)
        .await
        .unwrap();
    dir.set_admin_password("contoso", "ada", "another long passphrase")
        .await
        .unwrap();
    secrets.push(password.into());
    secrets.push("another long passphrase".into());
    let hook = dir
        .add_webhook(
            "contoso",
            "https://hooks.example.com/scim",
            scimd::domain::events::Kinds::ALL,
            false,
        )
        .await
        .unwrap();
    secrets.push(hook.secret);
    let rotated = dir
        .rotate_webhook_secret(&hook.subscription.id.to_string())
        .await
        .unwrap();
    secrets.push(rotated.secret);
    let everything = api.all("/api/v1/audit", 1000).await;
    assert!(everything.len() >= 9, "{everything:?}");
    let text = serde_json::to_string(&everything).unwrap();
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret is in the trail: {secret}"
        );
    }
    let actions: Vec<&str> = everything
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "client.add",
        "client.rotate",
        "admin.add",
        "admin.password",
        "webhook.add",
        "webhook.rotate",
        "operator_key.add",
    ] {
        assert!(actions.contains(&action), "{action} not in {actions:?}");
    }
}

async fn the_audit_trail_is_read_newest_first_page_by_page_and_by_tenant(backend: Backend) {
    let api = Api::new(backend).await;
    for name in ["t1", "t2", "t3", "t4", "t5"] {
        api.tenant(name).await;
        api.post(&format!("/api/v1/tenants/{name}/tokens"), json!({}))
            .await;
    }
    let all = trail(&api, "").await;
    // 10 from the API, and what the fixture and the bootstrap token did
    let ours: Vec<&(String, Value, String, String)> =
        all.iter().filter(|e| e.2 == "operator_key").collect();
    assert_eq!(ours.len(), 10);
    let expected: Vec<(String, Value)> = ["t5", "t4", "t3", "t2", "t1"]
        .iter()
        .flat_map(|t| {
            [
                ("token.issue".to_owned(), json!(t)),
                ("tenant.create".to_owned(), json!(t)),
            ]
        })
        .collect();
    let got: Vec<(String, Value)> = ours.iter().map(|e| (e.0.clone(), e.1.clone())).collect();
    assert_eq!(got, expected);
    // pages of 3 cover the same entries, in the same order
    let paged: Vec<Value> = api.all("/api/v1/audit", 3).await;
    assert_eq!(paged.len(), all.len());
    let t3 = trail(&api, "?tenant=t3").await;
    assert_eq!(
        t3.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
        ["token.issue", "tenant.create"]
    );
    assert!(trail(&api, "?tenant=nobody").await.is_empty());
    let nul = api
        .call(Method::GET, "/api/v1/audit?tenant=a%00b", None)
        .await;
    super::assert_problem(&nul, 422, "validation", Some("tenant"));
}

async fn audit_entries_older_than_the_retention_are_pruned(backend: Backend) {
    let api = Api::new(backend).await;
    let dir = &api.app.state.directory;
    let clock = dir.clock();
    clock.set(clock.now());
    api.tenant("old").await;
    clock.advance(std::time::Duration::from_secs(10 * 24 * 3600));
    api.tenant("new").await;
    let before = trail(&api, "").await.len();
    let pruned = dir
        .prune_audit(std::time::Duration::from_secs(5 * 24 * 3600))
        .await
        .unwrap();
    // the old tenant's creation, the fixture's key and the bootstrap's entries are older
    assert!(pruned >= 1, "{pruned}");
    let after = trail(&api, "").await;
    assert_eq!(after.len() as u64, before as u64 - pruned);
    assert_eq!(after[0].0, "tenant.create");
    assert_eq!(after[0].1, "new");
    assert!(after.iter().all(|e| e.1 != "old"), "{after:?}");
}
