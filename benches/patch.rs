//! The cost of the largest PATCH scimd accepts, through the service on both stores: 1 000
//! operations in one PatchOp, a 1 MiB body of 1 000 values added to one attribute, and their
//! removal by value list. Target: each well under a second of CPU (`SCIMD_BENCH_PATCHES`
//! repetitions each, default 10; every answer is checked before it is timed).
//!
//! CPU time is the process's (user + system, from `/proc/self/stat`) over the repetitions,
//! divided by them; the database server's CPU is not in it (for SQLite, the store is in the
//! process and its CPU is).
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

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::{Backend, BoxResult, Db, Stats};
use scimd::domain::Tenant;
use scimd::scim::schema::ResourceKind;
use scimd::service::{Answer, Context};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Target: CPU per PATCH, well under a second.
const TARGET: Duration = Duration::from_millis(250);

/// One thousand operations: replacements of simple, complex and extension attributes and
/// additions to multi-valued ones, as Entra sends them one per attribute.
fn thousand_operations(round: usize) -> Value {
    let ops: Vec<Value> = (0..1000)
        .map(|i| match i % 4 {
            0 => json!({"op": "Replace", "path": "title", "value": format!("t{round}-{i}")}),
            1 => json!({"op": "replace", "path": "name.givenName", "value": format!("g{i}")}),
            2 => json!({"op": "add", "path": "emails", "value": [{"value": format!("e{i}@x.org"), "type": "work"}]}),
            _ => json!({"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": format!("d{i}")}),
        })
        .collect();
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

/// A thousand e-mail values of about a kilobyte each: a 1 MiB body.
fn thousand_values() -> Vec<Value> {
    let padding = "v".repeat(1000);
    (0..1000)
        .map(|i| json!({"value": format!("{padding}{i}@x.org"), "type": "other"}))
        .collect()
}

fn cpu() -> BoxResult<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks: u64 = fields.get(11).unwrap_or(&"0").parse::<u64>()?
        + fields.get(12).unwrap_or(&"0").parse::<u64>()?;
    // the kernel's USER_HZ, 100 on Linux
    Ok(Duration::from_millis(ticks * 10))
}

/// One kind of PATCH: the user it applies to, its body, and what the user must look like
/// after it.
struct Case<'a> {
    label: &'a str,
    user: Value,
    body: &'a dyn Fn(usize) -> Value,
    check: &'a dyn Fn(&Value) -> BoxResult<()>,
}

/// Times the PATCH of `case` on a fresh user per repetition; checks each answer.
async fn measure(
    state: &scimd::AppState,
    tenant: &Tenant,
    case: Case<'_>,
    repetitions: usize,
) -> BoxResult<(Stats, Duration)> {
    let ctx = Context::of(tenant);
    let mut samples = Vec::new();
    let mut cpu_spent = Duration::ZERO;
    for round in 0..repetitions {
        let mut user = case.user.clone();
        user["userName"] = json!(format!("{}-{round}", case.label));
        let user = state
            .directory
            .create(&ctx, ResourceKind::User, &user)
            .await?;
        let id = user.resource.id.to_string();
        let body = (case.body)(round);
        let (cpu_before, started) = (cpu()?, Instant::now());
        let answer = state
            .directory
            .patch(&ctx, ResourceKind::User, &id, &body)
            .await?;
        samples.push(started.elapsed());
        cpu_spent += cpu()?.saturating_sub(cpu_before);
        let Answer::Resource(shown) = answer else {
            return Err("a user PATCH answers with the user".into());
        };
        (case.check)(&shown.render("http://bench"))?;
    }
    Ok((Stats::of(&samples), cpu_spent / repetitions as u32))
}

async fn run(backend: Backend, repetitions: usize) -> BoxResult<Vec<(String, Stats, Duration)>> {
    let db = Db::new(backend, &common::pg_server(), "scimd_bench_patch", "patch")?;
    db.drop_database().await?;
    let state = scimd::build_state(&db.settings(4)).await?;
    let tenant = state.directory.tenant("default").await?;
    let values = thousand_values();
    let add = json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "emails", "value": values}]});
    println!(
        "# {}: bodies of {} operations ({} KiB) and {} values ({} KiB)",
        backend.label(),
        1000,
        thousand_operations(0).to_string().len() / 1024,
        1000,
        add.to_string().len() / 1024
    );
    let emails = |want: usize| {
        move |u: &Value| -> BoxResult<()> {
            let got = u
                .get("emails")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            match got == want {
                true => Ok(()),
                false => Err(format!("{got} e-mails, not {want}").into()),
            }
        }
    };
    let (with_250, with_1000, with_none) = (emails(250), emails(1000), emails(0));
    let add_values = |_| add.clone();
    let remove_values = |_| json!({"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": "emails", "value": values}]});
    let cases = [
        Case {
            label: "1 000 operations",
            user: json!({}),
            body: &thousand_operations,
            check: &with_250,
        },
        Case {
            label: "add 1 000 values (1 MiB)",
            user: json!({}),
            body: &add_values,
            check: &with_1000,
        },
        Case {
            label: "remove 1 000 values by value list (1 MiB)",
            user: json!({"emails": values}),
            body: &remove_values,
            check: &with_none,
        },
    ];
    let mut rows = Vec::new();
    for case in cases {
        let label = case.label.to_owned();
        let (stats, cpu) = measure(&state, &tenant, case, repetitions).await?;
        rows.push((label, stats, cpu));
    }
    db.drop_database().await?;
    Ok(rows)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> BoxResult<()> {
    let repetitions = std::env::var("SCIMD_BENCH_PATCHES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    println!(
        "| backend | PATCH | mean ms | p95 ms | max ms | CPU ms per PATCH | target CPU < {} ms |",
        TARGET.as_millis()
    );
    println!("|---|---|---:|---:|---:|---:|---|");
    for backend in Backend::from_env()? {
        for (label, stats, cpu) in run(backend, repetitions).await? {
            println!(
                "| {} | {label} | {:.1} | {:.1} | {:.1} | {} | {} |",
                backend.label(),
                stats.mean / 1000.0,
                stats.p95 / 1000.0,
                stats.max / 1000.0,
                cpu.as_millis(),
                if cpu < TARGET { "met" } else { "MISSED" }
            );
        }
    }
    Ok(())
}
