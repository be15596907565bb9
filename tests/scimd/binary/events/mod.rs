//! SCIM events with the real binary: `scimd serve` processes delivering to a real receiver —
//! two replicas on one PostgreSQL database, a replica killed (`kill -9`) mid-delivery — the
//! `scimd webhook` and `scimd events tail` commands as operators run them, and the events'
//! Prometheus series.

mod commands;
mod replicas;

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::process::Scimd;
use crate::support::receiver::{Receiver, eventually};
use crate::support::{Backend, TOKEN, TestDb};

/// How long a test waits for what should come within a few seconds.
pub const WAIT: Duration = Duration::from_secs(30);

/// A database of its own and the `SCIMD_*` settings every process of the test gets.
pub struct Setup {
    pub db: TestDb,
    pub dir: PathBuf,
}

impl Setup {
    pub async fn new(backend: Backend) -> Self {
        Self {
            db: TestDb::new(backend).await,
            dir: std::env::temp_dir(),
        }
    }

    /// The settings: the database and the bootstrap token, with `more`.
    pub fn env<'a>(&'a self, more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut env = vec![
            ("SCIMD_DATABASE_URL", self.db.url.as_str()),
            ("SCIMD_BOOTSTRAP_TOKEN", TOKEN),
        ];
        env.extend_from_slice(more);
        env
    }

    /// `scimd serve` on the test's database.
    pub async fn serve(&self, more: &[(&str, &str)]) -> Scimd {
        Scimd::start(&self.dir, &self.env(more)).await.0
    }

    /// The command `scimd <args>` on the test's database, its settings exactly those.
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimd"));
        command.args(args).current_dir(&self.dir);
        for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("SCIMD_")) {
            command.env_remove(name);
        }
        command
            .env("SCIMD_LOG", "warn")
            .envs(self.env(&[]))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    /// Runs `scimd <args>` to its end.
    pub async fn run(&self, args: &[&str]) -> Output {
        tokio::time::timeout(WAIT, self.command(args).output())
            .await
            .unwrap_or_else(|_| panic!("scimd {args:?} did not end within {WAIT:?}"))
            .unwrap()
    }

    /// Runs `scimd <args>`, which must succeed; its standard output.
    pub async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(
            out.status.success(),
            "scimd {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `scimd webhook add --json` for `url`: the subscription's id and secret.
    pub async fn add_webhook(&self, url: &str, more: &[&str]) -> (String, String) {
        let mut args = vec![
            "webhook", "add", "--tenant", "default", "--url", url, "--json",
        ];
        args.extend_from_slice(more);
        let added: Value = serde_json::from_str(&self.ok(&args).await).unwrap();
        (
            added["id"].as_str().unwrap().to_owned(),
            added["secret"].as_str().unwrap().to_owned(),
        )
    }

    /// The subscription `id` as `scimd webhook list --json` shows it.
    pub async fn listed(&self, id: &str) -> Value {
        let out = self.ok(&["webhook", "list", "--json"]).await;
        out.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("webhook {id} is not listed: {out}"))
    }

    /// Waits until `webhook list` shows `delivered` delivered and nothing waiting.
    pub async fn settled(&self, id: &str, delivered: u64) {
        eventually(
            &format!("webhook {id} has {delivered} delivered, none waiting"),
            WAIT,
            async || {
                let s = self.listed(id).await;
                s["delivered"] == delivered && s["backlog"] == 0
            },
        )
        .await;
    }
}

/// Creates user `name` through `server`; its id.
pub async fn create_user(server: &Scimd, name: &str) -> String {
    let body = serde_json::json!({"userName": name, "externalId": format!("ext-{name}")});
    let reply = server
        .request("POST", "/scim/v2/Users", TOKEN, &body.to_string())
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let user: Value = serde_json::from_str(&reply.body).unwrap();
    user["id"].as_str().unwrap().to_owned()
}

/// Entra's deactivation of user `id` through `server`.
pub async fn deactivate(server: &Scimd, id: &str) {
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]
    });
    let reply = server
        .request(
            "PATCH",
            &format!("/scim/v2/Users/{id}"),
            TOKEN,
            &body.to_string(),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// The sum of the Prometheus series `name` whose labels include `label`.
fn series(text: &str, name: &str, label: &str) -> Option<f64> {
    let values: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| l.contains(label))
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

async fn deliveries_and_the_backlog_are_exposed_as_prometheus_series(backend: Backend) {
    let setup = Setup::new(backend).await;
    let metrics_token = crate::support::METRICS_TOKEN;
    let server = setup.serve(&[("SCIMD_METRICS_TOKEN", metrics_token)]).await;
    let receiver = Receiver::start().await;
    let (id, _) = setup.add_webhook(&receiver.url(), &[]).await;
    create_user(&server, "metrics@example.com").await;
    receiver.wait_for_delivered(1, WAIT).await;
    let scrape = async || {
        let reply = server.request("GET", "/metrics", metrics_token, "").await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    };
    eventually("the delivery is counted", WAIT, async || {
        series(
            &scrape().await,
            "scimd_events_delivered_total",
            "outcome=\"delivered\"",
        ) == Some(1.0)
    })
    .await;
    let text = scrape().await;
    assert_eq!(
        series(&text, "scimd_events_total", "kind=\"create\""),
        Some(1.0),
        "{text}"
    );

    // two events wait behind a paused subscription: the gauge shows them after its next
    // count (every 10 s)
    setup.ok(&["webhook", "pause", &id]).await;
    create_user(&server, "m2@example.com").await;
    create_user(&server, "m3@example.com").await;
    eventually("scimd_events_pending is 2", WAIT, async || {
        series(&scrape().await, "scimd_events_pending", "") == Some(2.0)
    })
    .await;
    setup.ok(&["webhook", "resume", &id]).await;
    receiver.wait_for_delivered(3, WAIT).await;
    eventually("the three deliveries are counted", WAIT, async || {
        series(
            &scrape().await,
            "scimd_events_delivered_total",
            "outcome=\"delivered\"",
        ) == Some(3.0)
    })
    .await;
    server.kill().await;
}

crate::on_both_stores!(deliveries_and_the_backlog_are_exposed_as_prometheus_series);
