//! The answers of the hosts scimd calls — webhook receivers (`events::push`) and the key
//! servers of Entra tenants (`entra_jwt::keys`) — read within bounds: at most so many bytes,
//! chunk by chunk, within so much time. None of these hosts is trusted to end its body: a
//! receiver may stream at line rate for as long as it likes, and 32 delivery workers plus the
//! console's test button may be reading at once, so reading a whole body before cutting it
//! (`Response::bytes`) would let one host run scimd out of memory.

use std::time::Duration;

use tokio::time::Instant;

/// How reading a body ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The body ended within the limits: the bytes are all of it.
    Whole,
    /// The body is longer than the limit: the bytes are its start, the rest was not read.
    TooLong,
    /// The body did not end in time: the bytes are what came.
    TimedOut,
    /// The connection failed while the body came (why): the bytes are what came.
    Failed(String),
}

/// The start of an answer's body, and why reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    pub bytes: Vec<u8>,
    pub end: End,
}

/// Reads `response`'s body chunk by chunk, keeping at most `limit` bytes, for at most
/// `within`. At the limit or the deadline it stops and drops the response, which closes the
/// connection (hyper pools only connections whose body was read to its end) rather than
/// reading the rest: what a host sends beyond the limit stays in the socket's buffers and is
/// thrown away with them. At most `limit` bytes plus one chunk (hyper's read buffer) are held.
pub async fn read_body(mut response: reqwest::Response, limit: usize, within: Duration) -> Body {
    let deadline = Instant::now() + within;
    let mut bytes = Vec::new();
    let end = loop {
        let chunk = match tokio::time::timeout_at(deadline, response.chunk()).await {
            Err(_) => break End::TimedOut,
            // the client's own timeout (it covers the body too) ends reading the same way
            Ok(Err(e)) if e.is_timeout() => break End::TimedOut,
            Ok(Err(e)) => break End::Failed(crate::telemetry::chain(&e)),
            Ok(Ok(None)) => break End::Whole,
            Ok(Ok(Some(chunk))) => chunk,
        };
        let room = limit.saturating_sub(bytes.len());
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            break End::TooLong;
        }
        bytes.extend_from_slice(&chunk);
    };
    drop(response);
    Body { bytes, end }
}
