//! One soak run: the cluster, the replicas, the tenants through the management API, the mix's
//! tasks, the restarts on their schedule (scaled to the run's length), the memory samples, the
//! ledger's check and the report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tokio::task::JoinSet;

use crate::client::{CLASSES, Class, Client, Outcome, Shared};
use crate::cluster::Cluster;
use crate::common::{Backend, BoxResult, Db};
use crate::ledger::{Ledger, Verdict, verify};
use crate::procs::{Server, memory};
use crate::report::{self, Memory};
use crate::workload::{self, Plan, Tenant};

pub struct Settings {
    pub seconds: usize,
    pub replicas: usize,
    pub tenants: usize,
    pub large: usize,
    pub large_workers: usize,
    pub large_users: usize,
    pub pace_ms: usize,
    /// How long PostgreSQL stays down at each restart (by default a fortieth of the run, 3 to
    /// 10 s).
    pub down_seconds: Option<usize>,
}

/// What happens during the run, at a fraction of its length.
#[derive(Debug, Clone, Copy)]
enum Event {
    RestartReplica,
    RestartPostgres(&'static str),
    MemoryMiddle,
}

const SCHEDULE: [(f64, Event); 4] = [
    (0.2, Event::RestartReplica),
    (1.0 / 3.0, Event::RestartPostgres("fast")),
    (0.5, Event::MemoryMiddle),
    (2.0 / 3.0, Event::RestartPostgres("immediate")),
];

/// Runs the soak; true when every target is met.
pub async fn soak(s: &Settings) -> BoxResult<bool> {
    println!(
        "soak: {} s, {} replicas, {} tenants ({} large, {} workers each, up to {} users), \
         incremental pace {} ms; {} CPUs, {}",
        s.seconds,
        s.replicas,
        s.tenants,
        s.large,
        s.large_workers,
        s.large_users,
        s.pace_ms,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
    );
    let cluster = Arc::new(Cluster::init()?);
    cluster.start()?;
    let mut admin = PgConnection::connect(&cluster.url("postgres")).await?;
    sqlx::query("create database scimd_soak")
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    let db = Db {
        backend: Backend::Postgres,
        server: cluster.url("postgres"),
        name: "scimd_soak".to_owned(),
        path: PathBuf::new(),
        url: cluster.url("scimd_soak"),
    };
    let mut servers = Vec::new();
    for _ in 0..s.replicas {
        // one after the other: the first migrates the database
        servers.push(Some(Server::scimd(&db, &[("NO_COLOR", "1")], true).await?));
    }
    let shared = Shared::new(servers.iter().flatten().map(|s| s.addr).collect());
    let key = operator_key(&db).await?;
    let tenants = create_tenants(&shared, &key, s.tenants).await?;
    let _ = shared.take(Class::AppReads);
    let mut mem: Vec<Memory> = servers
        .iter()
        .flatten()
        .map(|s| {
            Ok(Memory {
                pids: vec![s.pid],
                start_kb: memory(s.pid)?.0,
                middle_kb: None,
                end_kb: None,
            })
        })
        .collect::<BoxResult<_>>()?;
    println!(
        "{} replicas on {:?}, {} tenants ready",
        s.replicas, shared.replicas, s.tenants
    );

    let seconds = Duration::from_secs(s.seconds as u64);
    let started = Instant::now();
    let plan = Plan {
        deadline: started + seconds,
        large_users: s.large_users.div_ceil(s.large_workers),
        small_users: 20,
        small_groups: 2,
        pace: Duration::from_millis(s.pace_ms as u64),
    };
    let mut tasks: JoinSet<(String, Ledger)> = JoinSet::new();
    for (t, tenant) in tenants.iter().enumerate() {
        let name = tenant.name.clone();
        if t < s.large {
            for w in 0..s.large_workers {
                let (sh, tn, n) = (shared.clone(), tenant.clone(), name.clone());
                let workers = s.large_workers;
                tasks.spawn(async move { (n, workload::large(sh, tn, w, workers, plan).await) });
            }
        } else {
            let (sh, tn) = (shared.clone(), tenant.clone());
            tasks.spawn(async move { (name, workload::incremental(sh, tn, t as u64, plan).await) });
        }
    }
    let others = tenants[s.large..].to_vec();
    let probes = tokio::spawn(workload::probes(
        shared.clone(),
        others,
        Duration::from_millis(500),
        plan.deadline,
    ));
    let names: Vec<String> = tenants.iter().map(|t| t.name.clone()).collect();
    let reads = tokio::spawn(workload::app_reads(
        shared.clone(),
        key.clone(),
        names,
        Duration::from_millis(250),
        plan.deadline,
    ));

    let down = Duration::from_secs(s.down_seconds.unwrap_or((s.seconds / 40).clamp(3, 10)) as u64);
    for (at, event) in SCHEDULE {
        tokio::time::sleep_until((started + seconds.mul_f64(at)).into()).await;
        let t = started.elapsed().as_secs_f64();
        match event {
            Event::RestartReplica => {
                let slot = s.replicas - 1;
                let server = servers[slot].take().expect("the replica runs");
                let addr = server.addr.to_string();
                let exit = server.terminate(Duration::from_secs(60)).await?;
                println!("{t:>7.1} s: replica {slot} stopped by SIGTERM ({exit}); down 2 s");
                tokio::time::sleep(Duration::from_secs(2)).await;
                let again =
                    Server::scimd(&db, &[("SCIMD_LISTEN", &addr), ("NO_COLOR", "1")], true).await?;
                mem[slot].pids.push(again.pid);
                servers[slot] = Some(again);
                println!(
                    "{:>7.1} s: replica {slot} started again on {addr}",
                    started.elapsed().as_secs_f64()
                );
            }
            Event::RestartPostgres(mode) => {
                let c = cluster.clone();
                tokio::task::spawn_blocking(move || c.stop(mode)).await??;
                println!("{t:>7.1} s: PostgreSQL stopped (-m {mode}); down {down:?}");
                tokio::time::sleep(down).await;
                let c = cluster.clone();
                tokio::task::spawn_blocking(move || c.start()).await??;
                println!(
                    "{:>7.1} s: PostgreSQL started again",
                    started.elapsed().as_secs_f64()
                );
            }
            Event::MemoryMiddle => {
                for (r, (m, server)) in mem.iter_mut().zip(&mut servers).enumerate() {
                    m.middle_kb = rss(&shared, r, server.as_mut().expect("running"));
                }
                println!("{t:>7.1} s: memory sampled (middle)");
            }
        }
    }

    let mut ledgers: BTreeMap<String, Vec<Ledger>> = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        let (name, ledger) = done?;
        ledgers.entry(name).or_default().push(ledger);
    }
    probes.await?;
    reads.await?;
    let ran = started.elapsed().as_secs_f64();
    for (r, (m, server)) in mem.iter_mut().zip(&mut servers).enumerate() {
        m.end_kb = rss(&shared, r, server.as_mut().expect("running"));
    }
    let counts: Vec<_> = CLASSES.iter().map(|c| shared.take(*c)).collect();
    println!("{ran:>7.1} s: the mix stopped; checking the ledger");

