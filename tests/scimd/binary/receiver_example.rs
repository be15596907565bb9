//! The book's example receiver, `docs/event-receiver.py`, run as it is (python3, which the
//! test needs and fails without) against a real scimd process and its CLI: it verifies and
//! prints the SCIM events scimd pushes, says where a deactivation ends the user's sessions,
//! answers a malformed body `invalid_request`, and once the secret is rotated without telling
//! it, refuses the next event (400 `invalid_key`), which scimd drops and shows in
//! `scimd webhook show`.

use std::process::Stdio;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdout, Command};
use tokio::time::timeout;

use crate::support::ports::free_port;
use crate::support::process::Scimd;
use crate::support::{Backend, TOKEN, TestDb};

/// The receiver the README points to, exactly as shipped.
const RECEIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/event-receiver.py");
/// How long an event may take to reach the receiver, or a refusal to be recorded (the first
/// push may find the receiver still starting and be retried after a second or two).
const WAIT: Duration = Duration::from_secs(60);

/// `scimd ARGS` on the database at `url`, as an operator runs it (no inherited `SCIMD_*`
/// setting): whether it succeeded, what it printed on stdout, and on stderr.
async fn cli(url: &str, args: &[&str]) -> (bool, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scimd"));
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("SCIMD_")) {
        command.env_remove(name);
    }
    let output = command
        .args(args)
        .env("SCIMD_DATABASE_URL", url)
        .env("SCIMD_LOG", "warn")
        .output()
        .await
        .expect("run scimd");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.success(), stdout, stderr)
}

