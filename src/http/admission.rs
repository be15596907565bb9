//! Fair shares between tenants: a SCIM request, once its tenant is known, is served in one of
//! `SCIMD_ADMISSION_SLOTS` slots. When every slot is taken, requests wait in a queue of their
//! own tenant's, and a freed slot goes to the tenants with waiting requests in turn
//! (round-robin), so a tenant with 64 requests waiting is served one request for each of a
//! tenant with one. A tenant may have at most `SCIMD_TENANT_MAX_IN_FLIGHT` requests served or
//! waiting at once (its rule `--max-in-flight` may change that); beyond that it is answered 429
//! with `Retry-After`, so one tenant cannot take every request slot of the server either. A
//! tenant with a rate (`--rate-limit`) is answered 429 past it as well. The slots and the
//! rates are of this replica.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;

use crate::domain::TenantId;
use crate::scim;
use crate::service::Error;

/// Seconds a tenant past its ceiling is asked to wait: its requests in flight take about that
/// long to drain.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// The admission of SCIM requests, shared by every request of the process.
#[derive(Debug, Clone)]
pub struct Admission(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    slots: usize,
    max_in_flight: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    free: usize,
    lanes: HashMap<TenantId, Lane>,
    /// The tenants with requests waiting, in the order they are served.
    turns: VecDeque<TenantId>,
}

/// One tenant's requests: served, and waiting in the order they came.
#[derive(Debug, Default)]
struct Lane {
    served: usize,
    waiting: VecDeque<oneshot::Sender<Admitted>>,
    /// Whether the tenant is in `turns`.
    queued: bool,
}

impl Lane {
    fn idle(&self) -> bool {
        self.served == 0 && self.waiting.is_empty() && !self.queued
    }
}

/// A slot held by a request of a tenant; freed, and given to the next tenant's turn, when
/// dropped.
#[derive(Debug)]
#[must_use = "the slot is freed when this is dropped"]
pub struct Admitted {
    /// `None` once the slot was given back by other means (a request that gave up waiting).
    admission: Option<Admission>,
    tenant: TenantId,
}

/// A request's slot, now or when its turn comes.
enum Entry {
    Now(Admitted),
    Later(oneshot::Receiver<Admitted>),
}

/// Why a request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the tenant has {0} requests in flight, its most at once")]
pub struct TooMany(pub usize);

impl Admission {
    /// `slots` requests served at once in all; `max_in_flight` of one tenant served or
    /// waiting at once. Zero is taken as one.
    pub fn new(slots: usize, max_in_flight: usize) -> Self {
        let slots = slots.max(1);
        Self(Arc::new(Shared {
            slots,
            max_in_flight: max_in_flight.max(1),
            state: Mutex::new(State {
                free: slots,
                ..State::default()
            }),
        }))
    }

    pub fn slots(&self) -> usize {
        self.0.slots
    }

