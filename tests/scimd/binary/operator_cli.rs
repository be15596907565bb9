//! The commands of the application's API, as an operator runs them on a database: an operator
//! key made with `scimd operator-key add --json` works at `/api/v1` of a server on the same
//! database, `list` never shows a secret, `remove` refuses it; `scimd audit` shows what the
//! commands and the API did; `scimd tenant delete` wants the name repeated.

use std::process::{Command, Output};

use axum::http::Method;
use serde_json::{Value, json};

use crate::operator_api::assert_problem;
use crate::support::{Backend, TestApp, TestDb};

crate::on_both_stores!(
    an_operator_key_made_by_the_command_drives_the_api_until_it_is_removed,
    the_audit_command_shows_who_changed_what_and_deleting_a_tenant_wants_its_name_again,
);

/// `scimd args` on the database at `url`, as the operator `ops-alice`.
fn scimd(url: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scimd"));
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("SCIMD_")) {
        command.env_remove(name);
    }
    command
        .args(args)
        .env("SCIMD_DATABASE_URL", url)
        .env("USER", "ops-alice")
        .output()
        .expect("run scimd")
}

/// The standard output of a command that succeeded.
#[track_caller]
fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// A GET of `path` with `key`.
async fn get(app: &TestApp, path: &str, key: &str) -> crate::support::TestResponse {
    let req = axum::http::Request::builder()
        .method(Method::GET)
        .uri(path)
        .header("authorization", format!("Bearer {key}"))
        .body(axum::body::Body::empty())
        .unwrap();
    app.send(req).await
}

async fn an_operator_key_made_by_the_command_drives_the_api_until_it_is_removed(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::on(db.replica()).await;
    let added: Value = serde_json::from_str(&succeeded(&scimd(
        &db.url,
        &["operator-key", "add", "--name", "backend", "--json"],
    )))
    .unwrap();
    let key = added["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("scimd_op_"), "{added}");
    assert_eq!(added["name"], "backend");
    assert_eq!(added["read_only"], false);
    let listed = get(&app, "/api/v1/tenants", &key).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let plain = succeeded(&scimd(
        &db.url,
        &["operator-key", "add", "--name", "dashboard", "--read-only"],
    ));
    assert!(plain.trim().starts_with("scimd_op_"), "{plain}");
    let list = succeeded(&scimd(&db.url, &["operator-key", "list", "--json"]));
    let keys: Vec<Value> = list
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["name"], "backend");
    assert!(keys[0]["last_used"].is_string(), "used once: {}", keys[0]);
    assert_eq!(keys[1]["read_only"], true);
    assert!(!list.contains("scimd_op_"), "{list}");
    let taken = scimd(&db.url, &["operator-key", "add", "--name", "BACKEND"]);
    assert!(!taken.status.success());
    assert!(
        String::from_utf8_lossy(&taken.stderr).contains("already called"),
        "{taken:?}"
    );
    succeeded(&scimd(&db.url, &["operator-key", "remove", "backend"]));
    let mut refused = get(&app, "/api/v1/tenants", &key).await;
    for _ in 0..50 {
        if refused.status == 401 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        refused = get(&app, "/api/v1/tenants", &key).await;
    }
    assert_problem(&refused, 401, "unauthorized", None);
    let gone = scimd(&db.url, &["operator-key", "remove", "backend"]);
    assert!(!gone.status.success(), "{gone:?}");
}

async fn the_audit_command_shows_who_changed_what_and_deleting_a_tenant_wants_its_name_again(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let app = TestApp::on(db.replica()).await;
    succeeded(&scimd(&db.url, &["tenant", "create", "contoso"]));
    let key = app
        .state
        .directory
        .add_operator_key("backend", false)
        .await
        .unwrap()
        .key;
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/v1/tenants/contoso/tokens")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({ "label": "entra" }).to_string(),
        ))
        .unwrap();
    assert_eq!(app.send(req).await.status, 201);
    let wrong = scimd(
        &db.url,
        &["tenant", "delete", "contoso", "--confirm", "fabrikam"],
    );
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("--confirm contoso"),
        "{wrong:?}"
    );
    assert_eq!(get(&app, "/api/v1/tenants/contoso", &key).await.status, 200);
    succeeded(&scimd(
        &db.url,
        &["tenant", "delete", "contoso", "--confirm", "contoso"],
    ));
    assert_eq!(get(&app, "/api/v1/tenants/contoso", &key).await.status, 404);
    let lines = succeeded(&scimd(&db.url, &["audit", "--tenant", "contoso", "--json"]));
    let entries: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seen: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"]["kind"].as_str().unwrap(),
                e["actor"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("tenant.delete", "cli", "ops-alice"),
            ("token.issue", "operator_key", "backend"),
            ("tenant.create", "cli", "ops-alice"),
        ]
    );
    // the same entries as the API's
    let api = get(&app, "/api/v1/audit?tenant=contoso", &key).await;
    assert_eq!(api.body["items"], Value::Array(entries));
    let table = succeeded(&scimd(&db.url, &["audit"]));
    assert!(
        table.contains("tenant.delete") && table.contains("cli ops-alice"),
        "{table}"
    );
}
