//! An acknowledged write survives the process being killed (`kill -9`): the real binary,
//! a real socket, a real crash, on this suite's backend.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{TOKEN, TestDb};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(db: &TestDb, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_scimd"))
        .arg("serve")
        .env("SCIMD_DATABASE_URL", &db.url)
        .env("SCIMD_LISTEN", format!("127.0.0.1:{port}"))
        .env("SCIMD_BOOTSTRAP_TOKEN", TOKEN)
        .env("SCIMD_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start scimd")
}

/// One HTTP/1.1 request on a fresh connection: (status, body).
fn request(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// Waits until the server answers (startup creates the database and migrates).
fn ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while request(port, "GET", "/healthz", "").map(|(s, _)| s).ok() != Some(200) {
        assert!(Instant::now() < deadline, "scimd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn an_acknowledged_create_survives_kill_9() {
    let db = TestDb::new().await;
    let port = free_port();
    let mut server = start(&db, port);
    ready(port);
    let (status, body) =
        request(port, "POST", "/scim/v2/Users", r#"{"userName":"durable"}"#).unwrap();
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    server.kill().unwrap(); // SIGKILL: no shutdown, no flush
    server.wait().unwrap();

    let port = free_port();
    let mut restarted = start(&db, port);
    ready(port);
    let path = format!("/scim/v2/Users/{}", created["id"].as_str().unwrap());
    let (status, body) = request(port, "GET", &path, "").unwrap();
    restarted.kill().unwrap();
    restarted.wait().unwrap();
    assert_eq!(status, 200, "{body}");
    let read: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(read["userName"], "durable");
    assert_eq!(read["meta"]["version"], created["meta"]["version"]);
}
