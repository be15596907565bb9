//! The cost of SCIM events on Entra's initial cycle, and how late they arrive; run with
//! `cargo bench --bench events` (stores from `SCIMD_BENCH_BACKENDS`, users from
//! `SCIMD_BENCH_USERS`, default 10 000, connections from `SCIMD_BENCH_CONNECTIONS`, 16).
//!
//! For each store, scimd runs as its own process on a fresh database, and Entra's initial
//! cycle of users (the matching lookup, the create, the manager PATCH for 90 %; the requests
//! of `entra_cycle`) is driven over HTTP twice each without a subscriber, with one `notice`
//! subscriber (the default) and with one `full` subscriber (the resource in every event, the
//! most the outbox stores), alternating (none, notice, full, none, notice, full) so that drift
//! of the machine falls on all. The subscriber is a real HTTP receiver in this process that
//! answers 202 and keeps each SET to decode after the run. The event row itself is written
//! with or without a subscriber (`scimd events tail` reads it); a subscriber adds its delivery
//! rows (and, `full`, the resource in the event), and the dispatcher's work in the same process.
//!
//! Reported per run: users/s and creates' p50/p99; with a subscriber, the delivery lag of each
//! event (the receiver's clock when the SET arrived, minus its `toe`, the time of the change
//! to the millisecond) at p50/p95/p99/max, and how long after the cycle's last answer the last
//! event arrived. Target (issue 15): with one subscriber, creates less than 15 % slower than
//! without.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark fails loudly"
)]

#[path = "common/mod.rs"]
#[allow(dead_code, reason = "shared with the other benchmarks")]
mod common;
#[path = "entra_cycle/entra.rs"]
#[allow(dead_code, reason = "shared with entra_cycle, which uses the rest")]
mod entra;
#[path = "entra_cycle/floor.rs"]
#[allow(dead_code, reason = "procs names the floor's server")]
mod floor;
#[path = "entra_cycle/http.rs"]
#[allow(dead_code, reason = "shared with entra_cycle")]
mod http;
#[path = "entra_cycle/procs.rs"]
#[allow(dead_code, reason = "shared with entra_cycle")]
mod procs;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use common::{Backend, BoxResult, Db, Stats, setting};
use procs::Server;

/// The SCIM events' target: creates with a subscriber at least this share of those without.
const TARGET: f64 = 0.85;

/// What the receiver saw: each SET with the time it arrived, decoded after the run (the
/// receiver does as little as it can while scimd is measured on the same cores).
#[derive(Default)]
struct Received {
    sets: Vec<(SystemTime, Bytes)>,
    last: Option<Instant>,
}

