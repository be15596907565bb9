//! HTTP/1.1 spoken by hand over one TCP connection, strictly enough to tell a complete response
//! (status line, headers, a body of its `Content-Length`, chunked, or up to the close) from a
//! connection that ended without one. The request is written while the response is read, so
//! an answer that comes before the whole body was sent (a 413) is read, not lost.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpSocket, TcpStream};

/// How long one exchange may take: past scimd's own limit per request (30 s, answered 503).
pub const EXCHANGE: Duration = Duration::from_secs(45);
/// The most a response's head may hold.
const MAX_HEAD: usize = 256 * 1024;

/// A complete response.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// scimd said it closes the connection (`Connection: close`).
    pub closes: bool,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An open connection to scimd.
pub struct Connection {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    /// Requests answered on it so far.
    pub answered: u32,
    /// It can carry no further request (scimd closes it, or a body was left unsent).
    pub spent: bool,
}

impl Connection {
    pub async fn open(address: SocketAddr) -> std::io::Result<Self> {
        Self::of(TcpStream::connect(address).await?)
    }

    /// A connection from `source` (another loopback address than 127.0.0.1, say, which scimd
    /// sees as another client).
    pub async fn open_from(address: SocketAddr, source: IpAddr) -> std::io::Result<Self> {
        let socket = match source {
            IpAddr::V4(_) => TcpSocket::new_v4()?,
            IpAddr::V6(_) => TcpSocket::new_v6()?,
        };
        socket.bind(SocketAddr::new(source, 0))?;
        Self::of(socket.connect(address).await?)
    }

    fn of(stream: TcpStream) -> std::io::Result<Self> {
        let (read, writer) = stream.into_split();
        Ok(Self {
            reader: BufReader::new(read),
            writer,
            answered: 0,
            spent: false,
        })
    }

    /// Sends `request` and reads the whole response; `head` when the request is a HEAD (whose
    /// answer has no body whatever its headers say). An `Err` is a dropped connection.
    pub async fn exchange(&mut self, request: &[u8], head: bool) -> Result<Answer, String> {
        let Self { reader, writer, .. } = self;
        let mut write = std::pin::pin!(async {
            writer.write_all(request).await?;
            writer.flush().await
        });
        let mut read = std::pin::pin!(read_answer(reader, head));
        let mut sent: Option<std::io::Result<()>> = None;
        let exchange = async {
            loop {
                tokio::select! {
                    answer = &mut read => return answer,
                    written = &mut write, if sent.is_none() => sent = Some(written),
                }
            }
        };
        let answer = tokio::time::timeout(EXCHANGE, exchange).await;
        let answer = match answer {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => return Err(format!("{e} (request written: {sent:?})")),
            Err(_) => return Err(format!("no complete answer within {EXCHANGE:?}")),
        };
        self.answered += 1;
        // an answer before the whole request was written leaves the rest on the wire
        self.spent = answer.closes || !matches!(sent, Some(Ok(())));
        Ok(answer)
    }
}

/// Reads one response; interim (1xx) responses are skipped.
async fn read_answer(reader: &mut BufReader<OwnedReadHalf>, head: bool) -> Result<Answer, String> {
    loop {
        let (status, headers, version) = read_head(reader).await?;
        if (100..200).contains(&status) {
            continue;
        }
        let find = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v): &(String, String)| v.to_ascii_lowercase())
        };
        let closes = version == "HTTP/1.0"
            || find("connection").is_some_and(|c| c.split(',').any(|t| t.trim() == "close"));
        let body = match head || status == 204 || status == 304 {
            true => Vec::new(),
            false => read_body(reader, find("transfer-encoding"), find("content-length")).await?,
        };
        return Ok(Answer {
            status,
            headers,
            body,
            closes,
        });
    }
}

/// A body: chunked, of its `Content-Length`, or up to the close.
async fn read_body(
    reader: &mut BufReader<OwnedReadHalf>,
    transfer_encoding: Option<String>,
    content_length: Option<String>,
) -> Result<Vec<u8>, String> {
    if transfer_encoding.is_some_and(|t| t.contains("chunked")) {
        return read_chunked(reader).await;
    }
    let mut body = Vec::new();
    let Some(length) = content_length else {
        reader
            .read_to_end(&mut body)
            .await
            .map_err(|e| format!("a body up to the close: {e}"))?;
        return Ok(body);
    };
    let length: usize = length
        .trim()
        .parse()
        .map_err(|_| format!("a Content-Length of {length:?}"))?;
    body.resize(length, 0);
    reader
        .read_exact(&mut body)
        .await
        .map_err(|e| format!("the body ended early ({length} bytes announced): {e}"))?;
    Ok(body)
}

type Head = (u16, Vec<(String, String)>, String);

/// The status line and the headers.
async fn read_head(reader: &mut BufReader<OwnedReadHalf>) -> Result<Head, String> {
    let mut raw = Vec::new();
    while !raw.ends_with(b"\r\n\r\n") {
        let before = raw.len();
        let read = reader.read_until(b'\n', &mut raw).await;
        match read {
            Ok(0) if before == 0 => return Err("closed without an answer".into()),
            Ok(0) => return Err(format!("closed within the head: {:?}", lossy(&raw))),
            Ok(_) if raw.len() > MAX_HEAD => return Err("a head over 256 KiB".into()),
            Ok(_) => {}
            Err(e) => return Err(format!("{e} after {before} bytes of the head")),
        }
    }
    let text = lossy(&raw);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default().to_owned();
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .filter(|_| version.starts_with("HTTP/1."))
        .ok_or_else(|| format!("not a status line: {status_line:?}"))?;
    let headers = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap_or((l, ""));
            (k.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    Ok((status, headers, version))
}

/// A chunked body (RFC 9112 §7.1), trailers skipped.
async fn read_chunked(reader: &mut BufReader<OwnedReadHalf>) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .await
            .map_err(|e| format!("a chunk size: {e}"))?;
        let size = line.trim().split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| format!("not a chunk size: {line:?} after {} bytes", body.len()))?;
        if size == 0 {
            // trailers, then the empty line
            loop {
                let mut trailer = String::new();
                let n = reader
                    .read_line(&mut trailer)
                    .await
                    .map_err(|e| format!("the trailers: {e}"))?;
                if n == 0 || trailer == "\r\n" {
                    return Ok(body);
                }
            }
        }
        let at = body.len();
        body.resize(at + size + 2, 0);
        reader
            .read_exact(&mut body[at..])
            .await
            .map_err(|e| format!("a chunk of {size} bytes ended early: {e}"))?;
        if !body.ends_with(b"\r\n") {
            return Err("a chunk not followed by CRLF".into());
        }
        body.truncate(at + size);
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
