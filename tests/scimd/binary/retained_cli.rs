//! `scimd tenant set --on-delete retain --retain-for … --restore-on-create …` and `scimd
//! retained list|restore`, beside a server of the same database: the rule shown by `tenant
//! set` and `tenant list`, bad values refused naming the good ones; a user the server retained
//! listed (a table and JSON lines) and restored with its id; an unknown id or tenant refused.

use std::process::{Command, Output};

use axum::http::Method;
use serde_json::{Value, json};

use crate::support::{Backend, TestApp, TestDb, entra_user};

crate::on_both_stores!(
    the_retained_commands_set_the_rule_list_retained_users_and_restore_one_with_its_id,
);

/// `scimd args` on the database at `url`.
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

#[track_caller]
fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[track_caller]
fn failed(output: &Output, reason: &str) {
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(reason), "{reason}: {stderr}");
}

async fn the_retained_commands_set_the_rule_list_retained_users_and_restore_one_with_its_id(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    succeeded(&scimd(&db.url, &["tenant", "create", "default"]));
    let set = [
        "tenant",
        "set",
        "default",
        "--on-delete",
        "retain",
        "--retain-for",
        "7d",
    ];
    let shown = succeeded(&scimd(&db.url, &set));
    assert!(
        shown
            .contains("soft-delete renames: keep; on delete: retain for 7d, restore on create on;"),
        "{shown:?}"
    );
    let off = ["tenant", "set", "default", "--restore-on-create", "OFF"];
    let shown = succeeded(&scimd(&db.url, &off));
    assert!(
        shown.contains("on delete: retain for 7d, restore on create off;"),
        "{shown:?}"
    );
    let on = ["tenant", "set", "default", "--restore-on-create", "on"];
    succeeded(&scimd(&db.url, &on));
    let listed = succeeded(&scimd(&db.url, &["tenant", "list"]));
    assert!(
        listed.contains("on delete: retain for 7d, restore on create on;"),
        "{listed}"
    );
    for (flag, value, reason) in [
        ("--on-delete", "archive", "'archive': use delete or retain"),
        ("--retain-for", "0", "no time at all"),
        ("--retain-for", "forever", "is not a duration"),
        ("--restore-on-create", "maybe", "'maybe': use on or off"),
    ] {
        failed(
            &scimd(&db.url, &["tenant", "set", "default", flag, value]),
            reason,
        );
    }
    let still = succeeded(&scimd(&db.url, &["tenant", "list"]));
    assert_eq!(still, listed, "a refused rule changes nothing");

    // the server, on the same database, retains what Entra deletes
    let app = TestApp::on(db.replica()).await;
    let mut body = entra_user("ralf@contoso.com");
    body["externalId"] = json!("ext-ralf");
    let created = app.post("/scim/v2/Users", body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/scim/v2/Users/{id}");
    assert_eq!(app.call(Method::DELETE, &path, None).await.status, 204);
    assert_eq!(app.get(&path).await.status, 404);

    let list = ["retained", "list", "--tenant", "default", "--json"];
    let lines = succeeded(&scimd(&db.url, &list));
    let items: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(items.len(), 1, "{lines}");
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["user_name"], "ralf@contoso.com");
    assert_eq!(items[0]["external_id"], "ext-ralf");
    let keys: Vec<&String> = items[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "user_name",
            "external_id",
            "deleted_at",
            "purge_after"
        ]
    );
    let table = succeeded(&scimd(
        &db.url,
        &["retained", "list", "--tenant", "default"],
    ));
    assert!(
        table.starts_with(&format!("{id}\tralf@contoso.com\text-ralf\tdeleted ")),
        "{table}"
    );

    let restore = ["retained", "restore", "--tenant", "default", &id];
    let restored = succeeded(&scimd(&db.url, &restore));
    assert_eq!(
        restored.trim(),
        format!("restored user {id} (ralf@contoso.com) of tenant default at version 2")
    );
    let back = app.get(&path).await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.body["meta"]["version"], "W/\"2\"");
    assert_eq!(succeeded(&scimd(&db.url, &list)), "");
    failed(&scimd(&db.url, &restore), "retains no user");
    let bad = ["retained", "restore", "--tenant", "default", "not-a-uuid"];
    failed(&scimd(&db.url, &bad), "not-a-uuid");
    let nobody = ["retained", "list", "--tenant", "nobody"];
    failed(&scimd(&db.url, &nobody), "nobody");
    let audit = succeeded(&scimd(&db.url, &["audit", "--tenant", "default"]));
    assert!(audit.contains("retained.restore"), "{audit}");
    assert!(
        audit.contains("on_delete=retain, retain_for=604800s"),
        "{audit}"
    );
}