/// `scimd ARGS --json`, which must succeed, as JSON.
async fn cli_json(url: &str, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let (ok, stdout, stderr) = cli(url, &args).await;
    assert!(ok, "scimd {args:?} failed: {stdout}{stderr}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// `python3 docs/event-receiver.py PORT` with a subscription's secret and URL.
struct Receiver {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    port: u16,
}

impl Receiver {
    async fn start(port: u16, secret: &str, url: &str) -> Self {
        let mut child = Command::new("python3")
            .arg(RECEIVER)
            .arg(port.to_string())
            .env("SCIMD_WEBHOOK_SECRET", secret)
            .env("SCIMD_WEBHOOK_AUDIENCE", url)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs docs/event-receiver.py: install Python 3 to run this test");
        let stdout = BufReader::new(child.stdout.take().expect("its stdout")).lines();
        Self {
            child,
            stdout,
            port,
        }
    }

    /// The next line the receiver prints: a verified event's `sub_id.uri` and event URIs.
    async fn printed(&mut self) -> String {
        let line = timeout(WAIT, self.stdout.next_line())
            .await
            .expect("the receiver printed no event within a minute")
            .expect("read the receiver's stdout");
        match line {
            Some(line) => line,
            None => panic!("the receiver exited: {}", self.stderr().await),
        }
    }

    async fn stderr(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = timeout(Duration::from_secs(5), stderr.read_to_string(&mut text)).await;
        }
        text
    }

    /// POSTs `body` as a SET to the receiver; its status and body.
    async fn post(&self, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect to the receiver");
        let head = format!(
            "POST /events HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/secevent+jwt\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(body.as_bytes()).await.unwrap();
        let mut response = String::new();
        timeout(WAIT, stream.read_to_string(&mut response))
            .await
            .expect("the receiver answered within a minute")
            .expect("read the receiver's answer");
        let status = response
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned());
        (status, body.unwrap_or_default())
    }

    /// Stops the receiver; the lines it printed and had not been read, and those it wrote to
    /// stderr saying it ends a user's sessions.
    async fn stop(mut self) -> (Vec<String>, Vec<String>) {
        self.child.kill().await.expect("stop the receiver");
        let mut rest = Vec::new();
        while let Ok(Some(line)) = self.stdout.next_line().await {
            rest.push(line);
        }
        let sessions = self
            .stderr()
            .await
            .lines()
            .filter(|l| l.starts_with("ending the sessions"))
            .map(str::to_owned)
            .collect();
        (rest, sessions)
    }
}

/// `claims` signed with `alg` and the whole `secret` string as key, as a SET's header says.
fn signed(claims: &Value, alg: Algorithm, secret: &str) -> String {
    let mut header = Header::new(alg);
    header.typ = Some("secevent+jwt".to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// `scimd webhook show ID --json` once it lists a dropped or parked event and nothing waits:
/// the failure's row and the subscription's counts are read by separate statements, so one
/// read may fall between the delivery's two writes.
async fn show_with_a_failure(url: &str, id: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let shown = cli_json(url, &["webhook", "show", id]).await;
        if shown["failures"].as_array().is_some_and(|f| !f.is_empty()) && shown["backlog"] == 0 {
            return shown;
        }
        assert!(
            Instant::now() < deadline,
            "no failure recorded within a minute: {shown}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn the_example_receiver_verifies_the_events_and_refuses_them_once_the_secret_is_rotated(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let env = [
        ("SCIMD_DATABASE_URL", db.url.as_str()),
        ("SCIMD_BOOTSTRAP_TOKEN", TOKEN),
    ];
    let (server, _) = Scimd::start(&std::env::temp_dir(), &env).await;

    // the application subscribes, then starts its receiver with the secret printed once
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/events");
    let added = cli_json(
        &db.url,
        &["webhook", "add", "--tenant", "default", "--url", &url],
    )
    .await;
    let id = added["id"].as_str().expect("an id").to_owned();
    let secret = added["secret"].as_str().expect("the secret, printed once");
    let (id, secret) = (id.as_str(), secret.to_owned());
    assert!(secret.starts_with("whsec_"), "{added}");
    let mut receiver = Receiver::start(port, &secret, &url).await;

    // a user created over SCIM reaches the receiver as a verified create event
    let created = server
        .request(
            "POST",
            "/scim/v2/Users",
            TOKEN,
            &json!({"userName": "bjensen@example.com", "active": true}).to_string(),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let user: Value = serde_json::from_str(&created.body).unwrap();
    let user = user["id"].as_str().unwrap().to_owned();
    assert_eq!(
        receiver.printed().await,
        format!("/Users/{user} urn:ietf:params:scim:event:prov:create:notice")
    );

    // `webhook test` goes through the same verification
    let (ok, answer, _) = cli(&db.url, &["webhook", "test", id]).await;
    assert!(ok && answer.starts_with("HTTP 202: delivered"), "{answer}");
    assert_eq!(
        receiver.printed().await,
        "/ServiceProviderConfig urn:ietf:params:scim:event:misc:test"
    );

    // a SET sent again (a retry, same jti) is acknowledged and not handled twice; another
    // algorithm, another audience or what is not a SET is refused as RFC 8935 says
    let claims = json!({"iss": "http://scimd.test", "aud": url, "jti": "0f".repeat(16),
        "sub_id": {"format": "scim", "uri": "/Users/retried"},
        "events": {"urn:ietf:params:scim:event:prov:delete": {}}});
    let set = signed(&claims, Algorithm::HS256, &secret);
    assert_eq!(receiver.post(&set).await.0, 202);
    assert_eq!(receiver.post(&set).await.0, 202);
    assert_eq!(
        receiver.printed().await,
        "/Users/retried urn:ietf:params:scim:event:prov:delete"
    );
    // a deactivation is where the application ends the user's sessions
    let deactivated = json!({"iss": "http://scimd.test", "aud": url, "jti": "2".repeat(32),
        "sub_id": {"format": "scim", "uri": "/Users/leaver"},
        "events": {"urn:ietf:params:scim:event:prov:deactivate": {}}});
    let set = signed(&deactivated, Algorithm::HS256, &secret);
    assert_eq!(receiver.post(&set).await.0, 202);
    assert_eq!(
        receiver.printed().await,
        "/Users/leaver urn:ietf:params:scim:event:prov:deactivate"
    );
    let mut elsewhere = claims.clone();
    elsewhere["aud"] = json!("https://elsewhere.example/events");
    elsewhere["jti"] = json!("1".repeat(32));
    for (body, err) in [
        (signed(&claims, Algorithm::HS384, &secret), "invalid_key"),
        (
            signed(&elsewhere, Algorithm::HS256, &secret),
            "invalid_audience",
        ),
        ("not-a-token".to_owned(), "invalid_request"),
    ] {
        let (status, answer) = receiver.post(&body).await;
        assert_eq!(status, 400, "{answer}");
        let answer: Value =
            serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}"));
        assert_eq!(answer["err"], err, "{answer}");
    }

    // the secret is rotated and the receiver not told: the next event is refused and dropped
    let rotated = cli_json(&db.url, &["webhook", "rotate-secret", id]).await;
    assert_ne!(
        rotated["secret"].as_str(),
        Some(secret.as_str()),
        "{rotated}"
    );
    let patched = server
        .request(
            "PATCH",
            &format!("/scim/v2/Users/{user}"),
            TOKEN,
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "path": "active", "value": false}]})
            .to_string(),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let shown = show_with_a_failure(&db.url, id).await;
    let failure = &shown["failures"][0];
    assert_eq!(failure["state"], "dropped", "{shown}");
    assert_eq!(failure["status"], 400, "{shown}");
    assert_eq!(failure["resourceId"], user.as_str(), "{shown}");
    let error = failure["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("invalid_key"), "{shown}");
    assert_eq!(
        (&shown["delivered"], &shown["failed"], &shown["backlog"]),
        (&json!(1), &json!(1), &json!(0)),
        "one delivered, one dropped, none waiting: {shown}"
    );

    // `webhook test` says so too, and fails
    let (ok, answer, _) = cli(&db.url, &["webhook", "test", id]).await;
    assert!(!ok, "{answer}");
    assert!(
        answer.starts_with("HTTP 400: refused (would be dropped): invalid_key"),
        "{answer}"
    );
    let (rest, sessions) = receiver.stop().await;
    assert_eq!(
        rest,
        Vec::<String>::new(),
        "the receiver printed an event twice, or one it should have refused"
    );
    assert_eq!(
        sessions,
        ["ending the sessions of /Users/leaver"],
        "the verified deactivation ends the sessions; the refused one does not"
    );
    server.kill().await;
}

crate::on_both_stores!(
    the_example_receiver_verifies_the_events_and_refuses_them_once_the_secret_is_rotated
);
