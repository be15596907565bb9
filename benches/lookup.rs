//! Lookup benchmark (issues 3 and 7): latency of one filtered lookup by `userName`,
//! `externalId` and a value-path filter with 1 000, 100 000 and 1 000 000 users, the
//! throughput of `GET /Users?filter=userName eq …` over HTTP with 16 keep-alive connections,
//! and the latency of user creates through the service at the largest size; on PostgreSQL and
//! on SQLite.
//!
//! Targets: lookup cost flat across directory sizes (largest / smallest mean < 1.5) and at
//! least 15 000 lookups/s over HTTP on a 2-core machine, on each backend; SQLite within 2× of
//! PostgreSQL (SQLite mean / PostgreSQL mean ≤ 2.0) for each lookup at each size and for
//! creates.
//!
//! Run with `cargo bench --bench lookup`. Environment:
//! - `SCIMD_BENCH_BACKENDS`: comma-separated backends (default `postgres,sqlite`).
//! - `SCIMD_BENCH_DATABASE_URL`: a PostgreSQL server (default
//!   `postgres://postgres@127.0.0.1:5432/postgres`); each size gets database
//!   `scimd_bench_<N>`, kept between runs and reseeded only when it does not hold N users.
//! - SQLite: each size gets the file `target/bench-sqlite/lookup_<N>.db`, kept between runs
//!   and reseeded only when it does not hold N users.
//! - `SCIMD_BENCH_SIZES`: comma-separated directory sizes (default `1000,100000,1000000`).
//! - `SCIMD_BENCH_SECONDS`: seconds of measured HTTP load per size (default 10, after a 3 s
//!   warm-up).
//! - `SCIMD_BENCH_CREATES`: user creates measured per backend at the largest size (default
//!   2000, after 100 unmeasured); the created users are deleted afterwards.
//!
//! Users are seeded with one SQL statement per size and backend, not over HTTP, and both
//! backends get the same documents (checked). Every answer is checked: a lookup that does not
//! find exactly the user it asked for, with exactly the seeded document, stops the benchmark.
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

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use common::{Backend, BoxResult, Db, Stats, TOKEN, backend_verdict, capture_sql, user_doc};
use scimd::AppState;
use scimd::domain::Tenant;
use scimd::scim::query::SearchParams;
use scimd::scim::schema::ResourceKind;
use scimd::service::Context;

const WARMUP_LOOKUPS: usize = 200;
const MEASURED_LOOKUPS: usize = 2_000;
/// Caps on the time spent per filter and size, so that a lookup that scans the table still
/// finishes in reasonable time (with fewer samples, reported as `n`).
const WARMUP_CAP: Duration = Duration::from_secs(5);
const MEASURE_CAP: Duration = Duration::from_secs(30);
const CONNECTIONS: usize = 16;
const HTTP_WARMUP: Duration = Duration::from_secs(3);
const CREATE_WARMUP: u64 = 100;
/// The user the EXPLAINs look up.
const EXPLAINED_USER: u64 = 42;

/// Users this benchmark creates through the service have a `name_key` in
/// `[CREATED_FROM, CREATED_TO)`, so that they can be told from the seeded users and removed.
const CREATED_PREFIX: &str = "BenchCreate-";
const CREATED_FROM: &str = "benchcreate-";
const CREATED_TO: &str = "benchcreate.";

/// The three lookups, in report order.
const FILTERS: [Lookup; 3] = [Lookup::UserName, Lookup::ExternalId, Lookup::EmailValuePath];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookup {
    UserName,
    ExternalId,
    EmailValuePath,
}

impl Lookup {
    fn label(self) -> &'static str {
        match self {
            Lookup::UserName => "userName eq",
            Lookup::ExternalId => "externalId eq",
            Lookup::EmailValuePath => "emails[type eq \"work\"].value eq",
        }
    }

    /// The SCIM filter that finds user `i`. The userName literal is in another case than
    /// the stored value, to show that the lookup is case-insensitive.
    fn filter(self, i: u64) -> String {
        match self {
            Lookup::UserName => format!("userName eq \"USER{i}@example.COM\""),
            Lookup::ExternalId => format!("externalId eq \"ext-{i}\""),
            Lookup::EmailValuePath => {
                format!("emails[type eq \"work\"].value eq \"user{i}@example.com\"")
            }
        }
    }
}

