//! Group benchmark (issue 5): the cost of membership changes and of reading a group must not
//! depend on the group's size.
//!
//! - Adding 100 000 members to one group through the service's PATCH path, in batches of
//!   1 000 (`{"op":"Add","path":"members","value":[…1 000 members…]}`): total time, per-batch
//!   latency, members per second, and whether the last batches cost more than the first.
//! - Member add + remove (`Add` then Entra's default `Remove` with a value list) on a group of
//!   100 000 members vs an empty group, timed as a pair.
//! - `GET /Groups/{id}?excludedAttributes=members` (what Entra sends) through the whole HTTP
//!   stack in process, on the same two groups.
//!
//! Target: for both operations, mean on the big group / mean on the empty group < 1.5. For
//! information, `GET /Groups/{id}` with its members on the big group (size and time).
//!
//! Run with `cargo bench --bench groups`. Environment:
//! - `SCIMD_BENCH_DATABASE_URL`: a PostgreSQL server (default
//!   `postgres://postgres@127.0.0.1:5432/postgres`); the benchmark drops and recreates
//!   database `scimd_bench_groups` on every run.
//! - `SCIMD_BENCH_MEMBERS`: members of the big group (default 100000); smaller for a quick run.
//!
//! Users are seeded with one SQL statement; members are added only through the service. Every
//! answer is checked: a PATCH that does not bump the version, a GET that is not 200 or shows
//! members it was asked to leave out, stops the benchmark.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark fails loudly"
)]

use std::error::Error;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use clap::Parser;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};
use tower::ServiceExt;

use scimd::AppState;
use scimd::config::Cli;
use scimd::scim::resource::Version;
use scimd::scim::schema::ResourceKind;
use scimd::store::Tenant;

type BoxResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const DATABASE: &str = "scimd_bench_groups";
const TOKEN: &str = "bench-token-0123456789abcdef";
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

/// Latency statistics in microseconds.
#[derive(Debug, Clone, Copy)]
struct Stats {
    n: usize,
    mean: f64,
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

impl Stats {
    fn of(samples: &[Duration]) -> Self {
        assert!(!samples.is_empty(), "no samples");
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let total: Duration = sorted.iter().sum();
        let pick = |q: f64| {
            let rank = (q * sorted.len() as f64).ceil() as usize;
            us(sorted[rank.clamp(1, sorted.len()) - 1])
        };
        Self {
            n: sorted.len(),
            mean: us(total) / sorted.len() as f64,
            p50: pick(0.50),
            p95: pick(0.95),
            p99: pick(0.99),
            max: pick(1.0),
        }
    }
}

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

struct FullGet {
    members: usize,
    stats: Stats,
    bytes: usize,
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    let server =
        std::env::var("SCIMD_BENCH_DATABASE_URL").unwrap_or_else(|_| DEFAULT_SERVER.to_owned());
    let members: usize = std::env::var("SCIMD_BENCH_MEMBERS")
        .ok()
        .map(|s| s.trim().replace('_', "").parse())
        .transpose()?
        .unwrap_or(100_000);
    if members == 0 {
        return Err("SCIMD_BENCH_MEMBERS must be above 0".into());
    }
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    let url = format!("{base}/{DATABASE}");
    println!(
        "scimd group benchmark: {members} members in batches of {BATCH}, {PAIRS} add+remove \
         pairs and {GETS} GETs per group (after {PAIR_WARMUP} / {GET_WARMUP} warm-up), {} CPUs",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );

    let mut admin = PgConnection::connect(&server).await?;
    sqlx::query(&format!("drop database if exists {DATABASE} with (force)"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    let cli = Cli::parse_from([
        "scimd",
        "--database-url",
        &url,
        "--bootstrap-token",
        TOKEN,
        "--database-max-connections",
        "4",
    ]);
    let state = scimd::build_state(&cli.config).await?;
    // one more user than members: the one added to and removed from both groups
    seed(&url, members + 1).await?;
    let tenant = state.directory.tenant("default").await?;

    let mut big = create_group(&state, &tenant, "Big").await?;
    let mut empty = create_group(&state, &tenant, "Empty").await?;
    let users = user_ids(&url).await?;
    assert_eq!(users.len(), members + 1, "seeded users");
    let (to_fill, extra) = users.split_at(members);
    let extra = extra[0].clone();

    println!("\n## Phase 1: {members} members added to Big in batches of {BATCH}");
    let fill = fill(&state, &tenant, &mut big, to_fill).await?;
    let stored = member_count(&url, &big.id).await?;
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
    // what autovacuum does after a bulk change, so that it does not run during the measurement
    let started = Instant::now();
    let mut conn = PgConnection::connect(&url).await?;
    sqlx::query("vacuum (analyze) memberships, resources")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    println!(
        "vacuum (analyze) memberships, resources: {:.1} s",
        started.elapsed().as_secs_f64()
    );

    println!("\n## Phase 2: Big ({members} members) vs Empty (0 members)");
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

    explain(&url, &big.id, &users[0], &extra).await?;
    report(&fill, &results, &full);
    Ok(())
}

/// Inserts users 1..=size for tenant `default` with one statement, the documents built as
/// scimd builds them (`doc` canonical, `search` with caseExact=false strings lower-cased).
async fn seed(url: &str, size: usize) -> BoxResult<()> {
    let started = Instant::now();
    let mut conn = PgConnection::connect(url).await?;
    let tenant: uuid::Uuid = sqlx::query_scalar("select id from tenants where name = 'default'")
        .fetch_one(&mut conn)
        .await?;
    // Building the GIN index once is much faster than maintaining it row by row.
    sqlx::query("set maintenance_work_mem = '1GB'")
        .execute(&mut conn)
        .await?;
    sqlx::query("drop index resources_search")
        .execute(&mut conn)
        .await?;
    let inserted = sqlx::query(
        r#"insert into resources
               (tenant_id, id, resource_type, version, created, last_modified,
                name_key, external_id, active, doc, search)
           select $1, gen_random_uuid(), 'User', 1, now(), now(),
                  'user' || i || '@example.com', 'ext-' || i, true,
                  jsonb_build_object(
                      'userName', 'User' || i || '@Example.com',
                      'externalId', 'ext-' || i,
                      'name', jsonb_build_object('givenName', 'Given' || i,
                                                 'familyName', 'Family' || i),
                      'active', true,
                      'emails', jsonb_build_array(jsonb_build_object(
                          'value', 'User' || i || '@Example.com',
                          'type', 'work',
                          'primary', true))),
                  jsonb_build_object(
                      'userName', 'user' || i || '@example.com',
                      'externalId', 'ext-' || i,
                      'name', jsonb_build_object('givenName', 'given' || i,
                                                 'familyName', 'family' || i),
                      'active', true,
                      'emails', jsonb_build_array(jsonb_build_object(
                          'value', 'user' || i || '@example.com',
                          'type', 'work',
                          'primary', true)))
           from generate_series(1, $2::bigint) as g(i)"#,
    )
    .bind(tenant)
    .bind(i64::try_from(size)?)
    .execute(&mut conn)
    .await?
    .rows_affected();
    assert_eq!(
        inserted,
        u64::try_from(size)?,
        "seeding inserted {inserted} rows, not {size}"
    );
    sqlx::query("create index resources_search on resources using gin (search jsonb_path_ops)")
        .execute(&mut conn)
        .await?;
    sqlx::query("vacuum (analyze) resources")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    println!(
        "seeded {size} users in {:.1} s (one insert, GIN index rebuilt, vacuum analyze)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn create_group(state: &AppState, tenant: &Tenant, name: &'static str) -> BoxResult<Group> {
    let created = state
        .directory
        .create(tenant, ResourceKind::Group, &json!({"displayName": name}))
        .await?;
    Ok(Group {
        label: name,
        id: created.id.0.to_string(),
        members: 0,
        version: created.version,
    })
}

/// The users' ids in the order they were inserted.
async fn user_ids(url: &str) -> BoxResult<Vec<String>> {
    let mut conn = PgConnection::connect(url).await?;
    let ids: Vec<uuid::Uuid> =
        sqlx::query_scalar("select id from resources where resource_type = 'User' order by seq")
            .fetch_all(&mut conn)
            .await?;
    conn.close().await?;
    Ok(ids.iter().map(uuid::Uuid::to_string).collect())
}

async fn member_count(url: &str, group: &str) -> BoxResult<usize> {
    let mut conn = PgConnection::connect(url).await?;
    let count: i64 = sqlx::query_scalar("select count(*) from memberships where group_id = $1")
        .bind(group.parse::<uuid::Uuid>()?)
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
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
        .patch(tenant, ResourceKind::Group, &group.id, body, None)
        .await?;
    let elapsed = started.elapsed();
    assert_eq!(
        patched.version.0,
        group.version.0 + 1,
        "PATCH of {} did not change it once: {body}",
        group.label
    );
    group.version = patched.version;
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
    let query = "?excludedAttributes=members";
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

fn verdict(ratio: f64) -> &'static str {
    if ratio < TARGET_RATIO {
        "met"
    } else {
        "MISSED"
    }
}

fn report(fill: &Fill, results: &[GroupResult], full: &FullGet) {
    println!("\n## Results\n");
    println!(
        "| members added | batches of {BATCH} | total s | members/s | batch mean ms | p50 ms | \
         p95 ms | max ms | first {ENDS} mean ms | last {ENDS} mean ms |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {:.2} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
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

    println!("\n| operation | group | members | n | mean µs | p50 µs | p95 µs | p99 µs |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let ops: [(&str, Pick); 4] = [
        ("member add+remove (PATCH pair)", |r| r.pair),
        ("  of which add", |r| r.add),
        ("  of which remove", |r| r.remove),
        ("`GET /Groups/{id}?excludedAttributes=members`", |r| r.get),
    ];
    for (label, stats) in ops {
        for r in results {
            let s = stats(r);
            println!(
                "| {label} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
                r.label, r.members, s.n, s.mean, s.p50, s.p95, s.p99
            );
        }
    }

    if let [big, empty] = results {
        println!(
            "\n| operation | {} / {} mean | p50 ratio | target < {TARGET_RATIO} |",
            big.label, empty.label
        );
        println!("|---|---:|---:|---|");
        for (label, stats) in ops {
            let (b, e) = (stats(big), stats(empty));
            let ratio = b.mean / e.mean;
            let target = if label.starts_with("  ") {
                "(information)"
            } else {
                verdict(ratio)
            };
            println!(
                "| {} | {ratio:.2} | {:.2} | {target} |",
                label.trim(),
                b.p50 / e.p50
            );
        }
    }

    println!(
        "\n| `GET /Groups/{{id}}` with members (information) | n | mean ms | p50 ms | max ms | bytes |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    println!(
        "| Big, {} members | {} | {:.1} | {:.1} | {:.1} | {} |",
        full.members,
        full.stats.n,
        full.stats.mean / 1e3,
        full.stats.p50 / 1e3,
        full.stats.max / 1e3,
        full.bytes
    );
}