/// A receiver on 127.0.0.1:0 that answers 202 and notes each SET's lag.
async fn receiver() -> BoxResult<(String, Arc<Mutex<Received>>)> {
    let seen = Arc::new(Mutex::new(Received::default()));
    let noted = seen.clone();
    let app = axum::Router::new().route(
        "/events",
        axum::routing::post(move |body: Bytes| {
            let noted = noted.clone();
            async move {
                let mut r = noted.lock().unwrap();
                r.sets.push((SystemTime::now(), body));
                r.last = Some(Instant::now());
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/events", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, seen))
}

/// `arrived` minus the SET's `toe` (the time of the change, to the millisecond).
fn lag(arrived: SystemTime, body: &[u8]) -> Option<Duration> {
    let payload = std::str::from_utf8(body).ok()?.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let toe = claims["toe"].as_f64()?;
    arrived
        .duration_since(SystemTime::UNIX_EPOCH + Duration::from_secs_f64(toe))
        .ok()
}

/// `scimd webhook add` on `db`.
async fn subscribe(db: &Db, url: &str, full: bool) -> BoxResult<()> {
    let mut args = vec![
        "webhook", "add", "--tenant", "default", "--url", url, "--json",
    ];
    if full {
        args.push("--full");
    }
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(args)
        .env("SCIMD_DATABASE_URL", &db.url)
        .env("SCIMD_LOG", "warn")
        .output()
        .await?;
    if !out.status.success() {
        return Err(format!("webhook add: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

/// Which subscriber a run has: none, a `notice` one, a `full` one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subscriber {
    None,
    Notice,
    Full,
}

impl Subscriber {
    fn label(self) -> &'static str {
        match self {
            Subscriber::None => "no subscriber",
            Subscriber::Notice => "one, notice",
            Subscriber::Full => "one, full",
        }
    }
}

struct Run {
    subscriber: Subscriber,
    users_per_s: f64,
    creates: Stats,
    lags: Option<Stats>,
    drained: Option<Duration>,
}

async fn run(
    backend: Backend,
    users: usize,
    connections: usize,
    subscriber: Subscriber,
) -> BoxResult<Run> {
    let db = Db::new(
        backend,
        &common::pg_server(),
        "scimd_bench_events",
        "events",
    )?;
    db.drop_database().await?;
    let scimd = Server::scimd(&db, &[], false).await?;
    let seen = if subscriber == Subscriber::None {
        None
    } else {
        let (url, seen) = receiver().await?;
        subscribe(&db, &url, subscriber == Subscriber::Full).await?;
        Some(seen)
    };
    let mut conns = http::open_all(scimd.addr, connections).await?;
    let dir = entra::Directory::new(users, 2);
    let started = Instant::now();
    let samples = dir.create_users(&mut conns, 0, users).await?;
    let ended = Instant::now();
    let seconds = (ended - started).as_secs_f64();
    let creates: Vec<Duration> = samples
        .iter()
        .filter(|s| s.kind == "POST Users")
        .map(|s| s.took)
        .collect();
    let expected = users as u64
        + samples
            .iter()
            .filter(|s| s.kind == "PATCH Users manager")
            .count() as u64;
    let (lags, drained) = match &seen {
        None => (None, None),
        Some(seen) => {
            let deadline = Instant::now() + Duration::from_secs(600);
            loop {
                let got = seen.lock().unwrap().sets.len() as u64;
                if got >= expected {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(format!("{got} of {expected} events arrived in 10 minutes").into());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let r = seen.lock().unwrap();
            let lags: Vec<Duration> = r
                .sets
                .iter()
                .filter_map(|(at, body)| lag(*at, body))
                .collect();
            if let Ok(path) = std::env::var("SCIMD_BENCH_LAGS") {
                // every lag in arrival order, one per line, to see how it builds up
                let lines: Vec<String> = lags.iter().map(|l| l.as_millis().to_string()).collect();
                std::fs::write(path, lines.join("\n"))?;
            }
            (
                Some(Stats::of(&lags)),
                r.last.map(|last| last.saturating_duration_since(ended)),
            )
        }
    };
    drop(conns);
    scimd.stop().await?;
    let run = Run {
        subscriber,
        users_per_s: users as f64 / seconds,
        creates: Stats::of(&creates),
        lags,
        drained,
    };
    print(&run);
    Ok(run)
}

fn print(run: &Run) {
    let ms = |us: f64| us / 1e3;
    print!(
        "  {:<16} {:>6.0} users/s  creates p50 {:>6.2} ms p99 {:>6.2} ms",
        run.subscriber.label(),
        run.users_per_s,
        ms(run.creates.p50),
        ms(run.creates.p99)
    );
    if let (Some(l), Some(d)) = (&run.lags, run.drained) {
        print!(
            "  lag p50 {:.1} ms p95 {:.1} ms p99 {:.1} ms max {:.1} ms; last event {:.2} s after the cycle",
            ms(l.p50),
            ms(l.p95),
            ms(l.p99),
            ms(l.max),
            d.as_secs_f64()
        );
    }
    println!();
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    let users = setting("SCIMD_BENCH_USERS", 10_000, 0)?.max(100);
    let connections = setting("SCIMD_BENCH_CONNECTIONS", 16, 0)?.max(1);
    println!(
        "events: Entra's initial cycle of {users} users over {connections} connections, without \
         and with one subscriber; {} CPUs, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
    );
    for backend in Backend::from_env()? {
        println!("\n## {backend}");
        let mut runs = Vec::new();
        let order = [Subscriber::None, Subscriber::Notice, Subscriber::Full];
        for subscriber in order.iter().chain(&order) {
            runs.push(run(backend, users, connections, *subscriber).await?);
        }
        let mean = |which: Subscriber| {
            let rates: Vec<f64> = runs
                .iter()
                .filter(|r| r.subscriber == which)
                .map(|r| r.users_per_s)
                .collect();
            rates.iter().sum::<f64>() / rates.len() as f64
        };
        for which in [Subscriber::Notice, Subscriber::Full] {
            let ratio = mean(which) / mean(Subscriber::None);
            println!(
                "  {} / no subscriber: {ratio:.3} ({:+.1} %) — target ≥ {TARGET}: {}",
                which.label(),
                (ratio - 1.0) * 100.0,
                if ratio >= TARGET { "met" } else { "MISSED" }
            );
        }
    }
    Ok(())
}
