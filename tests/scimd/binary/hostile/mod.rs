//! Randomised hostile requests against the real process, on each store: for
//! `SCIMD_HOSTILE_SECONDS` (default 5; CI runs 60) six clients send SCIM, OAuth, console,
//! operator page and application API requests built to hurt (`scim`, `pages`, `operator_page`,
//! `operator`, `plan`) over real TCP,
//! on kept-alive connections and fresh ones, from 127.0.0.1 (the trusted proxy, whose forged `X-Forwarded-*` headers scimd
//! believes) and from 127.0.0.2 (whose it does not). Every request must get a complete answer
//! below 500 of its kind (`check`): no connection may end without one, unless scimd said
//! `Connection: close` after answering. At most two sign-ins are in flight at once, so that the
//! password-check budget is never exhausted and a 503 is a failure like any other. Afterwards
//! scimd is healthy, serves a normal create and read, and its first tenant's directory holds
//! only what the successful requests created, nothing with a NUL, and no member from the other
//! tenant, whose own resources are as they were. The run is seeded: a failure prints
//! `SCIMD_HOSTILE_SEED`, which replays each client's sequence of requests (not their
//! interleaving). The counts are printed (`--nocapture`).

mod check;
mod operator;
mod operator_page;
mod pages;
mod plan;
mod scim;
mod setup;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use self::check::{Tally, check};
use self::plan::{Request, dressed, refused_by_http};
use self::setup::{Known, call};
use crate::binary::events::Setup;
use crate::support::wire::{self, Connection};
use crate::support::{Backend, METRICS_TOKEN, TOKEN};

/// Clients sending at once.
const CLIENTS: u64 = 6;
/// The trusted proxy's address (`SCIMD_TRUSTED_PROXIES`), and another client's.
const TRUSTED: [u8; 4] = [127, 0, 0, 1];
const UNTRUSTED: [u8; 4] = [127, 0, 0, 2];
/// The stack of a thread generating requests.
const GENERATOR_STACK: usize = 64 << 20;
/// Sign-ins in flight at once: scimd checks two passwords at a time and makes a third wait.
const SIGN_INS: usize = 2;

/// The requests of the run.
fn requests(known: &Known) -> impl Strategy<Value = Request> {
    dressed(prop_oneof![
        10 => scim::requests(known),
        8 => pages::requests(known),
        4 => operator::requests(known),
        3 => operator_page::requests(known),
        1 => refused_by_http(),
    ])
}

/// One client's requests, generated on a thread of its own (proptest's strategies are not
/// `Send`) from its own seed, derived from the run's; they stop when the client stops taking.
/// The thread's stack is large: an unoptimised build of the strategies' nested value trees
/// outgrows the default 2 MiB.
fn generate(known: Known, seed: u64, client: u64) -> tokio::sync::mpsc::Receiver<Request> {
    let (send, receive) = tokio::sync::mpsc::channel(4);
    let thread = std::thread::Builder::new().stack_size(GENERATOR_STACK);
    let spawned = thread.spawn(move || {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        bytes[8..16].copy_from_slice(&client.to_le_bytes());
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
        let mut runner = TestRunner::new_with_rng(Config::default(), rng);
        let strategy = requests(&known);
        loop {
            let request = strategy.new_tree(&mut runner).unwrap().current();
            if send.blocking_send(request).is_err() {
                return;
            }
        }
    });
    spawned.expect("a generator thread");
    receive
}

/// What one client shares with the others.
struct Shared {
    address: SocketAddr,
    known: Known,
    deadline: Instant,
    sign_ins: Semaphore,
    failed: AtomicBool,
}

/// One client: its connection (kept alive between requests, or not) and what it carried last.
struct Client {
    shared: Arc<Shared>,
    /// The open connection, and whether it is from the untrusted address.
    open: Option<(Connection, bool)>,
    last: String,
    tally: Tally,
}