/// xorshift64*: enough randomness to spread lookups over the directory.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform enough in `1..=n`.
    fn user(&mut self, n: u64) -> u64 {
        self.next_u64() % n + 1
    }
}

struct LookupResult {
    backend: Backend,
    size: u64,
    lookup: Lookup,
    stats: Stats,
}

struct HttpResult {
    backend: Backend,
    size: u64,
    requests: u64,
    seconds: f64,
    stats: Stats,
}

struct CreateResult {
    backend: Backend,
    size: u64,
    seconds: f64,
    stats: Stats,
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    let server = common::pg_server();
    let backends = Backend::from_env()?;
    let sizes: Vec<u64> = std::env::var("SCIMD_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,100000,1000000".to_owned())
        .split(',')
        .map(|s| s.trim().replace('_', "").parse::<u64>())
        .collect::<Result<_, _>>()?;
    if sizes.is_empty() || sizes.contains(&0) {
        return Err("SCIMD_BENCH_SIZES must list sizes above 0".into());
    }
    let seconds: u64 = std::env::var("SCIMD_BENCH_SECONDS")
        .ok()
        .map(|s| s.trim().parse())
        .transpose()?
        .unwrap_or(10);
    let creates: u64 = std::env::var("SCIMD_BENCH_CREATES")
        .ok()
        .map(|s| s.trim().replace('_', "").parse())
        .transpose()?
        .unwrap_or(2_000);
    if creates == 0 {
        return Err("SCIMD_BENCH_CREATES must be above 0".into());
    }
    let largest = sizes.iter().copied().max().unwrap_or(0);
    common::install_sql_capture()?;
    println!(
        "scimd lookup benchmark: backends {}, sizes {sizes:?}, {MEASURED_LOOKUPS} lookups per \
         filter, HTTP {CONNECTIONS} connections x {seconds} s (after {} s warm-up), {creates} \
         creates at {largest} users, {} CPUs",
        backends
            .iter()
            .map(|b| b.label())
            .collect::<Vec<_>>()
            .join(", "),
        HTTP_WARMUP.as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );

    let mut lookups = Vec::new();
    let mut http = Vec::new();
    let mut created = Vec::new();
    for &size in &sizes {
        for &backend in &backends {
            println!("\n## {backend}, {size} users");
            let db = Db::new(
                backend,
                &server,
                &format!("scimd_bench_{size}"),
                &format!("lookup_{size}"),
            )?;
            let fresh = !holds_users(&db, size).await?;
            if fresh {
                db.drop_database().await?;
            }
            let state = scimd::build_state(&db.settings(16)).await?;
            if fresh {
                db.seed(size).await?;
            } else {
                println!("reusing {}: it already holds {size} users", db.describe());
                if backend == Backend::Sqlite {
                    // a WAL left by the last run's creates and deletes, copied back as the
                    // automatic checkpoint would
                    db.checkpoint().await?;
                }
            }
            db.check_seeded(&[1, size.div_ceil(2), size]).await?;
            let tenant = state.directory.tenant("default").await?;

            for lookup in FILTERS {
                let stats = measure_lookups(&state, &tenant, lookup, size).await?;
                if size == largest {
                    match backend {
                        Backend::Postgres => sent_sql(&db.url, lookup).await?,
                        Backend::Sqlite => {
                            sqlite_plan(&db, &state, &tenant, lookup, size).await?;
                        }
                    }
                }
                println!(
                    "{:<36} n {:>5}  mean {:>9.1} µs  p50 {:>9.1}  p95 {:>9.1}  p99 {:>9.1}",
                    lookup.label(),
                    stats.n,
                    stats.mean,
                    stats.p50,
                    stats.p95,
                    stats.p99
                );
                lookups.push(LookupResult {
                    backend,
                    size,
                    lookup,
                    stats,
                });
            }
            if size == largest && backend == Backend::Postgres {
                explain(&db.url).await?;
            }
            let result =
                measure_http(state.clone(), backend, size, Duration::from_secs(seconds)).await?;
            println!(
                "HTTP GET /Users?filter=userName eq …: {:.0} req/s ({} requests in {:.1} s), \
                 mean {:.0} µs, p50 {:.0}, p95 {:.0}, p99 {:.0}",
                result.requests as f64 / result.seconds,
                result.requests,
                result.seconds,
                result.stats.mean,
                result.stats.p50,
                result.stats.p95,
                result.stats.p99,
            );
            http.push(result);
            if size == largest {
                let result = measure_creates(&db, &state, &tenant, size, creates).await?;
                println!(
                    "creates: {:.0} creates/s ({} in {:.1} s), mean {:.1} µs, p50 {:.1}, \
                     p95 {:.1}, p99 {:.1}, max {:.1}",
                    result.stats.n as f64 / result.seconds,
                    result.stats.n,
                    result.seconds,
                    result.stats.mean,
                    result.stats.p50,
                    result.stats.p95,
                    result.stats.p99,
                    result.stats.max,
                );
                created.push(result);
            }
        }
    }
    report(&sizes, &backends, &lookups, &http, &created);
    Ok(())
}