    let mut verdict = Verdict::default();
    for tenant in &tenants {
        let mut client = Client::new(&shared, &tenant.token, Class::Large);
        let of_tenant = ledgers.remove(&tenant.name).unwrap_or_default();
        verify(&tenant.name, &mut client, &of_tenant, &mut verdict).await?;
    }
    report::classes(&counts, ran);
    report::ledger(&verdict);
    report::memory(&mem);
    for (r, server) in servers.iter().flatten().enumerate() {
        if let Some(lines) = &server.stderr {
            let lines = lines.lock().unwrap();
            println!(
                "replica {r} logged {} lines (SCIMD_LOG=warn); the last:",
                lines.len()
            );
            for l in lines.iter().rev().take(3).rev() {
                println!("    {l}");
            }
        }
    }
    let met = report::verdicts(&shared, &verdict, &mem);
    for mut server in servers.into_iter().flatten() {
        if server.exited().is_none() {
            server.terminate(Duration::from_secs(60)).await?;
        }
    }
    Ok(met)
}

/// Replica `r`'s VmRSS in kB; `None`, and a failure with the end of its log, if it exited.
fn rss(shared: &Shared, r: usize, server: &mut Server) -> Option<u64> {
    if let Some(status) = server.exited() {
        let log = server.stderr.as_ref().map_or(Vec::new(), |l| {
            let lines = l.lock().unwrap();
            lines.iter().rev().take(20).rev().cloned().collect()
        });
        shared.fail(format!(
            "replica {r} (pid {}) exited ({status}); the end of its log:\n    {}",
            server.pid,
            log.join("\n    ")
        ));
        return None;
    }
    memory(server.pid).ok().map(|(rss, _)| rss)
}

/// An operator key made by `scimd operator-key add` on the database.
async fn operator_key(db: &Db) -> BoxResult<String> {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimd"));
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("SCIMD_")) {
        command.env_remove(name);
    }
    let out = command
        .args(["operator-key", "add", "--name", "soak", "--json"])
        .env("SCIMD_DATABASE_URL", &db.url)
        .current_dir(std::env::temp_dir())
        .output()
        .await?;
    if !out.status.success() {
        return Err(format!("scimd operator-key add failed: {out:?}").into());
    }
    let made: Value = serde_json::from_slice(&out.stdout)?;
    Ok(made["key"]
        .as_str()
        .ok_or("no key in the answer")?
        .to_owned())
}

/// `n` tenants, each with a token, made through the management API; the large ones first.
async fn create_tenants(shared: &Arc<Shared>, key: &str, n: usize) -> BoxResult<Vec<Tenant>> {
    let mut client = Client::new(shared, key, Class::AppReads);
    let mut tenants = Vec::with_capacity(n);
    for t in 0..n {
        let name = format!("soak-{t:03}");
        let body = json!({"name": name}).to_string();
        expect(
            client.call("POST", "/api/v1/tenants", Some(&body)).await,
            201,
            &name,
        )?;
        let target = format!("/api/v1/tenants/{name}/tokens");
        let body = json!({"label": "soak"}).to_string();
        let made = expect(
            client.call("POST", &target, Some(&body)).await,
            201,
            &target,
        )?;
        let token = made["token"].as_str().ok_or("no token")?.to_owned();
        tenants.push(Tenant { name, token });
    }
    Ok(tenants)
}

fn expect(outcome: Outcome, status: u16, what: &str) -> BoxResult<Value> {
    match outcome {
        Outcome::Answered { reply, .. } => {
            reply.expect(status, what)?;
            reply.json()
        }
        Outcome::GaveUp(why) => Err(format!("{what}: {why}").into()),
    }
}
