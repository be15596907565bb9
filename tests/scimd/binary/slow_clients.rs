//! A client that does not finish sending its request's headers is disconnected after
//! `SCIMD_HEADER_TIMEOUT`, and scimd goes on serving everyone else.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::process::Scimd;
use crate::support::{Backend, TOKEN, TestDb};

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected_after_the_header_timeout() {
    let db = TestDb::new(Backend::Sqlite).await;
    let env = [
        ("SCIMD_DATABASE_URL", db.url.as_str()),
        ("SCIMD_BOOTSTRAP_TOKEN", TOKEN),
        ("SCIMD_HEADER_TIMEOUT", "1"),
    ];
    let (server, _) = Scimd::start(&std::env::temp_dir(), &env).await;
    let mut slow = TcpStream::connect(server.address).await.unwrap();
    slow.write_all(b"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let began = Instant::now();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut rest)).await;
    assert!(
        read.is_ok(),
        "the connection was still open after 10 s; it read {rest:?}"
    );
    assert!(
        began.elapsed() >= Duration::from_millis(900),
        "closed before the timeout"
    );
    let users = server.request("GET", "/scim/v2/Users", TOKEN, "").await;
    assert_eq!(users.status, 200, "{}", users.body);
    server.kill().await;
}