/// One lookup through the service layer (filter compiled, store queries run); panics unless it
/// finds exactly user `i` with its seeded document.
async fn lookup_once(
    state: &AppState,
    tenant: &Tenant,
    lookup: Lookup,
    i: u64,
) -> BoxResult<Duration> {
    let params = SearchParams {
        filter: Some(lookup.filter(i)),
        ..Default::default()
    };
    let started = Instant::now();
    let result = state
        .directory
        .search(tenant, ResourceKind::User, &params)
        .await?;
    let elapsed = started.elapsed();
    assert_eq!(
        result.total,
        1,
        "{} found {} users, not 1",
        lookup.filter(i),
        result.total
    );
    assert_eq!(result.resources.len(), 1, "{}", lookup.filter(i));
    let doc = &result.resources[0].resource.doc;
    assert_eq!(
        doc.get("userName"),
        Some(&Value::String(format!("User{i}@Example.com"))),
        "{} found another user",
        lookup.filter(i)
    );
    assert_eq!(
        Value::Object(doc.clone()),
        user_doc(i),
        "{} found user {i} with another document",
        lookup.filter(i)
    );
    Ok(elapsed)
}

async fn measure_lookups(
    state: &AppState,
    tenant: &Tenant,
    lookup: Lookup,
    size: u64,
) -> BoxResult<Stats> {
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15 ^ size);
    let started = Instant::now();
    for _ in 0..WARMUP_LOOKUPS {
        lookup_once(state, tenant, lookup, rng.user(size)).await?;
        if started.elapsed() > WARMUP_CAP {
            break;
        }
    }
    let started = Instant::now();
    let mut samples = Vec::with_capacity(MEASURED_LOOKUPS);
    for _ in 0..MEASURED_LOOKUPS {
        samples.push(lookup_once(state, tenant, lookup, rng.user(size)).await?);
        if started.elapsed() > MEASURE_CAP {
            break;
        }
    }
    Ok(Stats::of(&samples))
}

/// The statements one SQLite lookup of user 42 sent (captured from sqlx's query log), each
/// with its `EXPLAIN QUERY PLAN`.
async fn sqlite_plan(
    db: &Db,
    state: &AppState,
    tenant: &Tenant,
    lookup: Lookup,
    size: u64,
) -> BoxResult<()> {
    let user = EXPLAINED_USER.min(size);
    let (took, sent) = capture_sql(lookup_once(state, tenant, lookup, user)).await?;
    println!(
        "SQL scimd sent for {} (user {user}, {:.1} µs), with EXPLAIN QUERY PLAN:",
        lookup.label(),
        took.as_secs_f64() * 1e6
    );
    db.print_sqlite_plans(&sent).await
}

