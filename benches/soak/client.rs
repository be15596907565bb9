//! The soak's client: keep-alive connections to every replica (benches/entra_cycle/http.rs),
//! requests sent round-robin over the replicas with no balancer in between; a connection error,
//! a 503 or a 429 is retried on the next replica after the `Retry-After` it gave. Every answer
//! is counted per tenant class (latency, status, connection errors), and every answer the
//! issue does not allow (a 5xx other than 503, a 503 without `Retry-After`) is kept with its
//! request.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::http::{Conn, Reply};

/// How long one attempt may wait for its answer.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a request is retried before the client gives up on it (its write then stays
/// uncertain).
const GIVE_UP: Duration = Duration::from_secs(180);
/// The pause after a connection error before the next replica is tried.
const CONNECTION_BACKOFF: Duration = Duration::from_millis(200);
/// A `Retry-After` longer than this is waited for this long only (and reported as unexpected).
const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// Who sends a request: the tenants' classes, and the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A few tenants in their initial cycle, as fast as scimd answers.
    Large,
    /// The other tenants' incremental cycles, paced.
    Incremental,
    /// Entra's Test Connection probes, on any tenant.
    TestConnection,
    /// The application's reads of the management API (`/api/v1`, an operator key).
    AppReads,
}

pub const CLASSES: [Class; 4] = [
    Class::Large,
    Class::Incremental,
    Class::TestConnection,
    Class::AppReads,
];

impl Class {
    pub fn label(self) -> &'static str {
        match self {
            Class::Large => "large tenants (initial cycle)",
            Class::Incremental => "incremental tenants",
            Class::TestConnection => "Test Connection",
            Class::AppReads => "application's reads (/api/v1)",
        }
    }

    fn index(self) -> usize {
        match self {
            Class::Large => 0,
            Class::Incremental => 1,
            Class::TestConnection => 2,
            Class::AppReads => 3,
        }
    }
}

/// What the requests of one class met.
#[derive(Default)]
pub struct Counts {
    /// Latency of every answered attempt.
    pub took: Vec<Duration>,
    pub statuses: BTreeMap<u16, u64>,
    pub connection_errors: u64,
    /// Requests given up after retrying for `GIVE_UP`.
    pub given_up: u64,
}

/// What every client shares: the replicas' addresses, the counts, the failures.
pub struct Shared {
    pub replicas: Vec<SocketAddr>,
    counts: [Mutex<Counts>; 4],
    /// Answers the issue does not allow, each with its request.
    pub failures: Mutex<Vec<String>>,
    /// Answers allowed but not expected (a 4xx the mix should not meet, a read contradicting
    /// an acknowledged write), for the report.
    pub surprises: Mutex<Vec<String>>,
    next: AtomicUsize,
}

impl Shared {
    pub fn new(replicas: Vec<SocketAddr>) -> Arc<Self> {
        Arc::new(Self {
            replicas,
            counts: Default::default(),
            failures: Mutex::new(Vec::new()),
            surprises: Mutex::new(Vec::new()),
            next: AtomicUsize::new(0),
        })
    }

    /// The counts of `class` so far (taken: the caller reports them).
    pub fn take(&self, class: Class) -> Counts {
        std::mem::take(&mut *self.counts[class.index()].lock().unwrap())
    }

    pub fn surprise(&self, what: String) {
        eprintln!("soak: unexpected {what}");
        self.surprises.lock().unwrap().push(what);
    }

    pub fn fail(&self, what: String) {
        eprintln!("soak: FAILURE {what}");
        self.failures.lock().unwrap().push(what);
    }
}

/// An answer that counts: 2xx or 4xx (not 429), or none after retrying for `GIVE_UP`.
pub enum Outcome {
    /// The answer, and whether an earlier attempt's answer was lost (connection error, 503):
    /// a write may then have happened already.
    Answered {
        reply: Reply,
        after_loss: bool,
    },
    GaveUp(String),
}