/// Client `n`: requests until the deadline or another client's failure; its tally, or the
/// first failure.
async fn client(shared: Arc<Shared>, seed: u64, n: u64) -> Result<Tally, String> {
    let mut requests = generate(shared.known.clone(), seed, n);
    let mut client = Client {
        shared,
        open: None,
        last: String::new(),
        tally: Tally::default(),
    };
    while Instant::now() < client.shared.deadline && !client.shared.failed.load(Ordering::Relaxed) {
        let request = requests.recv().await.unwrap();
        let shared = client.shared.clone();
        let _turn = match request.sign_in {
            true => Some(shared.sign_ins.acquire().await.unwrap()),
            false => None,
        };
        let pair = match &request.pair_from {
            Some(page) => {
                let get = Request::new("pair", "GET", page.clone(), plan::Expect::Page);
                setup::csrf_pair(&client.send(&get, None).await?)
            }
            None => None,
        };
        client.send(&request, pair.as_ref()).await?;
    }
    Ok(client.tally)
}

impl Client {
    /// The open connection, or a fresh one when the request wants one, or comes from the other
    /// address, or the open one is spent.
    async fn connection(&mut self, request: &Request) -> Result<&mut Connection, String> {
        let fresh = request.fresh || request.alone;
        let open = self
            .open
            .take()
            .filter(|(c, untrusted)| !fresh && !c.spent && *untrusted == request.untrusted);
        let connection = match open {
            Some((connection, _)) => {
                self.tally.reused += 1;
                connection
            }
            None => {
                self.tally.connections += 1;
                self.last = "(a fresh connection)".into();
                let source = if request.untrusted {
                    UNTRUSTED
                } else {
                    TRUSTED
                };
                Connection::open_from(self.shared.address, source.into())
                    .await
                    .map_err(|e| format!("cannot connect from {source:?}: {e}"))?
            }
        };
        Ok(&mut self.open.insert((connection, request.untrusted)).0)
    }

    /// Sends `request`, checks and counts its answer; a failure stops every client.
    async fn send(
        &mut self,
        request: &Request,
        pair: Option<&(String, String)>,
    ) -> Result<wire::Answer, String> {
        let last = std::mem::take(&mut self.last);
        let connection = self.connection(request).await?;
        let answered = connection.answered;
        let exchanged = connection
            .exchange(&request.bytes(pair), request.method == "HEAD")
            .await;
        let spent = connection.spent || request.alone;
        let failure = |why: String| {
            self.shared.failed.store(true, Ordering::Relaxed);
            format!(
                "{why}\n  on a connection that had answered {answered} requests, the last {last}\n  {}",
                request.summary()
            )
        };
        let answer = exchanged.map_err(|e| failure(format!("dropped connection: {e}")))?;
        check(request, &answer).map_err(|e| {
            let body: String = answer.text().chars().take(600).collect();
            failure(format!(
                "{e}: {} {:?} {body}",
                answer.status, answer.headers
            ))
        })?;
        self.tally.count(request, &answer);
        self.last = format!("answered {} to\n    {}", answer.status, request.summary());
        if spent {
            self.open = None;
        }
        Ok(answer)
    }
}