/// Whether the database exists and holds exactly `size` seeded users of tenant `default` and
/// nothing else (users this benchmark created and did not delete are not counted).
async fn holds_users(db: &Db, size: u64) -> BoxResult<bool> {
    let seeded =
        |r: &str| format!("not ({r}name_key >= '{CREATED_FROM}' and {r}name_key < '{CREATED_TO}')");
    let sql = format!(
        "select (select count(*) from resources r join tenants t on t.id = r.tenant_id \
                 where t.name = 'default' and r.resource_type = 'User' and {}), \
                (select count(*) from resources where {})",
        seeded("r."),
        seeded("")
    );
    let counts: Result<(i64, i64), sqlx::Error> = match db.backend {
        Backend::Postgres => {
            let mut admin = PgConnection::connect(&db.server).await?;
            let exists: Option<i32> =
                sqlx::query_scalar("select 1 from pg_database where datname = $1")
                    .bind(&db.name)
                    .fetch_optional(&mut admin)
                    .await?;
            admin.close().await?;
            if exists.is_none() {
                return Ok(false);
            }
            let mut conn = db.pg().await?;
            let counts = sqlx::query_as(&sql).fetch_one(&mut conn).await;
            conn.close().await?;
            counts
        }
        Backend::Sqlite => {
            if !db.path.exists() {
                return Ok(false);
            }
            let mut conn = db.sqlite().await?;
            let counts = sqlx::query_as(&sql).fetch_one(&mut conn).await;
            conn.close().await?;
            counts
        }
    };
    match counts {
        Ok((c, t)) => Ok(c == t && u64::try_from(c) == Ok(size)),
        Err(e) => {
            println!("cannot count the users of {}: {e}", db.describe());
            Ok(false)
        }
    }
}

/// Deletes the users this benchmark created, with one statement; how many.
async fn delete_created(db: &Db) -> BoxResult<u64> {
    let sql = format!(
        "delete from resources \
         where tenant_id = (select id from tenants where name = 'default') \
           and resource_type = 'User' and name_key >= '{CREATED_FROM}' and name_key < '{CREATED_TO}'"
    );
    Ok(match db.backend {
        Backend::Postgres => {
            let mut conn = db.pg().await?;
            let n = sqlx::query(&sql).execute(&mut conn).await?.rows_affected();
            conn.close().await?;
            n
        }
        Backend::Sqlite => {
            let mut conn = db.sqlite().await?;
            let n = sqlx::query(&sql).execute(&mut conn).await?.rows_affected();
            conn.close().await?;
            n
        }
    })
}

/// The body of the `k`-th user this benchmark creates: a seeded user's shape.
fn created_user_body(k: u64) -> Value {
    json!({
        "userName": format!("{CREATED_PREFIX}{k}@Example.com"),
        "externalId": format!("bench-create-{k}"),
        "name": {"givenName": format!("Given{k}"), "familyName": format!("Family{k}")},
        "active": true,
        "emails": [{
            "value": format!("{CREATED_PREFIX}{k}@Example.com"),
            "type": "work",
            "primary": true,
        }],
    })
}

/// One create through the service of the `k`-th benchmark user; checks what it stored.
async fn create_once(state: &AppState, tenant: &Tenant, k: u64) -> BoxResult<Duration> {
    let body = created_user_body(k);
    let started = Instant::now();
    let created = state
        .directory
        .create(&Context::of(tenant), ResourceKind::User, &body)
        .await?;
    let elapsed = started.elapsed();
    assert_eq!(created.version().0, 1, "create {k}: version");
    assert_eq!(
        created.resource.doc.get("userName"),
        body.get("userName"),
        "create {k} stored another userName"
    );
    Ok(elapsed)
}

