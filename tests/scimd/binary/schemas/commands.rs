//! The `scimd schema` commands beside a running server: add from a file and from standard
//! input, list (text and JSON), show, remove; each failure exits non-zero with the reason and
//! registers nothing; what a removal leaves is noted by `scimd activity`; and the tenant rule
//! `--unknown-attributes reject` set by `scimd tenant set`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{
    CONTOSO, CONTOSO_GROUP, SchemaFile, contoso_schema, expect, failed, group_schema,
    run_with_input, until_served,
};
use crate::binary::events::Setup;
use crate::support::process::Scimd;
use crate::support::{Backend, TOKEN};

/// POSTs a user with an unknown attribute until `server` refuses it (at once on SQLite, within
/// moments on PostgreSQL: see the module `schemas`); the refusal.
async fn until_refused(server: &Scimd, backend: Backend) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    for n in 0.. {
        let body = json!({"userName": format!("strict{n}@contoso.com"), "foo": "x"});
        let reply = server
            .request("POST", "/scim/v2/Users", TOKEN, &body.to_string())
            .await;
        if reply.status == 400 {
            return serde_json::from_str(&reply.body).unwrap();
        }
        assert!(
            backend == Backend::Postgres && Instant::now() < deadline && reply.status == 201,
            "{} {}",
            reply.status,
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    unreachable!()
}

async fn the_schema_commands_register_list_show_and_remove_extensions_beside_a_running_server(
    backend: Backend,
) {
    let setup = Setup::new(backend).await;
    let server = setup.serve(&[]).await;
    let file = SchemaFile::new(&contoso_schema());

    let added = setup
        .ok(&["schema", "add", "--tenant", "default", file.path()])
        .await;
    assert_eq!(
        added.trim(),
        format!(
            "registered {CONTOSO} (3 attributes) for the Users of tenant default; it applies \
             from the tenant's next request"
        )
    );
    until_served(&server, backend, CONTOSO, 200).await;
    let user = expect(
        &server,
        "POST",
        "/scim/v2/Users",
        json!({"userName": "cli@contoso.com", CONTOSO: {"costCenter": "CC-1", "remote": "True"}}),
        201,
    )
    .await;
    assert_eq!(user[CONTOSO], json!({"costCenter": "CC-1", "remote": true}));
    let user_path = format!("/scim/v2/Users/{}", user["id"].as_str().unwrap());

    // from standard input, for Groups (the resource type in any case)
    let out = run_with_input(
        &setup,
        &[
            "schema",
            "add",
            "--tenant",
            "default",
            "--resource-type",
            "group",
            "-",
        ],
        &group_schema().to_string(),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!(
            "registered {CONTOSO_GROUP} (1 attributes) for the Groups of tenant default; it \
             applies from the tenant's next request"
        )
    );
    until_served(&server, backend, CONTOSO_GROUP, 200).await;
    let group = expect(
        &server,
        "POST",
        "/scim/v2/Groups",
        json!({"displayName": "Sales", CONTOSO_GROUP: {"budget": "100"}}),
        201,
    )
    .await;
    assert_eq!(group[CONTOSO_GROUP], json!({"budget": 100}));

    // list: one line each, oldest first; --json: one object a line; show: one, as JSON
    let listed = setup.ok(&["schema", "list", "--tenant", "default"]).await;
    let lines: Vec<Vec<&str>> = listed.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert_eq!(lines[0][..3], [CONTOSO, "User", "costCenter,badge,remote"]);
    assert_eq!(lines[1][..3], [CONTOSO_GROUP, "Group", "budget"]);
    assert!(
        chrono::DateTime::parse_from_rfc3339(lines[0][3]).is_ok(),
        "{listed}"
    );
    let json_lines: Vec<Value> = setup
        .ok(&["schema", "list", "--tenant", "default", "--json"])
        .await
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(json_lines.len(), 2);
    let first = &json_lines[0];
    assert_eq!(first["id"], CONTOSO);
    assert_eq!(first["name"], "ContosoUser");
    assert_eq!(first["description"], "Contoso's own user attributes");
    assert_eq!(first["resourceType"], "User");
    assert_eq!(first["attributes"][0]["name"], "costCenter");
    assert_eq!(first["attributes"][0]["uniqueness"], "server");
    assert_eq!(first["attributes"][0]["caseExact"], false);
    assert_eq!(json_lines[1]["resourceType"], "Group");
    let shown: Value = serde_json::from_str(
        &setup
            .ok(&[
                "schema",
                "show",
                "--tenant",
                "default",
                "URN:ietf:params:scim:schemas:extension:contoso:2.0:user",
            ])
            .await,
    )
    .unwrap();
    assert_eq!(&shown, first);

    // errors: non-zero, with the reason
    failed(
        &setup
            .run(&["schema", "add", "--tenant", "default", file.path()])
            .await,
        &format!("scimd: the schema '{CONTOSO}' is already served"),
    );
    failed(
        &setup
            .run(&["schema", "add", "--tenant", "nobody", file.path()])
            .await,
        "scimd: no tenant called 'nobody'",
    );
    failed(
        &setup
            .run(&[
                "schema",
                "add",
                "--tenant",
                "default",
                "/nonexistent/schema.json",
            ])
            .await,
        "scimd: cannot read /nonexistent/schema.json",
    );
    failed(
        &run_with_input(
            &setup,
            &["schema", "add", "--tenant", "default", "-"],
            "{\"id\": ",
        )
        .await,
        "scimd: standard input is not JSON: EOF while parsing a value",
    );
    let not_json =
        std::env::temp_dir().join(format!("scimd-{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&not_json, "id: urn:x").unwrap();
    let not_json_path = not_json.to_str().unwrap().to_owned();
    let out = setup
        .run(&["schema", "add", "--tenant", "default", &not_json_path])
        .await;
    let _ = std::fs::remove_file(&not_json);
    failed(
        &out,
        &format!("scimd: {not_json_path} is not JSON: expected value"),
    );
    let mut bad = contoso_schema();
    bad["id"] = json!("urn:ietf:params:scim:schemas:extension:fabrikam:2.0:User");
    bad["attributes"][1]["type"] = json!("complex");
    let bad = SchemaFile::new(&bad);
    failed(
        &setup
            .run(&["schema", "add", "--tenant", "default", bad.path()])
            .await,
        "scimd: attribute 'badge': a complex attribute needs subAttributes",
    );
    failed(
        &setup
            .run(&[
                "schema",
                "add",
                "--tenant",
                "default",
                "--resource-type",
                "Device",
                file.path(),
            ])
            .await,
        "'Device': use User or Group",
    );
    let nothing = "urn:ietf:params:scim:schemas:extension:nothing:2.0:User";
    failed(
        &setup
            .run(&["schema", "show", "--tenant", "default", nothing])
            .await,
        &format!("scimd: tenant default has no schema '{nothing}'"),
    );
    failed(
        &setup
            .run(&["schema", "remove", "--tenant", "default", nothing])
            .await,
        &format!("scimd: tenant default has no schema '{nothing}'"),
    );
    assert_eq!(
        setup
            .ok(&["schema", "list", "--tenant", "default"])
            .await
            .lines()
            .count(),
        2,
        "the failures registered nothing"
    );

    // remove: hidden at the next request, listed no more
    let removed = setup
        .ok(&["schema", "remove", "--tenant", "default", CONTOSO])
        .await;
    assert_eq!(
        removed.trim(),
        format!(
            "removed {CONTOSO} from tenant default; values stored under it are kept, no longer \
             shown or searchable, until a PUT replaces the resource"
        )
    );
    until_served(&server, backend, CONTOSO, 404).await;
    let read = expect(&server, "GET", &user_path, Value::Null, 200).await;
    assert!(read.get(CONTOSO).is_none(), "{read}");
    let listed = setup.ok(&["schema", "list", "--tenant", "default"]).await;
    assert!(listed.starts_with(CONTOSO_GROUP), "{listed}");
    assert_eq!(listed.lines().count(), 1, "{listed}");

    // the body's keys are now unknown: noted by `scimd activity`; then refused by the rule
    expect(
        &server,
        "POST",
        "/scim/v2/Users",
        json!({"userName": "later@contoso.com", CONTOSO: {"badge": 1}, "foo": "x"}),
        201,
    )
    .await;
    let activity = setup
        .ok(&["activity", "--tenant", "default", "--json"])
        .await;
    let noted: Vec<Value> = activity
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|row| !row["ignored"].is_null())
        .collect();
    assert_eq!(noted.len(), 1, "{activity}");
    // the fields GET /api/v1/tenants/{name}/activity serves; `--until` bounds the rows
    assert!(
        noted[0]["id"].is_string() && noted[0]["at"].is_string(),
        "{activity}"
    );
    let before = setup
        .ok(&[
            "activity",
            "--tenant",
            "default",
            "--json",
            "--until",
            "2000-01-01T00:00:00Z",
        ])
        .await;
    assert!(before.trim().is_empty(), "{before}");
    assert_eq!(noted[0]["ignored"], format!("{CONTOSO}:badge, foo"));
    let text = setup.ok(&["activity", "--tenant", "default"]).await;
    assert!(
        text.contains(&format!("ignored, in no schema: {CONTOSO}:badge, foo")),
        "{text}"
    );
    let rule = setup
        .ok(&["tenant", "set", "default", "--unknown-attributes", "reject"])
        .await;
    assert!(rule.contains("unknown attributes: reject"), "{rule}");
    assert!(rule.contains("passwords: reject"), "{rule}");
    let passwords = setup
        .ok(&["tenant", "set", "default", "--passwords", "ignore"])
        .await;
    assert!(
        passwords
            .contains("unknown attributes: reject; passwords: ignore; soft-delete renames: keep;")
            && passwords.ends_with(
                "alerts e-mailed to no address
"
            ),
        "{passwords:?}"
    );
    let renames = ["tenant", "set", "default", "--soft-delete-renames", "apply"];
    let applying = setup.ok(&renames).await;
    assert!(
        applying.contains("passwords: ignore; soft-delete renames: apply;"),
        "{applying:?}"
    );
    let listed = setup.ok(&["tenant", "list"]).await;
    assert!(listed.contains("soft-delete renames: apply;"), "{listed}");
    let wrong = ["tenant", "set", "default", "--soft-delete-renames", "drop"];
    failed(&setup.run(&wrong).await, "'drop': use keep or apply");
    let refused = until_refused(&server, backend).await;
    assert_eq!(refused["scimType"], "invalidValue");
    assert!(
        refused["detail"].as_str().unwrap().contains("'foo'"),
        "{refused}"
    );
    failed(
        &setup
            .run(&["tenant", "set", "default", "--unknown-attributes", "drop"])
            .await,
        "'drop': use ignore or reject",
    );
    server.kill().await;
}

crate::on_both_stores!(
    the_schema_commands_register_list_show_and_remove_extensions_beside_a_running_server
);
