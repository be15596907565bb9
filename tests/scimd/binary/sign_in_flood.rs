//! A sign-in flood against the real process: 96 parallel wrong passwords for one account from
//! one address get at most 6 password checks, scimd's memory stays under 400 MB, the admin
//! signs in from another address during the flood and SCIM keeps answering; then 96 parallel
//! guesses from 96 addresses (a botnet, which the per-address throttle cannot stop) are all
//! answered within the budget of password checks, memory still bounded. Clients are reported
//! by a trusted proxy (`X-Forwarded-For` from 127.0.0.1).

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::events::{Setup, WAIT};
use crate::support::cookie_pair;
use crate::support::{Backend, TOKEN};

const PASSWORD: &str = "correct horse battery staple";
/// The most memory scimd may hold during a flood.
const MEMORY_LIMIT_KB: u64 = 400 * 1024;

/// A response as it came: status, headers (lower-cased names), body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One request on a fresh connection; the whole response.
async fn send(address: SocketAddr, head: &str, body: &str) -> Answer {
    let exchange = async {
        let mut stream = TcpStream::connect(address).await?;
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        let mut raw = String::new();
        stream.read_to_string(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = tokio::time::timeout(WAIT, exchange)
        .await
        .expect("an answer in time")
        .expect("a whole answer");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a response head");
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// The console's sign-in form as `client` posts it, with the login pair `(csrf, cookie)`.
async fn sign_in(
    address: SocketAddr,
    client: &str,
    login: &(String, String),
    password: &str,
) -> Answer {
    let body = serde_urlencoded::to_string([
        ("tenant", "default"),
        ("username", "alice"),
        ("password", password),
        ("csrf", &login.0),
    ])
    .unwrap();
    let head = format!(
        "POST /admin/sign-in HTTP/1.1\r\nHost: scimd\r\nX-Forwarded-For: {client}\r\n\
         Cookie: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        login.1,
        body.len()
    );
    send(address, &head, &body).await
}

/// A login form's CSRF field and cookie.
async fn login(address: SocketAddr) -> (String, String) {
    let page = send(
        address,
        "GET /admin HTTP/1.1\r\nHost: scimd\r\nConnection: close\r\n\r\n",
        "",
    )
    .await;
    let cookie = cookie_pair(page.header("set-cookie").unwrap());
    let at = page.body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = page.body[at..].split('"').next().unwrap().to_owned();
    (csrf, cookie)
}

/// Samples the process's resident memory until `done`; the peak, in KiB.
fn watch_memory(pid: u32, done: Arc<AtomicBool>) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let peak = AtomicU64::new(0);
        while !done.load(Ordering::Relaxed) {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let rss = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0);
            peak.fetch_max(rss, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        peak.into_inner()
    })
}

async fn add_admin(setup: &Setup) {
    let mut command = setup.command(&[
        "admin",
        "add",
        "--tenant",
        "default",
        "--username",
        "alice",
        "--team-admin",
    ]);
    command.stdin(Stdio::piped());
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(PASSWORD.as_bytes())
        .await
        .unwrap();
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn a_sign_in_flood_checks_few_passwords_holds_memory_and_keeps_the_admin_and_scim_served(
    backend: Backend,
) {
    let setup = Setup::new(backend).await;
    let server = setup.serve(&[("SCIMD_TRUSTED_PROXIES", "127.0.0.1")]).await;
    add_admin(&setup).await;
    let address = server.address;
    let form = login(address).await;
    let done = Arc::new(AtomicBool::new(false));
    let memory = watch_memory(server.pid(), done.clone());

    // 96 parallel wrong passwords for alice from one address, one login form for all
    let flood = (0..96).map(|n| {
        let form = form.clone();
        tokio::spawn(async move {
            sign_in(address, "203.0.113.66", &form, &format!("guess {n:03}"))
                .await
                .status
        })
    });
    let flood: Vec<_> = flood.collect();
    // meanwhile the admin signs in from home, and Entra's requests are served
    let home = sign_in(address, "198.51.100.20", &form, PASSWORD).await;
    let scim = server.request("GET", "/scim/v2/Users", TOKEN, "").await;
    let mut statuses = Vec::new();
    for guess in flood {
        statuses.push(guess.await.unwrap());
    }
    let wrong = statuses.iter().filter(|s| **s == 401).count();
    let held = statuses.iter().filter(|s| **s == 429).count();
    assert!(wrong <= 6, "{wrong} passwords were checked");
    assert_eq!(wrong + held, 96, "{statuses:?}");
    assert_eq!(home.status, 303, "{}", home.body);
    assert_eq!(scim.status, 200);

    // 96 parallel guesses from 96 addresses: each is checked, two at a time
    let botnet: Vec<_> = (0..96)
        .map(|n| {
            let form = form.clone();
            tokio::spawn(async move {
                sign_in(address, &format!("192.0.2.{n}"), &form, "a wrong password")
                    .await
                    .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for guess in botnet {
        statuses.push(guess.await.unwrap());
    }
    done.store(true, Ordering::Relaxed);
    let peak = memory.await.unwrap();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let busy = statuses.iter().filter(|s| **s == 503).count();
    assert_eq!(checked + busy, 96, "{statuses:?}");
    println!(
        "sign-in flood: peak memory {} MiB; botnet: {checked} checked, {busy} answered busy",
        peak / 1024
    );
    assert!(peak < MEMORY_LIMIT_KB, "scimd held {} MiB", peak / 1024);
}

crate::on_both_stores!(
    a_sign_in_flood_checks_few_passwords_holds_memory_and_keeps_the_admin_and_scim_served
);