/// `n` user creates through the service, one after the other (after `CREATE_WARMUP`
/// unmeasured ones); the created users are deleted afterwards with one SQL statement.
async fn measure_creates(
    db: &Db,
    state: &AppState,
    tenant: &Tenant,
    size: u64,
    n: u64,
) -> BoxResult<CreateResult> {
    let leftovers = delete_created(db).await?;
    if leftovers > 0 {
        println!("deleted {leftovers} users created by an earlier, interrupted run");
    }
    let mut k = 0;
    for _ in 0..CREATE_WARMUP {
        k += 1;
        create_once(state, tenant, k).await?;
    }
    let mut samples = Vec::with_capacity(usize::try_from(n)?);
    let started = Instant::now();
    for _ in 0..n {
        k += 1;
        samples.push(create_once(state, tenant, k).await?);
    }
    let seconds = started.elapsed().as_secs_f64();
    k += 1;
    let (took, sent) = capture_sql(create_once(state, tenant, k)).await?;
    println!(
        "SQL scimd sent for one create ({:.1} µs; transaction begin/commit not shown):",
        took.as_secs_f64() * 1e6
    );
    for sql in &sent {
        println!("    {sql}");
    }
    let deleted = delete_created(db).await?;
    assert_eq!(deleted, k, "deleted {deleted} created users, not {k}");
    Ok(CreateResult {
        backend: db.backend,
        size,
        seconds,
        stats: Stats::of(&samples),
    })
}

/// The statements scimd last sent on each pooled connection (`pg_stat_activity.query` keeps
/// the last statement of an idle connection): the SQL the lookups just ran, as the server got
/// it, to check the hand-written statements `explain` plans.
async fn sent_sql(url: &str, lookup: Lookup) -> BoxResult<()> {
    let mut conn = PgConnection::connect(url).await?;
    let queries: Vec<String> = sqlx::query_scalar(
        "select distinct query from pg_stat_activity \
         where datname = current_database() and pid <> pg_backend_pid() \
           and query like '%from resources%' order by query",
    )
    .fetch_all(&mut conn)
    .await?;
    conn.close().await?;
    println!("SQL scimd sent for {}:", lookup.label());
    for q in queries {
        println!("    {}", q.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    Ok(())
}

/// `EXPLAIN` of the two statements `PgStore::list` runs for each lookup (the count and the
/// page), written out as `store/postgres/filter.rs` and `resources.rs` build them, as a
/// custom plan (parameters known) and as the generic plan PostgreSQL switches a prepared
/// statement to after five executions when it looks no more expensive (sqlx prepares and
/// caches every statement per connection).
async fn explain(url: &str) -> BoxResult<()> {
    let mut conn = PgConnection::connect(url).await?;
    let tenant: uuid::Uuid = sqlx::query_scalar("select id from tenants where name = 'default'")
        .fetch_one(&mut conn)
        .await?;
    let cases = [
        (
            Lookup::UserName,
            "text",
            "name_key = $3",
            "'user42@example.com'",
        ),
        (
            Lookup::ExternalId,
            "text",
            "(external_id is not null and external_id = $3)",
            "'ext-42'",
        ),
        (
            Lookup::EmailValuePath,
            "jsonb",
            "search @> $3",
            r#"'{"emails":[{"type":"work","value":"user42@example.com"}]}'"#,
        ),
    ];
    println!("\n### EXPLAIN (as PgStore::list runs it; user 42)");
    for (lookup, ty, predicate, value) in cases {
        let scope = format!("tenant_id = $1 and resource_type = $2 and ({predicate})");
        let statements = [
            (
                "count",
                format!(
                    "prepare bench_count(uuid, text, {ty}) as \
                     select count(*), coalesce(max(seq), 0) from resources where {scope}"
                ),
                format!("execute bench_count('{tenant}', 'User', {value})"),
            ),
            (
                "page",
                format!(
                    "prepare bench_page(uuid, text, {ty}, bigint, bigint) as \
                     select id, seq, version, created, last_modified, doc from resources \
                     where {scope} order by seq limit $4 offset $5"
                ),
                format!("execute bench_page('{tenant}', 'User', {value}, 101, 0)"),
            ),
        ];
        for (what, prepare, execute) in statements {
            sqlx::raw_sql(&prepare).execute(&mut conn).await?;
            println!(
                "\n{} — {what} query:\n  {}",
                lookup.label(),
                prepare
                    .split_once(" as ")
                    .map_or(prepare.as_str(), |(_, s)| s)
            );
            for mode in ["force_custom_plan", "force_generic_plan"] {
                sqlx::raw_sql(&format!("set plan_cache_mode = {mode}"))
                    .execute(&mut conn)
                    .await?;
                let rows = sqlx::raw_sql(&format!("explain {execute}"))
                    .fetch_all(&mut conn)
                    .await?;
                println!("  [{}]", mode.trim_start_matches("force_"));
                for row in rows {
                    let line: String = row.try_get(0)?;
                    println!("    {line}");
                }
            }
            sqlx::raw_sql(&format!("deallocate bench_{what}; reset plan_cache_mode"))
                .execute(&mut conn)
                .await?;
        }
    }
    conn.close().await?;
    Ok(())
}

/// Serves the application in process and drives it with `CONNECTIONS` keep-alive clients.
async fn measure_http(
    state: AppState,
    backend: Backend,
    size: u64,
    measure: Duration,
) -> BoxResult<HttpResult> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(scimd::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let warm_until = Instant::now() + HTTP_WARMUP;
    let measure_until = warm_until + measure;
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            tokio::spawn(client(
                addr,
                size,
                0x1234_5678 + c as u64 * 7919,
                warm_until,
                measure_until,
            ))
        })
        .collect();
    let mut samples = Vec::new();
    for c in clients {
        samples.extend(c.await??);
    }
    let _ = stop.send(());
    server.await??;
    Ok(HttpResult {
        backend,
        size,
        requests: samples.len() as u64,
        seconds: measure.as_secs_f64(),
        stats: Stats::of(&samples),
    })
}