/// One client: a bearer token and a connection to each replica, opened when needed.
pub struct Client {
    shared: Arc<Shared>,
    token: String,
    class: Class,
    conns: Vec<Option<Conn>>,
    turn: usize,
}

impl Client {
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    pub fn new(shared: &Arc<Shared>, token: &str, class: Class) -> Self {
        Self {
            shared: shared.clone(),
            token: token.to_owned(),
            class,
            conns: shared.replicas.iter().map(|_| None).collect(),
            // clients start on different replicas
            turn: shared.next.fetch_add(1, Ordering::Relaxed),
        }
    }

    fn record(&self, f: impl FnOnce(&mut Counts)) {
        f(&mut self.shared.counts[self.class.index()].lock().unwrap());
    }

    /// Sends the request to the next replica, and again to the next after a connection error,
    /// a 503 or a 429 (waiting as `Retry-After` says), until it is answered otherwise.
    pub async fn call(&mut self, method: &str, target: &str, body: Option<&str>) -> Outcome {
        let started = Instant::now();
        let mut after_loss = false;
        let mut last = String::new();
        while started.elapsed() < GIVE_UP {
            let r = self.turn % self.conns.len();
            self.turn += 1;
            let addr = self.shared.replicas[r];
            if self.conns[r].is_none() {
                match Conn::open_as(addr, &self.token).await {
                    Ok(conn) => self.conns[r] = Some(conn),
                    Err(e) => {
                        self.record(|c| c.connection_errors += 1);
                        last = format!("connecting to {addr}: {e}");
                        tokio::time::sleep(CONNECTION_BACKOFF).await;
                        continue;
                    }
                }
            }
            let conn = self.conns[r].as_mut().expect("opened above");
            let (reply, took) = match conn.send_any(method, target, body, ATTEMPT_TIMEOUT).await {
                Ok(answer) => answer,
                Err(e) => {
                    self.conns[r] = None;
                    self.record(|c| c.connection_errors += 1);
                    last = format!("{method} {target} on {addr}: {e}");
                    after_loss |= method != "GET";
                    tokio::time::sleep(CONNECTION_BACKOFF).await;
                    continue;
                }
            };
            if reply.close {
                self.conns[r] = None;
            }
            self.record(|c| {
                c.took.push(took);
                *c.statuses.entry(reply.status).or_default() += 1;
            });
            let retry_after = reply
                .retry_after
                .as_deref()
                .and_then(|s| s.trim().parse::<u64>().ok());
            match reply.status {
                503 | 429 => {
                    let Some(seconds) = retry_after else {
                        self.shared.fail(format!(
                            "{} without a Retry-After in seconds ({:?}) to {method} {target} \
                             on {addr}: {}",
                            reply.status,
                            reply.retry_after,
                            reply.text()
                        ));
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        after_loss |= method != "GET";
                        continue;
                    };
                    let wait = Duration::from_secs(seconds);
                    if wait > LONGEST_WAIT {
                        self.shared.surprise(format!(
                            "Retry-After {seconds} (more than {LONGEST_WAIT:?}) to {method} \
                             {target} on {addr}"
                        ));
                    }
                    last = format!("{} to {method} {target} on {addr}", reply.status);
                    after_loss |= reply.status == 503 && method != "GET";
                    tokio::time::sleep(wait.min(LONGEST_WAIT)).await;
                }
                status if !(200..300).contains(&status) && !(400..500).contains(&status) => {
                    self.shared.fail(format!(
                        "{status} to {method} {target} on {addr}{}: {}",
                        body.map_or(String::new(), |b| format!(" (body {b})")),
                        reply.text()
                    ));
                    after_loss |= method != "GET";
                    last = format!("{status} to {method} {target}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                _ => return Outcome::Answered { reply, after_loss },
            }
        }
        self.record(|c| c.given_up += 1);
        Outcome::GaveUp(format!("gave up after {GIVE_UP:?}; last: {last}"))
    }
}
