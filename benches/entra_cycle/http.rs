//! A minimal HTTP/1.1 client over `tokio::net::TcpStream`: keep-alive connections, requests with
//! `Content-Length`, answers read as status line, headers and a `Content-Length` body; and the
//! driver that spreads numbered work items over several connections.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::common::{BoxResult, TOKEN};

/// How long one request may take before the benchmark stops with an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A connection idle this long is replaced before its next request: scimd closes keep-alive
/// connections that send nothing for `SCIMD_HEADER_TIMEOUT` (30 s), as a client would find.
pub const IDLE: Duration = Duration::from_secs(20);

/// Connections replaced after being idle, for the report.
pub static RECONNECTS: AtomicUsize = AtomicUsize::new(0);

/// One keep-alive connection.
pub struct Conn {
    addr: SocketAddr,
    /// The bearer token its requests carry.
    token: String,
    last: Instant,
    stream: BufReader<TcpStream>,
    line: String,
    request: Vec<u8>,
}

/// An answer: status and body.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    /// Its `Retry-After` header, if any.
    #[allow(dead_code, reason = "read by the soak only")]
    pub retry_after: Option<String>,
    /// Whether the server said `Connection: close` (the connection is then of no further use).
    pub close: bool,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; an error naming the body if it is not.
    pub fn json(&self) -> BoxResult<Value> {
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("answer is not JSON ({e}): {}", self.text()).into())
    }

    /// Fails with the request and the answer unless the status is `expected`.
    pub fn expect(&self, expected: u16, what: &str) -> BoxResult<()> {
        if self.status == expected {
            Ok(())
        } else {
            Err(format!(
                "{what}: status {} (expected {expected}): {}",
                self.status,
                self.text()
            )
            .into())
        }
    }
}

/// One timed request of a phase; `requests` is 2 for a timed pair.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub kind: &'static str,
    pub took: Duration,
    pub requests: u32,
}

impl Sample {
    pub fn one(kind: &'static str, took: Duration) -> Self {
        Self {
            kind,
            took,
            requests: 1,
        }
    }
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> BoxResult<Self> {
        Self::open_as(addr, TOKEN).await
    }

    /// A connection whose requests carry `token`.
    pub async fn open_as(addr: SocketAddr, token: &str) -> BoxResult<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            addr,
            token: token.to_owned(),
            last: Instant::now(),
            stream: BufReader::new(stream),
            line: String::new(),
            request: Vec::with_capacity(4096),
        })
    }

    /// Sends one request (`target` is the path with its query, already encoded) and reads the
    /// answer; returns it with the time from the first byte sent to the last byte read.
    pub async fn send(
        &mut self,
        method: &str,
        target: &str,
        body: Option<&str>,
    ) -> BoxResult<(Reply, Duration)> {
        let (reply, took) = self
            .send_any(method, target, body, REQUEST_TIMEOUT)
            .await
            .map_err(|e| format!("{method} {target}: {e}"))?;
        if reply.close {
            return Err(format!(
                "the server closed the keep-alive connection after a {}: {}",
                reply.status,
                reply.text()
            )
            .into());
        }
        Ok((reply, took))
    }

    /// As [`Conn::send`], but an answer that closes the connection is returned too (with
    /// `close` set: the caller drops the connection), and the timeout is `timeout`.
    pub async fn send_any(
        &mut self,
        method: &str,
        target: &str,
        body: Option<&str>,
        timeout: Duration,
    ) -> BoxResult<(Reply, Duration)> {
        let body = body.unwrap_or("");
        self.request.clear();
        self.request.extend_from_slice(
            format!(
                "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
                 Accept: application/scim+json\r\n\
                 Content-Type: application/scim+json; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
                self.token,
                body.len()
            )
            .as_bytes(),
        );
        self.request.extend_from_slice(body.as_bytes());
        if self.last.elapsed() > IDLE {
            let fresh = TcpStream::connect(self.addr).await?;
            fresh.set_nodelay(true)?;
            self.stream = BufReader::new(fresh);
            RECONNECTS.fetch_add(1, Ordering::Relaxed);
        }
        let started = Instant::now();
        let reply = tokio::time::timeout(timeout, self.exchange())
            .await
            .map_err(|_| format!("no answer within {timeout:?}"))??;
        self.last = Instant::now();
        Ok((reply, self.last - started))
    }

    async fn exchange(&mut self) -> BoxResult<Reply> {
        self.stream.get_mut().write_all(&self.request).await?;
        self.line.clear();
        if self.stream.read_line(&mut self.line).await? == 0 {
            return Err("the server closed the connection".into());
        }
        let status: u16 = self
            .line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("not a status line: {:?}", self.line))?;
        let mut length = None;
        let mut close = false;
        let mut retry_after = None;
        loop {
            self.line.clear();
            if self.stream.read_line(&mut self.line).await? == 0 {
                return Err("the server closed the connection in the headers".into());
            }
            if self.line == "\r\n" {
                break;
            }
            if let Some((name, value)) = self.line.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = Some(value.parse::<usize>()?);
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    return Err(format!("an answer with transfer-encoding {value}").into());
                } else if name.eq_ignore_ascii_case("connection") {
                    close = value.eq_ignore_ascii_case("close");
                } else if name.eq_ignore_ascii_case("retry-after") {
                    retry_after = Some(value.to_owned());
                }
            }
        }
        // 204 and 304 have no body and need no length
        let length = match (length, status) {
            (Some(n), _) => n,
            (None, 204 | 304) => 0,
            (None, _) => return Err(format!("a {status} answer without content-length").into()),
        };
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await?;
        Ok(Reply {
            status,
            body,
            retry_after,
            close,
        })
    }
}

/// `n` connections to `addr`.
pub async fn open_all(addr: SocketAddr, n: usize) -> BoxResult<Vec<Conn>> {
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        conns.push(Conn::open(addr).await?);
    }
    Ok(conns)
}

/// Runs work items `0..items` over `conns`, each connection taking the next item as soon as it
/// is done with its last (so items are spread over the connections as a client with that many
/// connections would); returns the samples of all items. The first error stops everything.
pub async fn drive<F>(conns: &mut [Conn], items: usize, work: F) -> BoxResult<Vec<Sample>>
where
    F: AsyncFn(&mut Conn, usize, &mut Vec<Sample>) -> BoxResult<()>,
{
    let next = AtomicUsize::new(0);
    let per_conn = futures_util::future::try_join_all(conns.iter_mut().map(|conn| {
        let (next, work) = (&next, &work);
        async move {
            let mut samples = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= items {
                    return BoxResult::Ok(samples);
                }
                work(conn, i, &mut samples).await?;
            }
        }
    }))
    .await?;
    Ok(per_conn.into_iter().flatten().collect())
}

/// Percent-encodes a query parameter's value (everything but RFC 3986's unreserved characters).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
