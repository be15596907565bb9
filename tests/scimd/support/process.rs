//! scimd as a process: `scimd serve` started on port 0, its address read from the
//! `listening on http(s)://<address>` line it prints once its socket is bound (no free-port race,
//! no polling), spoken to with plain HTTP/1.1 over a real socket (`request`, which also
//! speaks to scimd served in the test's process), and killed with the test.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdout, Command};
use tokio::time::timeout;

/// How long scimd may take to create its database, migrate and bind.
const START: Duration = Duration::from_secs(60);
/// How long one request may take.
const REQUEST: Duration = Duration::from_secs(10);

/// A running `scimd serve`.
pub struct Scimd {
    child: Child,
    pub address: SocketAddr,
    stdout: Lines<BufReader<ChildStdout>>,
}

/// A response: status and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Scimd {
    /// Starts `scimd serve` in `dir` with exactly the `SCIMD_*` settings of `env` (none
    /// inherited) on 127.0.0.1:0, and waits for it to listen. Returns it with what it printed
    /// before (a first start's connection details).
    pub async fn start(dir: &Path, env: &[(&str, &str)]) -> (Self, Vec<String>) {
        Self::start_with(dir, env, Stdio::inherit()).await
    }

    /// [`Scimd::start`], its log (standard error) appended to the file `log`.
    pub async fn start_logging_to(
        dir: &Path,
        env: &[(&str, &str)],
        log: &Path,
    ) -> (Self, Vec<String>) {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("open the log file");
        Self::start_with(dir, env, Stdio::from(file)).await
    }

    async fn start_with(dir: &Path, env: &[(&str, &str)], log: Stdio) -> (Self, Vec<String>) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_scimd"));
        command.arg("serve").current_dir(dir);
        for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("SCIMD_")) {
            command.env_remove(name);
        }
        command
            .env("SCIMD_LISTEN", "127.0.0.1:0")
            .env("SCIMD_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true);
        let mut child = command.spawn().expect("start scimd");
        let out = child.stdout.take().expect("scimd's stdout");
        let mut stdout = BufReader::new(out).lines();
        let mut before = Vec::new();
        let address = timeout(START, async {
            while let Some(line) = stdout.next_line().await.expect("read scimd's stdout") {
                if let Some(address) = line
                    .strip_prefix("listening on http://")
                    .or_else(|| line.strip_prefix("listening on https://"))
                {
                    return address.parse().expect("an address");
                }
                before.push(line);
            }
            panic!("scimd exited before listening; it printed {before:?}")
        })
        .await
        .expect("scimd did not listen within a minute");
        (
            Self {
                child,
                address,
                stdout,
            },
            before,
        )
    }

    /// One request on a fresh connection, with `token` as bearer token.
    pub async fn request(&self, method: &str, path: &str, token: &str, body: &str) -> Reply {
        self.try_request(method, path, token, body)
            .await
            .expect("talk to scimd")
    }

    /// A form POST (`application/x-www-form-urlencoded`) without credentials.
    pub async fn form(&self, path: &str, body: &str) -> Reply {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.address,
            body.len()
        );
        timeout(REQUEST, raw(self.address, head, body))
            .await
            .expect("scimd did not answer within 10 s")
            .expect("talk to scimd")
    }

    /// The same, for a client that expects the server may be gone.
    pub async fn try_request(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: &str,
    ) -> std::io::Result<Reply> {
        timeout(REQUEST, request(self.address, method, path, token, body))
            .await
            .expect("scimd did not answer within 10 s")
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("scimd runs")
    }

    /// SIGKILL, for a server shared with clients that are still talking to it.
    pub async fn kill_now(&self) {
        let pid = self.child.id().expect("scimd runs") as i32;
        let status = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// SIGKILL: no shutdown, no flush. Returns what it printed after it started listening.
    pub async fn kill(mut self) -> Vec<String> {
        self.child.kill().await.expect("kill scimd");
        let mut rest = Vec::new();
        while let Ok(Some(line)) = self.stdout.next_line().await {
            rest.push(line);
        }
        rest
    }
}

/// One request to scimd at `address` on a fresh connection, with `token` as bearer token.
pub async fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> std::io::Result<Reply> {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    raw(address, head, body).await
}

/// Sends `head` and `body` on a fresh connection and reads the whole response.
async fn raw(address: SocketAddr, head: String, body: &str) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(address).await?;
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok(Reply { status, body })
}

/// Runs `scimd <args>` in `dir` with `stdin` typed in, on the database at `database_url` (the
/// default SQLite file in `dir` when `None`), with no other `SCIMD_*` setting inherited; it must
/// succeed. Its standard output.
pub async fn cli(dir: &Path, database_url: Option<&str>, args: &[&str], stdin: &str) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scimd"));
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("SCIMD_")) {
        command.env_remove(name);
    }
    if let Some(url) = database_url {
        command.env("SCIMD_DATABASE_URL", url);
    }
    let mut child = command
        .args(args)
        .current_dir(dir)
        .env("SCIMD_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run scimd");
    let mut input = child.stdin.take().expect("scimd's stdin");
    input
        .write_all(format!("{stdin}\n").as_bytes())
        .await
        .expect("write scimd's stdin");
    drop(input);
    let out = child.wait_with_output().await.expect("scimd's output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "scimd {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}
