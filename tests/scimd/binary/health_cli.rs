//! `scimd health`: 60 refused and 10 accepted creates put a tenant in `degraded` in
//! `scimd health --tenant T --json`, with the top refusal's count and fix; 20 requests with a
//! revoked token put it in `credentials_rejected`; without `--tenant`, every tenant worst first,
//! as a table or JSON lines; an unknown tenant is a clear error.

use std::process::{Command, Output};

use serde_json::Value;

use crate::api::health::{PROBE, connected_tenant, creates, scim};
use crate::support::{Backend, TestApp, TestDb};

crate::on_both_stores!(health_shows_each_tenant_s_state_reasons_and_fixes_as_json_and_table);

fn scimd(url: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scimd"));
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("SCIMD_")) {
        command.env_remove(name);
    }
    command
        .args(args)
        .env("SCIMD_DATABASE_URL", url)
        .output()
        .expect("run scimd")
}

#[track_caller]
fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect()
}

async fn health_shows_each_tenant_s_state_reasons_and_fixes_as_json_and_table(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::on(db.replica()).await;
    let token = connected_tenant(&app, "contoso").await;
    connected_tenant(&app, "fabrikam").await;
    creates(&app, &token, 10, 60).await;

    let one = json_lines(&succeeded(&scimd(
        &db.url,
        &["health", "--tenant", "contoso", "--json"],
    )));
    assert_eq!(one.len(), 1, "{one:?}");
    let contoso = &one[0];
    assert_eq!(contoso["tenant"], "contoso");
    assert_eq!(contoso["state"], "degraded", "{contoso}");
    assert!(contoso["since"].is_string(), "{contoso}");
    assert_eq!(contoso["reasons"][0]["kind"], "no_role");
    assert_eq!(contoso["reasons"][0]["count"], 60);
    assert!(
        contoso["reasons"][0]["fix"]
            .as_str()
            .unwrap()
            .contains("role"),
        "{contoso}"
    );

    let table = succeeded(&scimd(&db.url, &["health"]));
    let rows: Vec<&str> = table
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        rows,
        ["tenant", "contoso", "fabrikam", "default"],
        "{table}"
    );
    assert!(table.contains("60 users have no role"), "{table}");
    assert!(table.contains("      fix: "), "{table}");

    // the token revoked: Entra's next 20 requests are refused
    let dir = &app.state.directory;
    let issued = dir.tokens("contoso").await.unwrap();
    dir.revoke_token(issued[0].id).await.unwrap();
    for _ in 0..20 {
        assert_eq!(scim(&app, "GET", PROBE, &token, None).await.status, 401);
    }
    let all = json_lines(&succeeded(&scimd(&db.url, &["health", "--json"])));
    let states: Vec<(&str, &str)> = all
        .iter()
        .map(|t| (t["tenant"].as_str().unwrap(), t["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("contoso", "credentials_rejected"),
            ("fabrikam", "healthy"),
            ("default", "not_connected")
        ]
    );
    assert_eq!(all[0]["reasons"][0]["count"], 20, "{}", all[0]);
    assert_eq!(all[0]["reasons"][0]["kind"], "credentials", "{}", all[0]);
    assert_eq!(all[0]["reasons"][0]["status"], 401, "{}", all[0]);

    let unknown = scimd(&db.url, &["health", "--tenant", "nobody"]);
    assert!(!unknown.status.success());
    let said = String::from_utf8_lossy(&unknown.stderr);
    assert!(said.contains("nobody"), "{said}");
}
