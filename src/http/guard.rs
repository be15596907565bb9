//! What keeps scimd answering when it cannot do the work: a limit on the requests served at
//! once (the next one is answered 503 with `Retry-After` at once rather than queued without
//! bound), a time limit per request (503 with `Retry-After`; an unfinished transaction is
//! rolled back), and a net under everything that turns a panic into a logged 500 SCIM error
//! instead of a dropped connection.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;
use tower_http::catch_panic::CatchPanicLayer;

use crate::service::{Error, Unavailable};

/// The limits of [`limit`].
#[derive(Debug, Clone)]
pub struct Guard {
    permits: Arc<Semaphore>,
    max: u32,
    timeout: Duration,
    /// Requests being served, for the events' dispatcher, which gives way to them.
    in_flight: Arc<AtomicUsize>,
}

impl Guard {
    pub fn new(max_concurrent: u32, timeout: Duration, in_flight: Arc<AtomicUsize>) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max_concurrent as usize)),
            max: max_concurrent,
            timeout,
            in_flight,
        }
    }
}

/// Counts a request in flight while it lives.
struct Serving(Arc<AtomicUsize>);

impl Serving {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count.clone())
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves the request if a permit is free, within the time limit.
/// The answer is of the request's API: a problem at `/api/v1`, a SCIM error elsewhere.
pub async fn limit(State(guard): State<Guard>, req: Request, next: Next) -> Response {
    let api = super::in_api(req.uri().path());
    let refuse = |why: Unavailable| match api {
        true => super::api::Problem::from(Error::from(why)).into_response(),
        false => Error::from(why).into_response(),
    };
    let Ok(_permit) = guard.permits.clone().try_acquire_owned() else {
        return refuse(Unavailable::Busy(guard.max));
    };
    let _serving = Serving::new(&guard.in_flight);
    match tokio::time::timeout(guard.timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => refuse(Unavailable::Slow(guard.timeout.as_secs())),
    }
}

/// `router` with a panic in any of its handlers answered as a 500 SCIM error.
pub fn catch_panics(router: Router) -> Router {
    router.layer(CatchPanicLayer::custom(panicked))
}

/// What a panic's payload says.
fn message(payload: &(dyn Any + Send + 'static)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// A panic in a handler of `/api/v1`, answered as a 500 problem.
pub fn api_panicked(payload: Box<dyn Any + Send + 'static>) -> Response {
    let cause = Error::internal(format!("a handler panicked: {}", message(payload.as_ref())));
    super::api::Problem::from(cause).into_response()
}

fn panicked(payload: Box<dyn Any + Send + 'static>) -> Response {
    Error::internal(format!("a handler panicked: {}", message(payload.as_ref()))).into_response()
}