    pub fn max_in_flight(&self) -> usize {
        self.0.max_in_flight
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // the state is consistent after every statement that changes it: a panic elsewhere
        // while it was held leaves nothing half done
        self.0.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for a request of `tenant`: at once when one is free and the tenant has no
    /// request waiting, else in the tenant's turn; `ceiling` is the tenant's own most in
    /// flight (its rule), else the server's. Cancel-safe: a request dropped while it waits
    /// (its client gone, its time up) gives up its place, or the slot it was given.
    pub async fn enter(
        &self,
        tenant: TenantId,
        name: &str,
        ceiling: Option<usize>,
    ) -> Result<Admitted, TooMany> {
        let started = Instant::now();
        let ceiling = ceiling.unwrap_or(self.0.max_in_flight).max(1);
        loop {
            let receiver = match self.try_enter(tenant, name, ceiling)? {
                Entry::Now(admitted) => return Ok(admitted),
                Entry::Later(receiver) => receiver,
            };
            // a waiter's sender is dropped unsent only if the waiter had given up; if it ever
            // were otherwise, the request asks again rather than fail
            if let Ok(admitted) = receiver.await {
                metrics::counter!("scimd_admission_waits_total", "tenant" => name.to_owned())
                    .increment(1);
                metrics::histogram!("scimd_admission_wait_seconds").record(started.elapsed());
                return Ok(admitted);
            }
        }
    }

    /// A slot at once, or the place in the tenant's queue where one will come.
    fn try_enter(&self, tenant: TenantId, name: &str, ceiling: usize) -> Result<Entry, TooMany> {
        let mut state = self.state();
        let free = state.free;
        let lane = state.lanes.entry(tenant).or_default();
        // requests that gave up waiting hold no place
        lane.waiting.retain(|w| !w.is_closed());
        let in_flight = lane.served + lane.waiting.len();
        if in_flight >= ceiling {
            metrics::counter!("scimd_admission_refused_total", "tenant" => name.to_owned(), "reason" => "in_flight")
                .increment(1);
            return Err(TooMany(in_flight));
        }
        if free > 0 && lane.waiting.is_empty() {
            lane.served += 1;
            state.free -= 1;
            return Ok(Entry::Now(Admitted {
                admission: Some(self.clone()),
                tenant,
            }));
        }
        let (sender, receiver) = oneshot::channel();
        lane.waiting.push_back(sender);
        if !lane.queued {
            lane.queued = true;
            state.turns.push_back(tenant);
        }
        Ok(Entry::Later(receiver))
    }

    /// Frees a slot of `tenant` and gives the free slots to the waiting tenants in turn.
    fn leave(&self, tenant: TenantId) {
        let mut state = self.state();
        state.free += 1;
        if let Some(lane) = state.lanes.get_mut(&tenant) {
            lane.served = lane.served.saturating_sub(1);
            if lane.idle() {
                state.lanes.remove(&tenant);
            }
        }
        self.hand_out(&mut state);
    }

    /// Gives free slots to the first request of each waiting tenant, in turn. A request that
    /// gave up waiting is skipped; the slot it was handed comes back at once.
    fn hand_out(&self, state: &mut State) {
        while state.free > 0 {
            let Some(tenant) = state.turns.pop_front() else {
                return;
            };
            let Some(lane) = state.lanes.get_mut(&tenant) else {
                continue;
            };
            if let Some(sender) = lane.waiting.pop_front() {
                let admitted = Admitted {
                    admission: Some(self.clone()),
                    tenant,
                };
                match sender.send(admitted) {
                    Ok(()) => {
                        lane.served += 1;
                        state.free -= 1;
                    }
                    // its drop must not give the slot back: that would take the lock held here
                    Err(mut unwanted) => drop(unwanted.admission.take()),
                }
            }
            if lane.waiting.is_empty() {
                lane.queued = false;
                if lane.idle() {
                    state.lanes.remove(&tenant);
                }
            } else {
                state.turns.push_back(tenant);
            }
        }
    }

    /// Requests of `tenant` served and waiting now (what the tests look at).
    pub fn in_flight(&self, tenant: TenantId) -> (usize, usize) {
        let state = self.state();
        state
            .lanes
            .get(&tenant)
            .map_or((0, 0), |l| (l.served, l.waiting.len()))
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Some(admission) = self.admission.take() {
            admission.leave(self.tenant);
        }
    }
}

/// The answer to a request past its tenant's ceiling: 429 Too Many Requests with `Retry-After`
/// (RFC 6585 §4): Entra's provisioning logs show it as `TooManyRequests`, retried on its own.
pub fn refused(too_many: TooMany) -> Response {
    let detail =
        format!("{too_many}; retry after {RETRY_AFTER_SECONDS} s, or send fewer requests at once");
    let mut response = Error::from(scim::Error::new(429, None, detail)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    response
}

/// `req` with its body read, when it declares a length this server accepts: a client that
/// sends its body slowly must not hold a slot while it does. A body of no declared length, or
/// of one too large, is left to the handler, which refuses it as before (413).
pub async fn read_body(req: Request, limit: usize) -> Result<Request, Response> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if !declared.is_some_and(|n| n > 0 && n <= limit) {
        return Ok(req);
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(Request::from_parts(parts, Body::from(bytes))),
        Err(e) => Err(Error::from(scim::Error::invalid_syntax(format!(
            "the request body could not be read: {e}"
        )))
        .into_response()),
    }
}

/// The answer to a request past its tenant's rate (`--rate-limit`): 429 with `Retry-After`,
/// the whole seconds until the tenant's next request is allowed.
pub fn rate_limited(name: &str, per_second: u32, wait: std::time::Duration) -> Response {
    metrics::counter!("scimd_admission_refused_total", "tenant" => name.to_owned(), "reason" => "rate")
        .increment(1);
    let seconds = u32::try_from(wait.as_millis().div_ceil(1000).max(1)).unwrap_or(u32::MAX);
    let detail = format!(
        "the tenant sends more than its rate of {per_second} requests per second; retry after \
         {seconds} s"
    );
    let mut response = Error::from(scim::Error::new(429, None, detail)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

#[cfg(test)]
mod tests;
