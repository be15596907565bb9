//! `scimd schema …` as operators run it, beside running `scimd serve` processes: a schema
//! document registered from a file or from standard input, listed, shown, removed, errors
//! exiting non-zero with the reason (`commands`); and a registration or removal made by the
//! command applies without a restart on every process on the database — two replicas on one
//! PostgreSQL database, one process on a SQLite file (`replicas`).
//!
//! When it applies: a running process learns of the change when the tenant is next read. On
//! SQLite every request reads it, so the very next request sees the change. On PostgreSQL the
//! tenant rides on the cached token, which the change's `NOTIFY` clears on every process; the
//! notification reaches a process moments after the command's commit, so a request sent in
//! those moments can still see the tenant as it was (observed here, rarely, on a loaded
//! machine). The tests wait for that on PostgreSQL, boundedly, and nowhere else.

mod commands;
mod replicas;

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use super::events::{Setup, WAIT};
use crate::support::process::Scimd;
use crate::support::{Backend, TOKEN};

/// How long a PostgreSQL process may take to hear of a change (the notification's trip).
const NOTIFIED: Duration = Duration::from_secs(10);

pub const CONTOSO: &str = "urn:ietf:params:scim:schemas:extension:contoso:2.0:User";
pub const CONTOSO_GROUP: &str = "urn:ietf:params:scim:schemas:extension:contoso:2.0:Group";

pub fn contoso_schema() -> Value {
    json!({
        "id": CONTOSO,
        "name": "ContosoUser",
        "description": "Contoso's own user attributes",
        "attributes": [
            {"name": "costCenter", "type": "string", "uniqueness": "server"},
            {"name": "badge", "type": "integer"},
            {"name": "remote", "type": "boolean"}
        ]
    })
}

pub fn group_schema() -> Value {
    json!({
        "id": CONTOSO_GROUP,
        "name": "ContosoGroup",
        "attributes": [{"name": "budget", "type": "integer"}]
    })
}

/// `document` in a file of its own, removed with the value.
pub struct SchemaFile(PathBuf);

impl SchemaFile {
    pub fn new(document: &Value) -> Self {
        let path = std::env::temp_dir().join(format!(
            "scimd-schema-{}.json",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&path, document.to_string()).unwrap();
        Self(path)
    }

    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for SchemaFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `scimd <args>` with `input` on its standard input.
pub async fn run_with_input(setup: &Setup, args: &[&str], input: &str) -> Output {
    let mut command = setup.command(args);
    command.stdin(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("scimd {args:?} did not end within {WAIT:?}"))
        .unwrap()
}

/// Asserts that `out` is a failure whose message says `reason`.
#[track_caller]
pub fn failed(out: &Output, reason: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains(reason), "{stderr}");
}

/// A request to `server` that must answer `status`; the body as JSON.
pub async fn expect(server: &Scimd, method: &str, path: &str, body: Value, status: u16) -> Value {
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let reply = server.request(method, path, TOKEN, &body).await;
    assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
    serde_json::from_str(&reply.body).unwrap_or(Value::Null)
}

/// Waits until `server` answers `GET /Schemas/<urn>` with `status` (200: registered, 404:
/// not): at once on SQLite, within moments on PostgreSQL (see the module's documentation).
pub async fn until_served(server: &Scimd, backend: Backend, urn: &str, status: u16) {
    let path = format!("/scim/v2/Schemas/{urn}");
    let deadline = Instant::now() + NOTIFIED;
    loop {
        let reply = server.request("GET", &path, TOKEN, "").await;
        if reply.status == status {
            return;
        }
        assert!(
            backend == Backend::Postgres && Instant::now() < deadline,
            "GET {path}: {} {}, not {status}",
            reply.status,
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
