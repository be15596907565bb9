//! Group benchmark (issues 5 and 7): the cost of membership changes and of reading a group must
//! not depend on the group's size; on PostgreSQL and on SQLite.
//!
//! - Adding 100 000 members to one group through the service's PATCH path, in batches of
//!   1 000 (`{"op":"Add","path":"members","value":[…1 000 members…]}`): total time, per-batch
//!   latency, members per second, and whether the last batches cost more than the first.
//! - Member add + remove (`Add` then Entra's default `Remove` with a value list) on a group of
//!   100 000 members vs an empty group, timed as a pair.
//! - `GET /Groups/{id}?excludedAttributes=members` (what Entra sends) through the whole HTTP
//!   stack in process, on the same two groups.
//!
//! Targets: on each backend, for both operations, mean on the big group / mean on the empty
//! group < 1.5; and SQLite within 2× of PostgreSQL (SQLite mean / PostgreSQL mean ≤ 2.0) for
//! both operations on both groups. For information, `GET /Groups/{id}` with its members on the
//! big group (size and time).
//!
//! Run with `cargo bench --bench groups`. Environment:
//! - `SCIMD_BENCH_BACKENDS`: comma-separated backends (default `postgres,sqlite`).
//! - `SCIMD_BENCH_DATABASE_URL`: a PostgreSQL server (default
//!   `postgres://postgres@127.0.0.1:5432/postgres`); the benchmark drops and recreates
//!   database `scimd_bench_groups` on every run.
//! - SQLite: the benchmark deletes and recreates `target/bench-sqlite/groups.db` on every run.
//! - `SCIMD_BENCH_MEMBERS`: members of the big group (default 100000); smaller for a quick run.
//!
//! Users are seeded with one SQL statement (the same documents on both backends, checked);
//! members are added only through the service. Every answer is checked: a PATCH that does not
//! bump the version, a GET that is not 200 or shows members it was asked to leave out, stops
//! the benchmark.
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

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};
use tower::ServiceExt;

use common::{Backend, BoxResult, Db, Stats, TOKEN, backend_verdict, capture_sql};
use scimd::AppState;
use scimd::domain::Tenant;
use scimd::scim::resource::Version;
use scimd::scim::schema::ResourceKind;
use scimd::service::Context;

const DATABASE: &str = "scimd_bench_groups";
const SQLITE_FILE: &str = "groups";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Members per PATCH while filling the big group.
const BATCH: usize = 1_000;
/// Batches averaged at each end of the fill, to see whether batches slow down as it grows.
const ENDS: usize = 10;
const PAIR_WARMUP: usize = 100;
const PAIRS: usize = 1_000;
const GET_WARMUP: usize = 200;
const GETS: usize = 2_000;
const FULL_GETS: usize = 10;
const TARGET_RATIO: f64 = 1.5;
const EXCLUDE_MEMBERS: &str = "?excludedAttributes=members";

/// One group under measurement.
struct Group {
    label: &'static str,
    id: String,
    members: usize,
    /// Its version after the last PATCH, to check that every change is stored.
    version: Version,
}

struct Fill {
    members: usize,
    seconds: f64,
    batch: Stats,
    first: Stats,
    last: Stats,
}

/// Latencies of one group: add+remove pair, add alone, remove alone, GET without members.
struct GroupResult {
    label: &'static str,
    members: usize,
    pair: Stats,
    add: Stats,
    remove: Stats,
    get: Stats,
}

/// One of a group's latencies, for the report.
type Pick = fn(&GroupResult) -> Stats;

/// The operations of the report: label, latency, whether it has a target.
const OPS: [(&str, Pick, bool); 4] = [
    ("member add+remove (PATCH pair)", |r| r.pair, true),
    ("  of which add", |r| r.add, false),
    ("  of which remove", |r| r.remove, false),
    (
        "`GET /Groups/{id}?excludedAttributes=members`",
        |r| r.get,
        true,
    ),
];

struct FullGet {
    members: usize,
    stats: Stats,
    bytes: usize,
}

