//! The soak (issue 27): scimd replicas on PostgreSQL, many tenants, Entra's mix for an hour
//! through database and replica restarts; run with `cargo bench --bench soak`.
//!
//! The benchmark starts a PostgreSQL cluster of its own (`soak/cluster.rs`: restarting it
//! disturbs no other server), `SCIMD_BENCH_SOAK_REPLICAS` (2) `scimd serve` processes on it,
//! and, through the management API with an operator key, `SCIMD_BENCH_SOAK_TENANTS` (100)
//! tenants with a token each. Clients go round-robin over the replicas, no balancer between,
//! and retry on the next replica after a connection error or a 503 (`soak/client.rs`). For
//! `SCIMD_BENCH_SOAK_SECONDS` (3 600) it runs (`soak/workload.rs`):
//!
//! - `SCIMD_BENCH_SOAK_LARGE` (3) large tenants in their initial cycle, each with
//!   `SCIMD_BENCH_SOAK_LARGE_WORKERS` (2) connections unpaced: lookup, create, a group of
//!   100 with a member PATCH per 100 users, up to `SCIMD_BENCH_SOAK_LARGE_USERS` (20 000) users,
//!   then incremental work on them;
//! - the other tenants' incremental cycles, one request every `SCIMD_BENCH_SOAK_PACE_MS` (500)
//!   on average each: lookups, replaces of `title` and `active`, member adds and removes, a
//!   delete with a create, reads by id;
//! - Entra's Test Connection on a tenant at random every 500 ms (a new connection each);
//! - the application's reads of `/api/v1` (activity, cycles, tenant) every 250 ms.
//!
//! One replica is stopped (SIGTERM) at a fifth of the run and started again on its port;
//! PostgreSQL is stopped at a third (`-m fast`) and two thirds (`-m immediate`, a crash it
//! recovers from) and started again on the same data after a fortieth of the run, 3 to 10 s
//! (`SCIMD_BENCH_SOAK_DOWN_SECONDS`). A replica that exits meanwhile is a failure, with the end
//! of its log. Every acknowledged
//! write is kept in a ledger (`soak/ledger.rs`) and checked at the end through the SCIM API.
//! The report gives per tenant class throughput, p50/p99, answers by status and connection
//! errors, the ledger's check, each replica's VmRSS at start, middle and end; and the issue's
//! done-when, MET or MISSED: the process exits non-zero when one is missed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark fails loudly"
)]

#[path = "soak/client.rs"]
mod client;
#[path = "soak/cluster.rs"]
mod cluster;
#[path = "common/mod.rs"]
#[allow(
    dead_code,
    reason = "shared with the other benchmarks, which use the rest"
)]
mod common;
#[path = "entra_cycle/entra.rs"]
#[allow(dead_code, reason = "shared with entra_cycle, which uses the rest")]
mod entra;
#[path = "entra_cycle/http.rs"]
#[allow(dead_code, reason = "shared with entra_cycle, which uses the rest")]
mod http;
#[path = "soak/ledger.rs"]
mod ledger;
#[path = "soak/ops.rs"]
mod ops;
#[path = "../tests/scimd/support/pg.rs"]
#[allow(dead_code, reason = "shared with the tests, which use the rest")]
mod pg;
#[path = "entra_cycle/procs.rs"]
#[allow(dead_code, reason = "shared with entra_cycle, which uses the rest")]
mod procs;
#[path = "soak/report.rs"]
mod report;
#[path = "soak/run.rs"]
mod run;
#[path = "soak/workload.rs"]
mod workload;

use common::{BoxResult, setting};

#[tokio::main]
async fn main() -> BoxResult<()> {
    let settings = run::Settings {
        seconds: setting("SCIMD_BENCH_SOAK_SECONDS", 3_600, 30)?,
        replicas: setting("SCIMD_BENCH_SOAK_REPLICAS", 2, 2)?,
        tenants: setting("SCIMD_BENCH_SOAK_TENANTS", 100, 2)?,
        large: setting("SCIMD_BENCH_SOAK_LARGE", 3, 1)?,
        large_workers: setting("SCIMD_BENCH_SOAK_LARGE_WORKERS", 2, 1)?,
        large_users: setting("SCIMD_BENCH_SOAK_LARGE_USERS", 20_000, 100)?,
        pace_ms: setting("SCIMD_BENCH_SOAK_PACE_MS", 500, 1)?,
        down_seconds: match std::env::var("SCIMD_BENCH_SOAK_DOWN_SECONDS") {
            Ok(_) => Some(setting("SCIMD_BENCH_SOAK_DOWN_SECONDS", 10, 1)?),
            Err(_) => None,
        },
    };
    if settings.large >= settings.tenants {
        return Err("SCIMD_BENCH_SOAK_LARGE must be below SCIMD_BENCH_SOAK_TENANTS".into());
    }
    // the cluster and the replicas are gone when `soak` returns, before the exit status
    let met = run::soak(&settings).await?;
    if !met {
        eprintln!("soak: a target of issue 27 was MISSED");
        std::process::exit(1);
    }
    Ok(())
}
