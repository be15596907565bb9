//! A host whose answers never end: a TCP listener on 127.0.0.1:0 that reads each request's
//! head and body, answers with a status line and then a body written as fast as the socket
//! takes it, for ever — until the client closes the connection. It counts the body bytes it
//! got written on each connection, so that a test can tell that scimd stopped reading (the
//! kernel's socket buffers hold a few MiB at most; a client reading everything takes GiBs).
//!
//! An OpenID configuration (a path ending in `/.well-known/openid-configuration`) is answered
//! whole, naming `/keys` of this host as the key set, so that an Entra key fetch reaches an
//! endless key set.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

/// How the endless body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length` of this many bytes, never all sent.
    Length(u64),
    /// `Transfer-Encoding: chunked`, with no last chunk.
    Chunked,
}

/// One piece of body written at a time.
const PIECE: usize = 64 * 1024;

/// More body than a connection gets written when its client stops reading early: the socket
/// buffers of both ends (a few MiB each on Linux's loopback) and what the client read.
pub const STOPPED_READING: u64 = 64 * 1024 * 1024;

struct Shared {
    status: u16,
    framing: Framing,
    /// Body bytes written on each connection the client closed, in the order they closed.
    closed: Mutex<Vec<u64>>,
    changed: Notify,
}

/// The running host; stops when dropped.
pub struct Endless {
    pub address: SocketAddr,
    shared: Arc<Shared>,
    task: AbortHandle,
}

impl Drop for Endless {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Endless {
    /// A host answering `status` with an endless body framed as `framing`.
    pub async fn start(status: u16, framing: Framing) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            status,
            framing,
            closed: Mutex::new(Vec::new()),
            changed: Notify::new(),
        });
        let serving = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, address, serving.clone()));
            }
        })
        .abort_handle();
        Self {
            address,
            shared,
            task,
        }
    }

    /// A URL of this host.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The body bytes written on each connection the client closed, once at least `n` are;
    /// fails the test after `deadline`, or if any got [`STOPPED_READING`] bytes or more.
    pub async fn closed(&self, n: usize, deadline: Duration) -> Vec<u64> {
        let end = tokio::time::Instant::now() + deadline;
        loop {
            let changed = self.shared.changed.notified();
            let closed = self.shared.closed.lock().unwrap().clone();
            if closed.len() >= n {
                assert!(
                    closed.iter().all(|n| *n < STOPPED_READING),
                    "the client read on after the start of the body: {closed:?} bytes written"
                );
                return closed;
            }
            assert!(
                tokio::time::timeout_at(end, changed).await.is_ok(),
                "{} connection(s) closed by the client in {deadline:?}, expected {n}",
                closed.len()
            );
        }
    }
}

async fn answer(mut stream: TcpStream, address: SocketAddr, shared: Arc<Shared>) {
    let Some(path) = read_request(&mut stream).await else {
        return;
    };
    if path.ends_with("/.well-known/openid-configuration") {
        let document = format!(r#"{{"jwks_uri":"http://{address}/keys"}}"#);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            document.len()
        );
        let _ = stream.write_all((head + &document).as_bytes()).await;
        return;
    }
    let framing = match shared.framing {
        Framing::Length(n) => format!("Content-Length: {n}"),
        Framing::Chunked => "Transfer-Encoding: chunked".to_owned(),
    };
    let head = format!(
        "HTTP/1.1 {} Endless\r\nContent-Type: text/plain\r\n{framing}\r\n\r\n",
        shared.status
    );
    let mut piece = Vec::with_capacity(PIECE + 16);
    if shared.framing == Framing::Chunked {
        piece.extend_from_slice(format!("{PIECE:x}\r\n").as_bytes());
    }
    piece.extend_from_slice(&[b'x'; PIECE]);
    if shared.framing == Framing::Chunked {
        piece.extend_from_slice(b"\r\n");
    }
    let mut written = 0u64;
    if stream.write_all(head.as_bytes()).await.is_ok() {
        while stream.write_all(&piece).await.is_ok() {
            written += PIECE as u64;
        }
    }
    shared.closed.lock().unwrap().push(written);
    shared.changed.notify_waiters();
}

/// Reads a request's head and its body (by `Content-Length`); its path.
async fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut buffer = Vec::new();
    let mut byte = [0u8; 1024];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut byte).await.ok().filter(|n| *n > 0)?;
        buffer.extend_from_slice(&byte[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; (head_end + length).saturating_sub(buffer.len())];
    stream.read_exact(&mut body).await.ok()?;
    head.split(' ').nth(1).map(str::to_owned)
}
