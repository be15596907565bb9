//! A registration or removal made by `scimd schema` while processes serve the database applies
//! at every process without a restart: two replicas on one PostgreSQL database, one process
//! on a SQLite file. Each process served the tenant (its token and its schemas cached) before
//! the change; afterwards each accepts, shows, filters and keeps unique the extension's
//! attributes, or hides them once removed.

use serde_json::{Value, json};

use super::{CONTOSO, SchemaFile, contoso_schema, expect, until_served};
use crate::binary::events::Setup;
use crate::support::process::Scimd;
use crate::support::{Backend, encode};

/// The extension's schema as `server` serves it now (`Null` when it serves none).
async fn extension_schema(server: &Scimd) -> Value {
    let reply = server
        .request(
            "GET",
            &format!("/scim/v2/Schemas/{CONTOSO}"),
            crate::support::TOKEN,
            "",
        )
        .await;
    serde_json::from_str(&reply.body).unwrap_or(Value::Null)
}

/// `GET /scim/v2/Users/<id>` on `server`: the user's extension object (`Null` when hidden).
async fn extension_of(server: &Scimd, path: &str) -> Value {
    let user = expect(server, "GET", path, Value::Null, 200).await;
    user.get(CONTOSO).cloned().unwrap_or(Value::Null)
}

async fn a_schema_registered_or_removed_by_the_command_applies_at_every_process_without_a_restart(
    backend: Backend,
) {
    let setup = Setup::new(backend).await;
    // two replicas on PostgreSQL; a SQLite file is served by one process
    let mut servers = vec![setup.serve(&[]).await];
    if backend == Backend::Postgres {
        servers.push(setup.serve(&[]).await);
    }
    let lenient = {
        let mut doc = contoso_schema();
        doc["attributes"] = json!([{"name": "badge", "type": "integer"}]);
        SchemaFile::new(&doc)
    };
    let full = SchemaFile::new(&contoso_schema());
    let last = servers.len() - 1;

    // every process serves the tenant (its token and its schemas cached) before the change
    let body =
        json!({"userName": "early@contoso.com", CONTOSO: {"badge": 1, "costCenter": "CC-0"}});
    let early = expect(&servers[0], "POST", "/scim/v2/Users", body, 201).await;
    let early_path = format!("/scim/v2/Users/{}", early["id"].as_str().unwrap());
    assert!(early.get(CONTOSO).is_none(), "not registered yet: {early}");
    for server in &servers {
        let schemas = expect(server, "GET", "/scim/v2/Schemas", Value::Null, 200).await;
        assert_eq!(schemas["totalResults"], 3);
    }

    setup
        .ok(&["schema", "add", "--tenant", "default", lenient.path()])
        .await;
    for (i, server) in servers.iter().enumerate() {
        until_served(server, backend, CONTOSO, 200).await;
        let created = expect(
            server,
            "POST",
            "/scim/v2/Users",
            json!({"userName": format!("u{i}@contoso.com"), CONTOSO: {"badge": i + 2}}),
            201,
        )
        .await;
        assert_eq!(created[CONTOSO], json!({"badge": i + 2}), "process {i}");
        let one = expect(
            server,
            "GET",
            &format!("/scim/v2/Schemas/{CONTOSO}"),
            Value::Null,
            200,
        )
        .await;
        assert_eq!(one["attributes"][0]["name"], "badge", "process {i}");
    }

    let badge = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": CONTOSO, "value": {"badge": "1"}}]});
    let patched = expect(&servers[last], "PATCH", &early_path, badge, 200).await;
    assert_eq!(patched[CONTOSO], json!({"badge": 1}));

    // replaced by the fuller version: its new attribute and its unique index, everywhere
    setup
        .ok(&["schema", "remove", "--tenant", "default", CONTOSO])
        .await;
    for (i, server) in servers.iter().enumerate() {
        until_served(server, backend, CONTOSO, 404).await;
        assert_eq!(
            extension_of(server, &early_path).await,
            Value::Null,
            "process {i}"
        );
    }
    setup
        .ok(&["schema", "add", "--tenant", "default", full.path()])
        .await;
    for (i, server) in servers.iter().enumerate() {
        until_served(server, backend, CONTOSO, 200).await;
        assert_eq!(
            extension_schema(server).await["attributes"][0]["name"],
            "costCenter",
            "process {i} serves the fuller version"
        );
        let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": format!("{CONTOSO}:costCenter"), "value": format!("CC-{i}")},
                           {"op": "Replace", "path": format!("{CONTOSO}:remote"), "value": "False"}]});
        let patched = expect(server, "PATCH", &early_path, patch, 200).await;
        assert_eq!(
            patched[CONTOSO],
            json!({"badge": 1, "costCenter": format!("CC-{i}"), "remote": false}),
            "process {i}"
        );
    }
    for (i, server) in servers.iter().enumerate() {
        let dup = expect(
            server,
            "POST",
            "/scim/v2/Users",
            json!({"userName": format!("dup{i}@contoso.com"), CONTOSO: {"costCenter": format!("cc-{last}")}}),
            409,
        )
        .await;
        assert_eq!(dup["scimType"], "uniqueness", "process {i}");
        let found = expect(
            server,
            "GET",
            &format!(
                "/scim/v2/Users?filter={}",
                encode(&format!("{CONTOSO}:remote eq false"))
            ),
            Value::Null,
            200,
        )
        .await;
        assert_eq!(found["totalResults"], 1, "process {i}");
    }
    for server in servers {
        server.kill().await;
    }
}

crate::on_both_stores!(
    a_schema_registered_or_removed_by_the_command_applies_at_every_process_without_a_restart
);
