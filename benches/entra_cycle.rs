//! Entra's provisioning cycles against the real scimd process, beside the stack's floor; run
//! with `cargo bench --bench entra_cycle` (sizes and stores from the environment, below).
//!
//! Measured: scimd over real HTTP/1.1 keep-alive connections, against a minimal axum + sqlx
//! server and raw SQL in the same run.
//!
//! For each store (`SCIMD_BENCH_BACKENDS`, default `postgres,sqlite`) the benchmark starts
//! `scimd serve` as a separate process on a fresh database (PostgreSQL database
//! `scimd_bench_entra` on `SCIMD_BENCH_DATABASE_URL`, or `target/bench-sqlite/entra.db`), and
//! drives it as Microsoft Entra ID does ("Tutorial: Develop and plan provisioning for a SCIM
//! endpoint in Microsoft Entra ID") with `SCIMD_BENCH_CONNECTIONS` (16) keep-alive connections:
//!
//! - initial cycle, users: for each of `SCIMD_BENCH_USERS` (20 000) users the matching lookup
//!   `GET /Users?filter=userName eq "…"` (nothing found), `POST /Users` with Entra's body, and
//!   for 90 % of them a PATCH linking a manager; the first 50 users on one connection, then a
//!   probe of 1 000 lookups with 50 users, then the rest;
//! - initial cycle, groups: for each of `SCIMD_BENCH_GROUPS` (20) groups the lookup by
//!   displayName and the create, then PATCHes adding 100 members each: group 0 gets nearly
//!   every user, the others 300;
//! - probes on one connection: 1 000 lookups with every user; 1 000 pairs of a member add and
//!   Entra's member remove in the big group and in an empty group;
//! - incremental cycle: the matching lookup of every user (finds it), soft deletes of 5 %;
//! - on PostgreSQL, the plans of scimd's statements for lookups, creates and member changes,
//!   with 50 users and after the initial cycle (`plans.rs`);
//! - scimd on another fresh database with the floor's phases: N creates, then N lookups.
//!
//! The floor, a separate process too (this binary with `SCIMD_BENCH_FLOOR=<url>`), runs one
//! statement per request; it gets the same N creates and N lookups, and so does raw SQL through
//! sqlx (16 tasks, no HTTP). Per phase: requests, requests/s, p50/p95/p99, CPU time of the
//! server process per request (`/proc/<pid>/stat`), of PostgreSQL's backends, RSS. Every
//! answer is checked before it counts. The targets of the issue are printed as met or MISSED.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark fails loudly"
)]

#[path = "common/mod.rs"]
#[allow(
    dead_code,
    reason = "shared with the other benchmarks, which use the rest"
)]
mod common;
#[path = "entra_cycle/entra.rs"]
mod entra;
#[path = "entra_cycle/floor.rs"]
mod floor;
#[path = "entra_cycle/http.rs"]
mod http;
#[path = "entra_cycle/plans.rs"]
mod plans;
#[path = "entra_cycle/procs.rs"]
mod procs;
#[path = "entra_cycle/report.rs"]
mod report;

use std::time::Instant;

use common::{Backend, BoxResult, Db, setting};
use entra::Directory;
use http::open_all;
use procs::{Server, Watch};
use report::StoreRun;

/// Requests of each probe, after `PROBE_WARMUP` unmeasured ones.
const PROBE: usize = 1_000;
const PROBE_WARMUP: usize = 100;
/// Users created before the 50-user lookup probe.
const FIRST: usize = 50;

struct Config {
    users: usize,
    groups: usize,
    connections: usize,
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    if let Ok(url) = std::env::var(procs::FLOOR_ENV) {
        return floor::serve(&url).await;
    }
    let config = Config {
        users: setting("SCIMD_BENCH_USERS", 20_000, 1_000)?,
        groups: setting("SCIMD_BENCH_GROUPS", 20, 2)?,
        connections: setting("SCIMD_BENCH_CONNECTIONS", 16, 1)?,
    };
    let backends = Backend::from_env()?;
    println!(
        "entra_cycle: {} users, {} groups, {} connections, stores {}; {} CPUs, {}",
        config.users,
        config.groups,
        config.connections,
        backends
            .iter()
            .map(|b| b.label())
            .collect::<Vec<_>>()
            .join(", "),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
    );
    let mut runs = Vec::new();
    for backend in backends {
        let started = Instant::now();
        let run = run_store(&config, backend).await?;
        println!(
            "\n{backend}: {:.0} s in all",
            started.elapsed().as_secs_f64()
        );
        runs.push(run);
    }
    println!("\n## Results");
    for run in &runs {
        report::phases(run);
        report::summary(run);
    }
    report::across(&runs);
    println!(
        "\n{} client connections were replaced after {} s idle (scimd closes idle keep-alive \
         connections after SCIMD_HEADER_TIMEOUT)",
        http::RECONNECTS.load(std::sync::atomic::Ordering::Relaxed),
        http::IDLE.as_secs()
    );
    Ok(())
}