/// One keep-alive connection sending lookups back to back; the latencies of requests sent
/// after `warm_until` and answered by `measure_until`.
async fn client(
    addr: SocketAddr,
    size: u64,
    seed: u64,
    warm_until: Instant,
    measure_until: Instant,
) -> BoxResult<Vec<Duration>> {
    let mut rng = Rng::new(seed);
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut stream = BufReader::new(stream);
    let mut samples = Vec::new();
    let mut line = String::new();
    let mut body = Vec::new();
    loop {
        let i = rng.user(size);
        let request = format!(
            "GET /scim/v2/Users?filter=userName+eq+%22user{i}%40example.com%22 HTTP/1.1\r\n\
             Host: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
        );
        let started = Instant::now();
        stream.get_mut().write_all(request.as_bytes()).await?;
        line.clear();
        stream.read_line(&mut line).await?;
        let status = line.split(' ').nth(1).unwrap_or_default().to_owned();
        let mut length = None;
        loop {
            line.clear();
            if stream.read_line(&mut line).await? == 0 {
                return Err("the server closed the connection".into());
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = Some(value.trim().parse::<usize>()?);
                }
            }
        }
        let length = length.ok_or("a response without content-length")?;
        body.resize(length, 0);
        stream.read_exact(&mut body).await?;
        let finished = Instant::now();
        let text = std::str::from_utf8(&body)?;
        assert_eq!(status, "200", "GET user{i}: {text}");
        assert!(
            text.contains("\"totalResults\":1,")
                && text.contains(&format!("\"userName\":\"User{i}@Example.com\"")),
            "GET user{i} did not find exactly that user: {text}"
        );
        if finished > measure_until {
            break;
        }
        if started >= warm_until {
            samples.push(finished - started);
        }
    }
    Ok(samples)
}