fn seconds() -> u64 {
    std::env::var("SCIMD_HOSTILE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
}

fn seed() -> u64 {
    std::env::var("SCIMD_HOSTILE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| uuid::Uuid::new_v4().as_u64_pair().0)
}

async fn hostile_requests_for_a_while_get_complete_answers_below_500_and_leave_a_sound_directory(
    backend: Backend,
) {
    let setup = Setup::new(backend).await;
    let server = setup::serve(&setup).await;
    let known = setup::prepare(&setup, server.address).await;
    let seed = seed();
    let seconds = seconds();
    println!("hostile ({backend:?}): {seconds} s, seed {seed} (SCIMD_HOSTILE_SEED replays it)");
    let shared = Arc::new(Shared {
        address: server.address,
        known: known.clone(),
        deadline: Instant::now() + Duration::from_secs(seconds),
        sign_ins: Semaphore::new(SIGN_INS),
        failed: AtomicBool::new(false),
    });
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| tokio::spawn(client(shared.clone(), seed, n)))
        .collect();
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for client in clients {
        match client.await.unwrap() {
            Ok(t) => tally.add(t),
            Err(e) => failures.push(e),
        }
    }
    report(backend, &tally);
    assert!(
        failures.is_empty(),
        "{} client(s) failed (SCIMD_HOSTILE_SEED={seed} replays the run):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(tally.requests > 0);
    sound(server.address, &known, &tally).await;
    server.kill().await;
}

fn report(backend: Backend, tally: &Tally) {
    println!(
        "hostile ({backend:?}): {} requests on {} connections ({} on a kept-alive one); \
         by status class {:?}; by family {:?}; sign-ins with a valid CSRF pair by status {:?}; \
         {} resources created",
        tally.requests,
        tally.connections,
        tally.reused,
        tally.classes,
        tally.families,
        tally.sign_ins,
        tally.created.len()
    );
}

/// Every resource of `token`'s tenant, page by page.
async fn everything(address: SocketAddr, token: &str, endpoint: &str) -> Vec<Value> {
    let mut all = Vec::new();
    loop {
        let path = format!("/scim/v2/{endpoint}?count=200&startIndex={}", all.len() + 1);
        let (status, page) = setup::scim(address, ("GET", &path), token, None).await;
        assert_eq!(status, 200, "{page}");
        let resources = page["Resources"].as_array().cloned().unwrap_or_default();
        let total = page["totalResults"].as_u64().unwrap() as usize;
        all.extend(resources);
        if all.len() >= total {
            return all;
        }
    }
}

/// After the run: scimd is healthy and serves a normal create and read; the id it created.
async fn serves(address: SocketAddr) -> String {
    let health = call(
        address,
        b"GET /healthz HTTP/1.1\r\nHost: scimd.test\r\n\r\n",
    )
    .await;
    assert_eq!(health.status, 200, "{}", health.text());
    let user = json!({"userName": "after@example.com"});
    let (status, created) =
        setup::scim(address, ("POST", "/scim/v2/Users"), TOKEN, Some(&user)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/scim/v2/Users/{id}");
    let (status, read) = setup::scim(address, ("GET", &path), TOKEN, None).await;
    assert_eq!(
        (status, &read["userName"]),
        (200, &json!("after@example.com"))
    );
    id
}

/// The first tenant's directory holds only what successful requests created (and the seeds),
/// nothing with a NUL, and no member from elsewhere; the other tenant's resources are as
/// they were.
async fn sound(address: SocketAddr, known: &Known, tally: &Tally) {
    let after = serves(address).await;
    let seeded = [known.user.as_str(), known.group.as_str(), after.as_str()];
    let ours: Vec<Value> = [
        everything(address, TOKEN, "Users").await,
        everything(address, TOKEN, "Groups").await,
    ]
    .concat();
    let ids: HashSet<&str> = ours.iter().filter_map(|r| r["id"].as_str()).collect();
    for resource in &ours {
        let id = resource["id"].as_str().unwrap();
        assert!(
            tally.created.contains(id) || seeded.contains(&id),
            "{resource} is in the directory, yet no successful request created it"
        );
        assert!(
            !resource.to_string().contains("\\u0000"),
            "{resource} holds a NUL"
        );
        for member in resource["members"].as_array().into_iter().flatten() {
            let value = member["value"].as_str().unwrap_or_default();
            assert!(
                ids.contains(value),
                "{resource} has a member from elsewhere: {member}"
            );
        }
    }
    for (path, before) in &known.other_seeds {
        let (status, now) = setup::scim(address, ("GET", path), &known.other_token, None).await;
        assert_eq!(
            (status, &now),
            (200, before),
            "the other tenant's resource changed"
        );
    }
    println!(
        "hostile: the directory holds {} resources, each created by a successful request; \
         scimd checked {} passwords",
        ours.len(),
        password_checks(address).await
    );
}

/// `scimd_password_checks_total`, from `/metrics`.
async fn password_checks(address: SocketAddr) -> String {
    let scrape = format!(
        "GET /metrics HTTP/1.1\r\nHost: scimd.test\r\nAuthorization: Bearer {METRICS_TOKEN}\r\n\r\n"
    );
    let metrics = call(address, scrape.as_bytes()).await.text();
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("scimd_password_checks_total "))
        .unwrap_or("none")
        .to_owned()
}

crate::on_both_stores!(
    hostile_requests_for_a_while_get_complete_answers_below_500_and_leave_a_sound_directory
);