async fn run_store(config: &Config, backend: Backend) -> BoxResult<StoreRun> {
    let server_url = common::pg_server();
    let n = config.users;
    println!("\n## {backend}\n\nscimd, Entra's cycles:");
    let db = Db::new(backend, &server_url, "scimd_bench_entra", "entra")?;
    db.drop_database().await?;
    let scimd = Server::scimd(&db, &[], false).await?;
    let mut watch = Watch::new(scimd.pid, &db).await?;
    let mut conns = open_all(scimd.addr, config.connections).await?;
    let dir = Directory::new(n, config.groups);
    let mut phases = Vec::new();

    phases.push(
        watch
            .measure(
                report::FIRST_USERS,
                dir.create_users(&mut conns[..1], 0, FIRST),
            )
            .await?,
    );
    let early_plans = if backend == Backend::Postgres {
        println!("\nPlans with {FIRST} users (auto_explain in a second scimd, generic plans):");
        let met = plans::check(&db, &dir, FIRST).await?;
        println!();
        met
    } else {
        None
    };
    dir.lookup_probe(&mut conns[0], 0..FIRST, PROBE_WARMUP, 1)
        .await?;
    phases.push(
        watch
            .measure(
                report::PROBE_50,
                dir.lookup_probe(&mut conns[0], 0..FIRST, PROBE, 2),
            )
            .await?,
    );
    phases.push(
        watch
            .measure(
                report::USERS,
                dir.create_users(&mut conns, FIRST, n - FIRST),
            )
            .await?,
    );
    phases.push(
        watch
            .measure(report::GROUPS, dir.create_groups(&mut conns))
            .await?,
    );
    phases.push(
        watch
            .measure(report::MEMBERS, dir.add_members(&mut conns))
            .await?,
    );

    let ungrouped = n - dir.reserved..n;
    dir.lookup_probe(&mut conns[0], ungrouped.clone(), PROBE_WARMUP, 3)
        .await?;
    phases.push(
        watch
            .measure(
                report::PROBE_N,
                dir.lookup_probe(&mut conns[0], ungrouped, PROBE, 4),
            )
            .await?,
    );
    let big = dir.group(0)?.to_owned();
    let empty = dir
        .new_group(&mut conns[0], "Probe Empty Group", &mut Vec::new())
        .await?;
    for (name, group) in [(report::PROBE_BIG, &big), (report::PROBE_EMPTY, &empty)] {
        dir.member_probe(&mut conns[0], group, PROBE_WARMUP).await?;
        phases.push(
            watch
                .measure(name, dir.member_probe(&mut conns[0], group, PROBE))
                .await?,
        );
    }

    phases.push(
        watch
            .measure(report::LOOKUPS, dir.find_users(&mut conns))
            .await?,
    );
    phases.push(
        watch
            .measure(report::SOFT_DELETES, dir.soft_delete(&mut conns))
            .await?,
    );
    let mut scimd_hwm_kb = procs::memory(scimd.pid)?.1;
    drop(conns);
    scimd.stop().await?;

    let plans = if backend == Backend::Postgres {
        println!("\nPlans after the initial cycle (auto_explain in a fresh scimd, generic plans):");
        (early_plans, plans::check(&db, &dir, n).await?)
    } else {
        (None, None)
    };

    println!("\nscimd on a fresh database, the floor's phases:");
    let bare = Db::new(backend, &server_url, "scimd_bench_entra_bare", "entra_bare")?;
    bare.drop_database().await?;
    let scimd = Server::scimd(&bare, &[], false).await?;
    let mut watch = Watch::new(scimd.pid, &bare).await?;
    let mut conns = open_all(scimd.addr, config.connections).await?;
    phases.push(
        watch
            .measure(report::SCIMD_CREATES, entra::plain_creates(&mut conns, n))
            .await?,
    );
    phases.push(
        watch
            .measure(report::SCIMD_LOOKUPS, entra::plain_lookups(&mut conns, n))
            .await?,
    );
    scimd_hwm_kb = scimd_hwm_kb.max(procs::memory(scimd.pid)?.1);
    drop(conns);
    scimd.stop().await?;

    println!("\nthe floor:");
    let floor_db = Db::new(
        backend,
        &server_url,
        "scimd_bench_entra_floor",
        "entra_floor",
    )?;
    floor::prepare(&floor_db).await?;
    let floor = Server::floor(&floor_db.url).await?;
    let mut watch = Watch::new(floor.pid, &floor_db).await?;
    let mut conns = open_all(floor.addr, config.connections).await?;
    phases.push(
        watch
            .measure(report::FLOOR_CREATES, entra::plain_creates(&mut conns, n))
            .await?,
    );
    phases.push(
        watch
            .measure(report::FLOOR_LOOKUPS, entra::plain_lookups(&mut conns, n))
            .await?,
    );
    drop(conns);
    floor.stop().await?;

    println!(
        "\nraw SQL ({} tasks, this process's CPU):",
        config.connections
    );
    let mut watch = Watch::new(std::process::id(), &floor_db).await?;
    let raw = floor::RawSql::open(&floor_db).await?;
    phases.push(
        watch
            .measure(report::RAW_CREATES, raw.run(config.connections, n, true))
            .await?,
    );
    phases.push(
        watch
            .measure(report::RAW_LOOKUPS, raw.run(config.connections, n, false))
            .await?,
    );
    raw.close().await;
    Ok(StoreRun {
        backend,
        phases,
        plans,
        scimd_hwm_kb,
    })
}
