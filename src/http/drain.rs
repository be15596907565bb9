//! Request bodies a handler left unread. Many answers come before the body is read — a wrong
//! token, a content type refused, a method not allowed, a body over the limit, a busy server —
//! and hyper, finding a body nobody reads, closes the connection after the answer, sometimes
//! without saying so: a client that sent its next request on the kept-alive connection loses
//! it. So the rest of such a body is read and dropped after the answer is made (at most
//! [`DRAIN_BYTES`] within [`DRAIN_TIME`], outside the limit on requests at once), and the
//! connection goes on; a body larger or slower than that, or one the client holds back until
//! told to continue (`Expect: 100-continue`), gets `Connection: close` on the answer, so the
//! client knows the connection ends.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use hyper::body::{Body as _, Frame, SizeHint};

/// The most of an unread body read after the answer.
pub const DRAIN_BYTES: u64 = 64 * 1024;
/// The longest a client may take to send the rest of a body nobody reads.
pub const DRAIN_TIME: Duration = Duration::from_secs(1);

/// The request's body, shared with this middleware so that what the handler leaves of it can
/// still be read after the handler dropped it.
struct Shared(Arc<Mutex<Body>>);

impl hyper::body::Body for Shared {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        match self.0.lock() {
            Ok(mut body) => Pin::new(&mut *body).poll_frame(cx),
            // a handler panicked while reading: the body is gone with it
            Err(_) => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.0.lock().map_or(true, |body| body.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.0
            .lock()
            .map_or_else(|_| SizeHint::with_exact(0), |body| body.size_hint())
    }
}

/// Serves the request, then reads what is left of its body, or says the connection closes.
pub async fn unread_bodies(req: Request, next: Next) -> Response {
    let held_back = req
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let (parts, body) = req.into_parts();
    let shared = Arc::new(Mutex::new(body));
    let req = Request::from_parts(parts, Body::new(Shared(shared.clone())));
    let mut response = next.run(req).await;
    let rest = match shared.lock() {
        Ok(mut body) => std::mem::take(&mut *body),
        Err(_) => return closing(response),
    };
    if rest.is_end_stream() {
        return response;
    }
    if held_back || !drain(rest).await {
        response = closing(response);
    }
    response
}

/// Reads `rest` to its end within the bounds; whether it got there.
async fn drain(mut rest: Body) -> bool {
    if rest.size_hint().lower() > DRAIN_BYTES {
        return false;
    }
    let read = async {
        let mut read: u64 = 0;
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut rest).poll_frame(cx)).await
        {
            let Ok(frame) = frame else {
                return false;
            };
            read += frame.data_ref().map_or(0, |d| d.len() as u64);
            if read > DRAIN_BYTES {
                return false;
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_TIME, read)
        .await
        .unwrap_or(false)
}

/// `response` saying that the connection ends after it.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
