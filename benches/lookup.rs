//! Lookup benchmark (issue 3): latency of one filtered lookup by `userName`, `externalId` and a
//! value-path filter with 1 000, 100 000 and 1 000 000 users in PostgreSQL, and the throughput
//! of `GET /Users?filter=userName eq …` over HTTP with 16 keep-alive connections.
//!
//! Targets: lookup cost flat across directory sizes (largest / smallest mean < 1.5) and at
//! least 15 000 lookups/s over HTTP on a 2-core machine.
//!
//! Run with `cargo bench --bench lookup`. Environment:
//! - `SCIMD_BENCH_DATABASE_URL`: a PostgreSQL server (default
//!   `postgres://postgres@127.0.0.1:5432/postgres`); each size gets database
//!   `scimd_bench_<N>`, kept between runs and reseeded only when it does not hold N users.
//! - `SCIMD_BENCH_SIZES`: comma-separated directory sizes (default `1000,100000,1000000`).
//! - `SCIMD_BENCH_SECONDS`: seconds of measured HTTP load per size (default 10, after a 3 s
//!   warm-up).
//!
//! Users are seeded with one SQL statement per size, not over HTTP. Every answer is checked:
//! a lookup that does not find exactly the user it asked for stops the benchmark.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark fails loudly"
)]

use std::error::Error;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::Value;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use scimd::AppState;
use scimd::config::Cli;
use scimd::scim::query::SearchParams;
use scimd::scim::schema::ResourceKind;
use scimd::store::Tenant;

type BoxResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const TOKEN: &str = "bench-token-0123456789abcdef";
const WARMUP_LOOKUPS: usize = 200;
const MEASURED_LOOKUPS: usize = 2_000;
/// Caps on the time spent per filter and size, so that a lookup that scans the table still
/// finishes in reasonable time (with fewer samples, reported as `n`).
const WARMUP_CAP: Duration = Duration::from_secs(5);
const MEASURE_CAP: Duration = Duration::from_secs(30);
const CONNECTIONS: usize = 16;
const HTTP_WARMUP: Duration = Duration::from_secs(3);

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

/// Latency statistics in microseconds.
#[derive(Debug, Clone, Copy)]
struct Stats {
    n: usize,
    mean: f64,
    p50: f64,
    p95: f64,
    p99: f64,
}

impl Stats {
    fn of(samples: &mut [Duration]) -> Self {
        assert!(!samples.is_empty(), "no samples");
        samples.sort_unstable();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let total: Duration = samples.iter().sum();
        let pick = |q: f64| {
            let rank = (q * samples.len() as f64).ceil() as usize;
            us(samples[rank.clamp(1, samples.len()) - 1])
        };
        Self {
            n: samples.len(),
            mean: us(total) / samples.len() as f64,
            p50: pick(0.50),
            p95: pick(0.95),
            p99: pick(0.99),
        }
    }
}

struct LookupResult {
    size: u64,
    lookup: Lookup,
    stats: Stats,
}

struct HttpResult {
    size: u64,
    requests: u64,
    seconds: f64,
    stats: Stats,
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    let server =
        std::env::var("SCIMD_BENCH_DATABASE_URL").unwrap_or_else(|_| DEFAULT_SERVER.to_owned());
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
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    println!(
        "scimd lookup benchmark: sizes {sizes:?}, {MEASURED_LOOKUPS} lookups per filter, \
         HTTP {CONNECTIONS} connections x {seconds} s (after {} s warm-up), {} CPUs",
        HTTP_WARMUP.as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );

    let mut lookups = Vec::new();
    let mut http = Vec::new();
    for &size in &sizes {
        println!("\n## {size} users");
        let name = format!("scimd_bench_{size}");
        let url = format!("{base}/{name}");
        let fresh = !holds_users(&server, &url, &name, size).await?;
        if fresh {
            let mut admin = PgConnection::connect(&server).await?;
            sqlx::query(&format!("drop database if exists {name} with (force)"))
                .execute(&mut admin)
                .await?;
            admin.close().await?;
        }
        let cli = Cli::parse_from([
            "scimd",
            "--database-url",
            &url,
            "--bootstrap-token",
            TOKEN,
            "--database-max-connections",
            "16",
        ]);
        let state = scimd::build_state(&cli.config).await?;
        if fresh {
            seed(&url, size).await?;
        } else {
            println!("reusing {name}: it already holds {size} users");
        }
        let tenant = state.directory.tenant("default").await?;

        for lookup in FILTERS {
            let stats = measure_lookups(&state, &tenant, lookup, size).await?;
            if size == largest {
                sent_sql(&url, lookup).await?;
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
                size,
                lookup,
                stats,
            });
        }
        if size == largest {
            explain(&url).await?;
        }
        let result = measure_http(state, size, Duration::from_secs(seconds)).await?;
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
    }
    report(&sizes, &lookups, &http);
    Ok(())
}