/// Everything measured on one backend.
struct Run {
    backend: Backend,
    fill: Fill,
    results: Vec<GroupResult>,
    full: FullGet,
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    let server = common::pg_server();
    let backends = Backend::from_env()?;
    let members: usize = std::env::var("SCIMD_BENCH_MEMBERS")
        .ok()
        .map(|s| s.trim().replace('_', "").parse())
        .transpose()?
        .unwrap_or(100_000);
    if members == 0 {
        return Err("SCIMD_BENCH_MEMBERS must be above 0".into());
    }
    common::install_sql_capture()?;
    println!(
        "scimd group benchmark: backends {}, {members} members in batches of {BATCH}, {PAIRS} \
         add+remove pairs and {GETS} GETs per group (after {PAIR_WARMUP} / {GET_WARMUP} \
         warm-up), {} CPUs",
        backends
            .iter()
            .map(|b| b.label())
            .collect::<Vec<_>>()
            .join(", "),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    let mut runs = Vec::new();
    for backend in backends {
        let db = Db::new(backend, &server, DATABASE, SQLITE_FILE)?;
        runs.push(run(&db, members).await?);
    }
    report(&runs);
    Ok(())
}

/// The whole benchmark on one backend, on a new database.
async fn run(db: &Db, members: usize) -> BoxResult<Run> {
    let backend = db.backend;
    println!("\n# {backend}: {}", db.describe());
    db.drop_database().await?;
    let state = scimd::build_state(&db.settings(4)).await?;
    // one more user than members: the one added to and removed from both groups
    let users_count = u64::try_from(members)? + 1;
    db.seed(users_count).await?;
    db.check_seeded(&[1, users_count]).await?;
    let tenant = state.directory.tenant("default").await?;

    let mut big = create_group(&state, &tenant, "Big").await?;
    let mut empty = create_group(&state, &tenant, "Empty").await?;
    let users = user_ids(db).await?;
    assert_eq!(users.len(), members + 1, "seeded users");
    let (to_fill, extra) = users.split_at(members);
    let extra = extra[0].clone();

    println!("\n## {backend}, phase 1: {members} members added to Big in batches of {BATCH}");
    let fill = fill(&state, &tenant, &mut big, to_fill).await?;
    let stored = member_count(db, &big.id).await?;
    assert_eq!(stored, members, "Big holds {stored} members, not {members}");
    println!(
        "added {members} members in {:.1} s: {:.0} members/s; batch mean {:.1} ms, \
         p50 {:.1}, p95 {:.1}; first {ENDS} batches mean {:.1} ms, last {ENDS} {:.1} ms",
        fill.seconds,
        members as f64 / fill.seconds,
        fill.batch.mean / 1e3,
        fill.batch.p50 / 1e3,
        fill.batch.p95 / 1e3,
        fill.first.mean / 1e3,
        fill.last.mean / 1e3,
    );
    settle(db).await?;

    println!("\n## {backend}, phase 2: Big ({members} members) vs Empty (0 members)");
    let mut groups = [&mut big, &mut empty];
    let pairs = measure_pairs(&state, &tenant, &mut groups, &extra).await?;
    let app = scimd::app(state.clone());
    let gets = measure_gets(&app, &groups).await?;
    let results: Vec<GroupResult> = groups
        .iter()
        .zip(pairs)
        .zip(gets)
        .map(|((g, (pair, add, remove)), get)| GroupResult {
            label: g.label,
            members: g.members,
            pair,
            add,
            remove,
            get,
        })
        .collect();
    for r in &results {
        println!(
            "{:<5} add+remove mean {:>8.1} µs (add {:.1}, remove {:.1}); \
             GET ?excludedAttributes=members mean {:>7.1} µs",
            r.label, r.pair.mean, r.add.mean, r.remove.mean, r.get.mean
        );
    }
    let full = measure_full_get(&app, groups[0]).await?;
    println!(
        "GET Big with members: mean {:.1} ms, {} bytes",
        full.stats.mean / 1e3,
        full.bytes
    );

    match backend {
        Backend::Postgres => explain(&db.url, &big.id, &users[0], &extra).await?,
        Backend::Sqlite => explain_sqlite(db, &state, &tenant, &app, &mut big, &extra).await?,
    }
    Ok(Run {
        backend,
        fill,
        results,
        full,
    })
}

/// What follows a bulk change before measuring: on PostgreSQL what autovacuum would do, on
/// SQLite what the automatic WAL checkpoint would do (copy the WAL back into the file).
async fn settle(db: &Db) -> BoxResult<()> {
    let started = Instant::now();
    let what = match db.backend {
        Backend::Postgres => {
            let mut conn = db.pg().await?;
            sqlx::query("vacuum (analyze) memberships, resources")
                .execute(&mut conn)
                .await?;
            conn.close().await?;
            "vacuum (analyze) memberships, resources"
        }
        Backend::Sqlite => {
            db.checkpoint().await?;
            "pragma wal_checkpoint(truncate)"
        }
    };
    println!("{what}: {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

async fn create_group(state: &AppState, tenant: &Tenant, name: &'static str) -> BoxResult<Group> {
    let created = state
        .directory
        .create(
            &Context::of(tenant),
            ResourceKind::Group,
            &json!({"displayName": name}),
        )
        .await?;
    Ok(Group {
        label: name,
        id: created.resource.id.to_string(),
        members: 0,
        version: created.version(),
    })
}

/// The users' ids in the order they were inserted.
async fn user_ids(db: &Db) -> BoxResult<Vec<String>> {
    const SQL: &str = "select id from resources where resource_type = 'User' order by seq";
    Ok(match db.backend {
        Backend::Postgres => {
            let mut conn = db.pg().await?;
            let ids: Vec<uuid::Uuid> = sqlx::query_scalar(SQL).fetch_all(&mut conn).await?;
            conn.close().await?;
            ids.iter().map(uuid::Uuid::to_string).collect()
        }
        Backend::Sqlite => {
            let mut conn = db.sqlite().await?;
            let ids: Vec<String> = sqlx::query_scalar(SQL).fetch_all(&mut conn).await?;
            conn.close().await?;
            ids
        }
    })
}

async fn member_count(db: &Db, group: &str) -> BoxResult<usize> {
    let count: i64 = match db.backend {
        Backend::Postgres => {
            let mut conn = db.pg().await?;
            let count = sqlx::query_scalar("select count(*) from memberships where group_id = $1")
                .bind(group.parse::<uuid::Uuid>()?)
                .fetch_one(&mut conn)
                .await?;
            conn.close().await?;
            count
        }
        Backend::Sqlite => {
            let mut conn = db.sqlite().await?;
            let count = sqlx::query_scalar("select count(*) from memberships where group_id = ?1")
                .bind(group)
                .fetch_one(&mut conn)
                .await?;
            conn.close().await?;
            count
        }
    };
    Ok(usize::try_from(count)?)
}

fn members_body(op: &str, ids: &[String]) -> Value {
    let value: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
    json!({
        "schemas": [PATCH_OP],
        "Operations": [{"op": op, "path": "members", "value": value}],
    })
}

/// One PATCH of the group's members through the service; checks that it changed the group
/// (its version is one more than before).
async fn patch_members(
    state: &AppState,
    tenant: &Tenant,
    group: &mut Group,
    body: &Value,
) -> BoxResult<Duration> {
    let started = Instant::now();
    let patched = state
        .directory
        .patch(&Context::of(tenant), ResourceKind::Group, &group.id, body)
        .await?;
    let elapsed = started.elapsed();
    assert_eq!(
        patched.version().0,
        group.version.0 + 1,
        "PATCH of {} did not change it once: {body}",
        group.label
    );
    group.version = patched.version();
    Ok(elapsed)
}

async fn fill(
    state: &AppState,
    tenant: &Tenant,
    group: &mut Group,
    users: &[String],
) -> BoxResult<Fill> {
    let batches = users.len().div_ceil(BATCH);
    let mut samples = Vec::with_capacity(batches);
    let started = Instant::now();
    for (i, chunk) in users.chunks(BATCH).enumerate() {
        // the body is built outside the timed call, as a client would send it
        let body = members_body("Add", chunk);
        samples.push(patch_members(state, tenant, group, &body).await?);
        group.members += chunk.len();
        if (i + 1) % 10 == 0 || i + 1 == batches {
            println!(
                "  batch {:>4}: {:>7} members, this batch {:>7.1} ms",
                i + 1,
                group.members,
                samples[i].as_secs_f64() * 1e3
            );
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let ends = ENDS.min(samples.len());
    Ok(Fill {
        members: group.members,
        seconds,
        batch: Stats::of(&samples),
        first: Stats::of(&samples[..ends]),
        last: Stats::of(&samples[samples.len() - ends..]),
    })
}

/// Add then remove `member` on each group, the groups taking turns (which one goes first
/// alternates), so that both see the same database state. Per group: the pair, add, remove.
async fn measure_pairs(
    state: &AppState,
    tenant: &Tenant,
    groups: &mut [&mut Group; 2],
    member: &str,
) -> BoxResult<Vec<(Stats, Stats, Stats)>> {
    let add = members_body("Add", &[member.to_owned()]);
    let remove = members_body("Remove", &[member.to_owned()]);
    let mut samples = vec![(Vec::new(), Vec::new()); groups.len()];
    for i in 0..PAIR_WARMUP + PAIRS {
        for turn in 0..groups.len() {
            let g = (turn + i) % groups.len();
            let group = &mut *groups[g];
            let added = patch_members(state, tenant, group, &add).await?;
            let removed = patch_members(state, tenant, group, &remove).await?;
            if i >= PAIR_WARMUP {
                samples[g].0.push(added);
                samples[g].1.push(removed);
            }
        }
    }
    Ok(samples
        .iter()
        .map(|(add, remove)| {
            let pairs: Vec<Duration> = add.iter().zip(remove).map(|(a, r)| *a + *r).collect();
            (Stats::of(&pairs), Stats::of(add), Stats::of(remove))
        })
        .collect())
}

/// One `GET /scim/v2/Groups/{id}{query}` through the application's whole stack (routing,
/// authentication, handler, rendering), the body read to the end; checks for 200.
async fn get_group(app: &Router, id: &str, query: &str) -> BoxResult<(Duration, Value, usize)> {
    let request = Request::builder()
        .method("GET")
        .uri(format!("/scim/v2/Groups/{id}{query}"))
        .header(header::HOST, "127.0.0.1")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::empty())?;
    let started = Instant::now();
    let response = app.clone().oneshot(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, StatusCode::OK, "GET Groups/{id}{query}: {text}");
    let doc: Value = serde_json::from_slice(&body)?;
    assert_eq!(
        doc.get("id").and_then(Value::as_str),
        Some(id),
        "GET Groups/{id}{query} answered another resource: {text}"
    );
    Ok((elapsed, doc, body.len()))
}

/// `GET /Groups/{id}?excludedAttributes=members` on each group, taking turns.
async fn measure_gets(app: &Router, groups: &[&mut Group; 2]) -> BoxResult<Vec<Stats>> {
    let query = EXCLUDE_MEMBERS;
    let mut samples = vec![Vec::with_capacity(GETS); groups.len()];
    for i in 0..GET_WARMUP + GETS {
        for turn in 0..groups.len() {
            let g = (turn + i) % groups.len();
            let (elapsed, doc, _) = get_group(app, &groups[g].id, query).await?;
            assert!(
                doc.get("members").is_none(),
                "GET {}{query} shows members: {doc}",
                groups[g].label
            );
            if i >= GET_WARMUP {
                samples[g].push(elapsed);
            }
        }
    }
    Ok(samples.iter().map(|s| Stats::of(s)).collect())
}

/// `GET /Groups/{id}` with its members: checks that all of them are shown.
async fn measure_full_get(app: &Router, group: &Group) -> BoxResult<FullGet> {
    let mut samples = Vec::with_capacity(FULL_GETS);
    let mut bytes = 0;
    for _ in 0..FULL_GETS {
        let (elapsed, doc, size) = get_group(app, &group.id, "").await?;
        let shown = doc
            .get("members")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        assert_eq!(
            shown, group.members,
            "GET {} shows {shown} members, not {}",
            group.label, group.members
        );
        samples.push(elapsed);
        bytes = size;
    }
    Ok(FullGet {
        members: group.members,
        stats: Stats::of(&samples),
        bytes,
    })
}

/// `EXPLAIN (ANALYZE, BUFFERS)` on Big of the statements a member add, a member remove and a
/// GET run, written out as `store/postgres/members.rs` and `resources.rs` send them, as a
/// custom plan (parameters known) and as the generic plan PostgreSQL may switch a prepared
/// statement to after five executions (sqlx prepares and caches every statement per
/// connection). Each runs in a transaction that is rolled back.
async fn explain(url: &str, group: &str, member: &str, extra: &str) -> BoxResult<()> {
    let mut conn = PgConnection::connect(url).await?;
    let tenant: uuid::Uuid = sqlx::query_scalar("select id from tenants where name = 'default'")
        .fetch_one(&mut conn)
        .await?;
    let statements = [
        (
            "add: check that the members exist",
            "uuid, uuid[]",
            "select u.id from unnest($2::uuid[]) as u(id) \
             where not exists (select 1 from resources r where r.tenant_id = $1 and r.id = u.id) \
             limit 1",
            format!("'{tenant}', '{{{extra}}}'"),
        ),
        (
            "add: insert the members",
            "uuid, uuid, uuid[], text[]",
            "insert into memberships (tenant_id, group_id, member_id, display) \
             select $1, $2, u.id, u.display from unnest($3::uuid[], $4::text[]) as u(id, display) \
             on conflict do nothing",
            format!("'{tenant}', '{group}', '{{{extra}}}', '{{NULL}}'"),
        ),
        (
            "add/remove: bump the group's version",
            "uuid, uuid, bigint, timestamptz",
            "update resources set version = version + 1, last_modified = $4 \
             where tenant_id = $1 and id = $2 and resource_type = 'Group' \
             and ($3::bigint is null or version = $3) \
             returning id, version, created, last_modified, doc",
            format!("'{tenant}', '{group}', NULL, now()"),
        ),
        (
            "remove: delete the members (a member of Big)",
            "uuid, uuid, uuid[]",
            "delete from memberships \
             where tenant_id = $1 and group_id = $2 and ($3::uuid[] is null or member_id = any($3))",
            format!("'{tenant}', '{group}', '{{{member}}}'"),
        ),
        (
            "GET: the group",
            "uuid, uuid, text",
            "select id, version, created, last_modified, doc from resources \
             where tenant_id = $1 and id = $2 and resource_type = $3",
            format!("'{tenant}', '{group}', 'Group'"),
        ),
    ];
    println!("\n### EXPLAIN (ANALYZE, BUFFERS) on Big, rolled back");
    for (what, types, sql, args) in statements {
        println!("\n{what}:\n  {sql}");
        for mode in ["force_custom_plan", "force_generic_plan"] {
            sqlx::raw_sql(&format!(
                "begin; set local plan_cache_mode = {mode}; prepare bench_stmt({types}) as {sql}"
            ))
            .execute(&mut conn)
            .await?;
            let rows = sqlx::raw_sql(&format!(
                "explain (analyze, buffers) execute bench_stmt({args})"
            ))
            .fetch_all(&mut conn)
            .await?;
            sqlx::raw_sql("rollback; deallocate bench_stmt")
                .execute(&mut conn)
                .await?;
            println!("  [{}]", mode.trim_start_matches("force_"));
            for row in rows {
                let line: String = row.try_get(0)?;
                println!("    {line}");
            }
        }
    }
    conn.close().await?;
    Ok(())
}

/// On SQLite, the statements a member add and a member remove on Big and a
/// `GET ?excludedAttributes=members` sent (captured from sqlx's query log, so exactly what
/// `store/sqlite` runs), each with its `EXPLAIN QUERY PLAN`.
async fn explain_sqlite(
    db: &Db,
    state: &AppState,
    tenant: &Tenant,
    app: &Router,
    big: &mut Group,
    extra: &str,
) -> BoxResult<()> {
    println!("\n### SQLite: the statements scimd sent on Big, with EXPLAIN QUERY PLAN");
    for op in ["Add", "Remove"] {
        let body = members_body(op, &[extra.to_owned()]);
        let (took, sent) = capture_sql(patch_members(state, tenant, big, &body)).await?;
        println!(
            "\nmember {} ({:.1} µs; transaction begin/commit not shown):",
            op.to_lowercase(),
            took.as_secs_f64() * 1e6
        );
        db.print_sqlite_plans(&sent).await?;
    }
    let ((took, _, _), sent) = capture_sql(get_group(app, &big.id, EXCLUDE_MEMBERS)).await?;
    println!(
        "\nGET /Groups/{{id}}{EXCLUDE_MEMBERS} ({:.1} µs):",
        took.as_secs_f64() * 1e6
    );
    db.print_sqlite_plans(&sent).await
}

fn verdict(ratio: f64) -> &'static str {
    if ratio < TARGET_RATIO {
        "met"
    } else {
        "MISSED"
    }
}

fn report(runs: &[Run]) {
    println!("\n## Results\n");
    println!(
        "| backend | members added | batches of {BATCH} | total s | members/s | batch mean ms | \
         p50 ms | p95 ms | max ms | first {ENDS} mean ms | last {ENDS} mean ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for run in runs {
        let fill = &run.fill;
        println!(
            "| {} | {} | {} | {:.2} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            run.backend,
            fill.members,
            fill.batch.n,
            fill.seconds,
            fill.members as f64 / fill.seconds,
            fill.batch.mean / 1e3,
            fill.batch.p50 / 1e3,
            fill.batch.p95 / 1e3,
            fill.batch.max / 1e3,
            fill.first.mean / 1e3,
            fill.last.mean / 1e3,
        );
    }

    println!(
        "\n| backend | operation | group | members | n | mean µs | p50 µs | p95 µs | p99 µs |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|");
    for run in runs {
        for (label, stats, _) in OPS {
            for r in &run.results {
                let s = stats(r);
                println!(
                    "| {} | {label} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
                    run.backend, r.label, r.members, s.n, s.mean, s.p50, s.p95, s.p99
                );
            }
        }
    }

    println!("\n| backend | operation | Big / Empty mean | p50 ratio | target < {TARGET_RATIO} |");
    println!("|---|---|---:|---:|---|");
    for run in runs {
        if let [big, empty] = run.results.as_slice() {
            for (label, stats, target) in OPS {
                let (b, e) = (stats(big), stats(empty));
                let ratio = b.mean / e.mean;
                println!(
                    "| {} | {} | {ratio:.2} | {:.2} | {} |",
                    run.backend,
                    label.trim(),
                    b.p50 / e.p50,
                    if target {
                        verdict(ratio)
                    } else {
                        "(information)"
                    }
                );
            }
        }
    }

    let pg = runs.iter().find(|r| r.backend == Backend::Postgres);
    let lite = runs.iter().find(|r| r.backend == Backend::Sqlite);
    if let (Some(pg), Some(lite)) = (pg, lite) {
        println!(
            "\n| operation | group | PostgreSQL mean µs | SQLite mean µs | SQLite / PostgreSQL | \
             target ≤ {:.1} |",
            common::BACKEND_TARGET
        );
        println!("|---|---|---:|---:|---:|---|");
        let row = |label: &str, group: &str, p: f64, s: f64, target: bool| {
            let ratio = s / p;
            println!(
                "| {label} | {group} | {p:.1} | {s:.1} | {ratio:.2} | {} |",
                if target {
                    backend_verdict(ratio)
                } else {
                    "(information)"
                }
            );
        };
        for (label, stats, target) in OPS {
            for (p, s) in pg.results.iter().zip(&lite.results) {
                row(label.trim(), p.label, stats(p).mean, stats(s).mean, target);
            }
        }
        row(
            &format!("fill: PATCH adding {BATCH} members"),
            "Big",
            pg.fill.batch.mean,
            lite.fill.batch.mean,
            false,
        );
        row(
            "`GET /Groups/{id}` with members",
            "Big",
            pg.full.stats.mean,
            lite.full.stats.mean,
            false,
        );
    }

    println!(
        "\n| backend | `GET /Groups/{{id}}` with members (information) | n | mean ms | p50 ms | \
         max ms | bytes |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    for run in runs {
        let full = &run.full;
        println!(
            "| {} | Big, {} members | {} | {:.1} | {:.1} | {:.1} | {} |",
            run.backend,
            full.members,
            full.stats.n,
            full.stats.mean / 1e3,
            full.stats.p50 / 1e3,
            full.stats.max / 1e3,
            full.bytes
        );
    }
}