fn report(
    sizes: &[u64],
    backends: &[Backend],
    lookups: &[LookupResult],
    http: &[HttpResult],
    creates: &[CreateResult],
) {
    println!("\n## Results\n");
    println!("| backend | size | filter | n | mean µs | p50 µs | p95 µs | p99 µs |");
    println!("|---|---:|---|---:|---:|---:|---:|---:|");
    for &backend in backends {
        for r in lookups.iter().filter(|r| r.backend == backend) {
            println!(
                "| {} | {} | `{}` | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
                r.backend,
                r.size,
                r.lookup.label(),
                r.stats.n,
                r.stats.mean,
                r.stats.p50,
                r.stats.p95,
                r.stats.p99
            );
        }
    }
    let mean = |backend: Backend, size: u64, lookup: Lookup| {
        lookups
            .iter()
            .find(|r| r.backend == backend && r.size == size && r.lookup == lookup)
            .map(|r| r.stats.mean)
    };
    let smallest = sizes.iter().copied().min().unwrap_or(0);
    let largest = sizes.iter().copied().max().unwrap_or(0);
    if smallest != largest {
        println!("\n| backend | filter | mean at {largest} / mean at {smallest} | target < 1.5 |");
        println!("|---|---|---:|---|");
        for &backend in backends {
            for lookup in FILTERS {
                let ratio = mean(backend, largest, lookup).unwrap_or(f64::NAN)
                    / mean(backend, smallest, lookup).unwrap_or(f64::NAN);
                println!(
                    "| {backend} | `{}` | {ratio:.2} | {} |",
                    lookup.label(),
                    if ratio < 1.5 { "met" } else { "MISSED" }
                );
            }
        }
    }
    println!(
        "\n| backend | size | HTTP req/s ({CONNECTIONS} connections) | mean µs | p50 µs | p95 µs | \
         p99 µs | target ≥ 15 000/s |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    for &backend in backends {
        for r in http.iter().filter(|r| r.backend == backend) {
            let rate = r.requests as f64 / r.seconds;
            println!(
                "| {} | {} | {rate:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {} |",
                r.backend,
                r.size,
                r.stats.mean,
                r.stats.p50,
                r.stats.p95,
                r.stats.p99,
                if rate >= 15_000.0 { "met" } else { "MISSED" }
            );
        }
    }
    println!(
        "\n| backend | size | user creates | creates/s | mean µs | p50 µs | p95 µs | p99 µs | max µs |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in creates {
        println!(
            "| {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            r.backend,
            r.size,
            r.stats.n,
            r.stats.n as f64 / r.seconds,
            r.stats.mean,
            r.stats.p50,
            r.stats.p95,
            r.stats.p99,
            r.stats.max
        );
    }

    if !(backends.contains(&Backend::Postgres) && backends.contains(&Backend::Sqlite)) {
        return;
    }
    println!(
        "\n| size | operation | PostgreSQL mean µs | SQLite mean µs | SQLite / PostgreSQL | \
         target ≤ {:.1} |",
        common::BACKEND_TARGET
    );
    println!("|---:|---|---:|---:|---:|---|");
    let row = |size: u64, what: &str, pg: Option<f64>, lite: Option<f64>, target: bool| {
        let (pg, lite) = (pg.unwrap_or(f64::NAN), lite.unwrap_or(f64::NAN));
        let ratio = lite / pg;
        println!(
            "| {size} | {what} | {pg:.1} | {lite:.1} | {ratio:.2} | {} |",
            if target {
                backend_verdict(ratio)
            } else {
                "(information)"
            }
        );
    };
    for &size in sizes {
        for lookup in FILTERS {
            row(
                size,
                &format!("lookup `{}`", lookup.label()),
                mean(Backend::Postgres, size, lookup),
                mean(Backend::Sqlite, size, lookup),
                true,
            );
        }
        let http_mean = |backend: Backend| {
            http.iter()
                .find(|r| r.backend == backend && r.size == size)
                .map(|r| r.stats.mean)
        };
        row(
            size,
            "HTTP `GET /Users?filter=userName eq` under load",
            http_mean(Backend::Postgres),
            http_mean(Backend::Sqlite),
            false,
        );
    }
    let create_mean = |backend: Backend| {
        creates
            .iter()
            .find(|r| r.backend == backend)
            .map(|r| r.stats.mean)
    };
    row(
        largest,
        "user create",
        create_mean(Backend::Postgres),
        create_mean(Backend::Sqlite),
        true,
    );
}
