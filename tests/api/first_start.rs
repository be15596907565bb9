//! The embedded default: `scimd` with no configuration at all serves SCIM on a SQLite file,
//! prints the Entra connection details once, and reuses file and token on the next start.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn start(dir: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_scimd"))
        .current_dir(dir)
        .env_remove("SCIMD_DATABASE_URL")
        .env_remove("SCIMD_BOOTSTRAP_TOKEN")
        .env_remove("SCIMD_DATA_DIR")
        .env("SCIMD_LISTEN", format!("127.0.0.1:{port}"))
        .env("SCIMD_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start scimd")
}

fn status(port: u16, path: &str, token: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.get(9..12)?.parse().ok()
}

fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while status(port, "/healthz", "-") != Some(200) {
        assert!(Instant::now() < deadline, "scimd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_first_start_without_configuration_prints_the_connection_details_once() {
    let dir = std::env::temp_dir().join(format!(
        "scimd-first-start-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();

    let port = free_port();
    let mut first = start(&dir, port);
    let mut lines = BufReader::new(first.stdout.take().unwrap()).lines();
    let mut tenant_url = None;
    let mut token = None;
    while token.is_none() {
        let line = lines
            .next()
            .expect("scimd printed no Secret Token")
            .unwrap();
        if let Some(url) = line.trim().strip_prefix("Tenant URL:") {
            tenant_url = Some(url.trim().to_owned());
        }
        if let Some(t) = line.trim().strip_prefix("Secret Token:") {
            token = Some(t.trim().to_owned());
        }
    }
    let token = token.unwrap();
    assert_eq!(
        tenant_url.as_deref(),
        Some(format!("http://127.0.0.1:{port}/scim/v2").as_str())
    );
    assert!(token.starts_with("scimd_"), "{token}");
    wait_ready(port);
    assert_eq!(status(port, "/scim/v2/Users", &token), Some(200));
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(
        dir.join("scimd.db").is_file(),
        "the store is scimd.db in the working directory"
    );

    let port = free_port();
    let mut second = start(&dir, port);
    wait_ready(port);
    assert_eq!(
        status(port, "/scim/v2/Users", &token),
        Some(200),
        "the same token works again"
    );
    second.kill().unwrap();
    second.wait().unwrap();
    let mut printed = String::new();
    second
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut printed)
        .unwrap();
    assert!(!printed.contains("Secret Token"), "shown once: {printed}");
    let _ = std::fs::remove_dir_all(&dir);
}