/// Whether database `name` exists and holds exactly `size` users of tenant `default`.
async fn holds_users(server: &str, url: &str, name: &str, size: u64) -> BoxResult<bool> {
    let mut admin = PgConnection::connect(server).await?;
    let exists: Option<i32> = sqlx::query_scalar("select 1 from pg_database where datname = $1")
        .bind(name)
        .fetch_optional(&mut admin)
        .await?;
    admin.close().await?;
    if exists.is_none() {
        return Ok(false);
    }
    let mut conn = PgConnection::connect(url).await?;
    let count: Result<i64, _> = sqlx::query_scalar(
        "select count(*) from resources r join tenants t on t.id = r.tenant_id \
         where t.name = 'default' and r.resource_type = 'User'",
    )
    .fetch_one(&mut conn)
    .await;
    let total: Result<i64, _> = sqlx::query_scalar("select count(*) from resources")
        .fetch_one(&mut conn)
        .await;
    conn.close().await?;
    Ok(matches!((count, total), (Ok(c), Ok(t)) if c == t && u64::try_from(c) == Ok(size)))
}

/// Inserts users 1..=size for tenant `default` with one statement, the documents built as
/// scimd builds them (`doc` canonical, `search` with caseExact=false strings lower-cased).
async fn seed(url: &str, size: u64) -> BoxResult<()> {
    let started = Instant::now();
    let mut conn = PgConnection::connect(url).await?;
    let tenant: uuid::Uuid = sqlx::query_scalar("select id from tenants where name = 'default'")
        .fetch_one(&mut conn)
        .await?;
    // Building the GIN index once is much faster than maintaining it row by row.
    let rebuild_gin = size >= 100_000;
    if rebuild_gin {
        sqlx::query("set maintenance_work_mem = '1GB'")
            .execute(&mut conn)
            .await?;
        sqlx::query("drop index resources_search")
            .execute(&mut conn)
            .await?;
    }
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
        inserted, size,
        "seeding inserted {inserted} rows, not {size}"
    );
    let insert_time = started.elapsed();
    if rebuild_gin {
        sqlx::query("create index resources_search on resources using gin (search jsonb_path_ops)")
            .execute(&mut conn)
            .await?;
    }
    let index_time = started.elapsed() - insert_time;
    // VACUUM as autovacuum would after a bulk insert: sets hint bits and the visibility map so
    // that the first read of each page does not pay for it during the measurement.
    sqlx::query("vacuum (analyze) resources")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    println!(
        "seeded {size} users in {:.1} s (insert {:.1} s, GIN index {:.1} s{}, vacuum analyze {:.1} s)",
        started.elapsed().as_secs_f64(),
        insert_time.as_secs_f64(),
        index_time.as_secs_f64(),
        if rebuild_gin {
            " rebuilt after the insert"
        } else {
            " maintained during the insert"
        },
        (started.elapsed() - insert_time - index_time).as_secs_f64(),
    );
    Ok(())
}

/// One lookup through the service layer (filter compiled, both store queries run); panics
/// unless it finds exactly user `i`.
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
    let user_name = result.resources[0].0.doc.get("userName");
    assert_eq!(
        user_name,
        Some(&Value::String(format!("User{i}@Example.com"))),
        "{} found another user",
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
    Ok(Stats::of(&mut samples))
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
            "coalesce(name_key = $3, false)",
            "'user42@example.com'",
        ),
        (
            Lookup::ExternalId,
            "text",
            "coalesce(external_id = $3, false)",
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
async fn measure_http(state: AppState, size: u64, measure: Duration) -> BoxResult<HttpResult> {
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
        size,
        requests: samples.len() as u64,
        seconds: measure.as_secs_f64(),
        stats: Stats::of(&mut samples),
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

fn report(sizes: &[u64], lookups: &[LookupResult], http: &[HttpResult]) {
    println!("\n## Results\n");
    println!("| size | filter | n | mean µs | p50 µs | p95 µs | p99 µs |");
    println!("|---:|---|---:|---:|---:|---:|---:|");
    for r in lookups {
        println!(
            "| {} | `{}` | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
            r.size,
            r.lookup.label(),
            r.stats.n,
            r.stats.mean,
            r.stats.p50,
            r.stats.p95,
            r.stats.p99
        );
    }
    let smallest = sizes.iter().copied().min().unwrap_or(0);
    let largest = sizes.iter().copied().max().unwrap_or(0);
    if smallest != largest {
        println!("\n| filter | mean at {largest} / mean at {smallest} | target < 1.5 |");
        println!("|---|---:|---|");
        for lookup in FILTERS {
            let mean = |size| {
                lookups
                    .iter()
                    .find(|r| r.size == size && r.lookup == lookup)
                    .map_or(f64::NAN, |r| r.stats.mean)
            };
            let ratio = mean(largest) / mean(smallest);
            println!(
                "| `{}` | {ratio:.2} | {} |",
                lookup.label(),
                if ratio < 1.5 { "met" } else { "MISSED" }
            );
        }
    }
    println!(
        "\n| size | HTTP req/s ({CONNECTIONS} connections) | mean µs | p50 µs | p95 µs | p99 µs | target ≥ 15 000/s |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---|");
    for r in http {
        let rate = r.requests as f64 / r.seconds;
        println!(
            "| {} | {rate:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {} |",
            r.size,
            r.stats.mean,
            r.stats.p50,
            r.stats.p95,
            r.stats.p99,
            if rate >= 15_000.0 { "met" } else { "MISSED" }
        );
    }
}
