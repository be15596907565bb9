//! Shared by the lookup and group benchmarks: the two backends and their benchmark databases,
//! seeding, latency statistics, and the SQL scimd sends (captured from sqlx's query log).
//!
//! - `SCIMD_BENCH_BACKENDS`: comma-separated backends to measure, in order (default
//!   `postgres,sqlite`).
//! - `SCIMD_BENCH_DATABASE_URL`: the PostgreSQL server (default
//!   `postgres://postgres@127.0.0.1:5432/postgres`); each benchmark database is a database on it.
//! - SQLite databases are files under `target/bench-sqlite/` (`$CARGO_TARGET_DIR/bench-sqlite/`
//!   when that is set), opened as `sqlite://<absolute path>`.
//!
//! Both backends are seeded with one SQL statement that builds exactly the same documents
//! (`doc` canonical, `search` with caseExact=false strings lower-cased, as scimd builds them);
//! [`Db::check_seeded`] compares stored documents with [`user_doc`] and [`user_search`].

use std::error::Error;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Value, json};
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

use scimd::config::Config;

pub type BoxResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

pub const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const TOKEN: &str = "bench-token-0123456789abcdef";
/// Target of every backend comparison: SQLite mean / PostgreSQL mean at most this.
pub const BACKEND_TARGET: f64 = 2.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::Postgres => "PostgreSQL",
            Backend::Sqlite => "SQLite",
        }
    }

    /// The backends `SCIMD_BENCH_BACKENDS` names, in its order.
    pub fn from_env() -> BoxResult<Vec<Backend>> {
        let list =
            std::env::var("SCIMD_BENCH_BACKENDS").unwrap_or_else(|_| "postgres,sqlite".to_owned());
        let mut backends = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let backend = match name.to_ascii_lowercase().as_str() {
                "postgres" | "postgresql" | "pg" => Backend::Postgres,
                "sqlite" => Backend::Sqlite,
                other => {
                    return Err(format!(
                        "SCIMD_BENCH_BACKENDS: unknown backend '{other}' (postgres, sqlite)"
                    )
                    .into());
                }
            };
            if !backends.contains(&backend) {
                backends.push(backend);
            }
        }
        if backends.is_empty() {
            return Err("SCIMD_BENCH_BACKENDS must name postgres, sqlite or both".into());
        }
        Ok(backends)
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The PostgreSQL server of `SCIMD_BENCH_DATABASE_URL`.
pub fn pg_server() -> String {
    std::env::var("SCIMD_BENCH_DATABASE_URL").unwrap_or_else(|_| DEFAULT_SERVER.to_owned())
}

/// The whole number in the environment variable `name` (`_` allowed between digits), else
/// `default`; an error below `least`.
pub fn setting(name: &str, default: usize, least: usize) -> BoxResult<usize> {
    let value = match std::env::var(name) {
        Ok(v) => v.trim().replace('_', "").parse()?,
        Err(_) => default,
    };
    if value < least {
        return Err(format!("{name} must be at least {least}").into());
    }
    Ok(value)
}

/// `"met"` when `ratio` is at most [`BACKEND_TARGET`].
pub fn backend_verdict(ratio: f64) -> &'static str {
    if ratio <= BACKEND_TARGET {
        "met"
    } else {
        "MISSED"
    }
}

/// Latency statistics in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub n: usize,
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Stats {
    pub fn of(samples: &[Duration]) -> Self {
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

/// The canonical document of seeded user `i`, as scimd stores it (`doc`).
pub fn user_doc(i: u64) -> Value {
    json!({
        "userName": format!("User{i}@Example.com"),
        "externalId": format!("ext-{i}"),
        "name": {"givenName": format!("Given{i}"), "familyName": format!("Family{i}")},
        "active": true,
        "emails": [{"value": format!("User{i}@Example.com"), "type": "work", "primary": true}],
    })
}

/// The folded document of seeded user `i` (`search`: caseExact=false strings lower-cased).
pub fn user_search(i: u64) -> Value {
    json!({
        "userName": format!("user{i}@example.com"),
        "externalId": format!("ext-{i}"),
        "name": {"givenName": format!("given{i}"), "familyName": format!("family{i}")},
        "active": true,
        "emails": [{"value": format!("user{i}@example.com"), "type": "work", "primary": true}],
    })
}

/// Inserts users 1..=$2 for tenant $1 on PostgreSQL (`generate_series`, `jsonb_build_object`).
const PG_SEED: &str = r#"insert into resources
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
   from generate_series(1, $2::bigint) as g(i)"#;

/// The same users on SQLite, for tenant `default`: a recursive CTE counts to ?1; ids are
/// random UUIDs v4 in hyphenated lower case; instants are milliseconds since the epoch;
/// `json('true')` makes a JSON `true` (SQLite's `true` is the integer 1).
const SQLITE_SEED: &str = r#"with recursive s(i) as (select 1 union all select i + 1 from s where i < ?1)
   insert into resources
       (tenant_id, id, resource_type, version, created, last_modified,
        name_key, external_id, active, doc, search)
   select (select id from tenants where name = 'default'),
          lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4'
                || substr(hex(randomblob(2)), 2) || '-'
                || substr('89ab', 1 + (random() & 3), 1) || substr(hex(randomblob(2)), 2)
                || '-' || hex(randomblob(6))),
          'User', 1,
          cast(unixepoch('subsec') * 1000 as integer),
          cast(unixepoch('subsec') * 1000 as integer),
          'user' || i || '@example.com', 'ext-' || i, 1,
          json_object(
              'userName', 'User' || i || '@Example.com',
              'externalId', 'ext-' || i,
              'name', json_object('givenName', 'Given' || i,
                                  'familyName', 'Family' || i),
              'active', json('true'),
              'emails', json_array(json_object(
                  'value', 'User' || i || '@Example.com',
                  'type', 'work',
                  'primary', json('true')))),
          json_object(
              'userName', 'user' || i || '@example.com',
              'externalId', 'ext-' || i,
              'name', json_object('givenName', 'given' || i,
                                  'familyName', 'family' || i),
              'active', json('true'),
              'emails', json_array(json_object(
                  'value', 'user' || i || '@example.com',
                  'type', 'work',
                  'primary', json('true'))))
   from s"#;

/// One benchmark database: a database on the PostgreSQL server, or a SQLite file.
#[derive(Debug, Clone)]
pub struct Db {
    pub backend: Backend,
    /// PostgreSQL: the server's URL (the admin connection); SQLite: unused.
    pub server: String,
    /// PostgreSQL: the database name; SQLite: the file's stem.
    pub name: String,
    /// SQLite: the file (absolute); PostgreSQL: empty.
    pub path: PathBuf,
    /// What `--database-url` gets.
    pub url: String,
}

impl Db {
    /// Database `pg_name` on the PostgreSQL server `server`, or `target/bench-sqlite/<sqlite_name>.db`.
    pub fn new(
        backend: Backend,
        server: &str,
        pg_name: &str,
        sqlite_name: &str,
    ) -> BoxResult<Self> {
        Ok(match backend {
            Backend::Postgres => {
                let base = server.rsplit_once('/').map_or(server, |(b, _)| b);
                Db {
                    backend,
                    server: server.to_owned(),
                    name: pg_name.to_owned(),
                    path: PathBuf::new(),
                    url: format!("{base}/{pg_name}"),
                }
            }
            Backend::Sqlite => {
                let path = sqlite_dir()?.join(format!("{sqlite_name}.db"));
                Db {
                    backend,
                    server: server.to_owned(),
                    name: sqlite_name.to_owned(),
                    url: format!("sqlite://{}", path.display()),
                    path,
                }
            }
        })
    }

    /// What the database is, for messages.
    pub fn describe(&self) -> String {
        match self.backend {
            Backend::Postgres => format!("PostgreSQL database {}", self.name),
            Backend::Sqlite => format!("SQLite file {}", self.path.display()),
        }
    }

    /// The settings `scimd serve` reads for this database.
    pub fn settings(&self, max_connections: u32) -> Config {
        Config::parse_from([
            "scimd",
            "--database-url",
            &self.url,
            "--bootstrap-token",
            TOKEN,
            "--database-max-connections",
            &max_connections.to_string(),
        ])
    }

    pub async fn pg(&self) -> BoxResult<PgConnection> {
        Ok(PgConnection::connect(&self.url).await?)
    }

    /// A connection of the benchmark's own to the SQLite file (which must exist).
    pub async fn sqlite(&self) -> BoxResult<SqliteConnection> {
        Ok(SqliteConnectOptions::new()
            .filename(&self.path)
            .busy_timeout(Duration::from_secs(30))
            .connect()
            .await?)
    }

    /// Drops the database, or deletes the file with its WAL and shared-memory files.
    pub async fn drop_database(&self) -> BoxResult<()> {
        match self.backend {
            Backend::Postgres => {
                let mut admin = PgConnection::connect(&self.server).await?;
                sqlx::query(&format!(
                    "drop database if exists {} with (force)",
                    self.name
                ))
                .execute(&mut admin)
                .await?;
                admin.close().await?;
            }
            Backend::Sqlite => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = OsString::from(self.path.as_os_str());
                    file.push(suffix);
                    match std::fs::remove_file(&file) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// Inserts users 1..=size for tenant `default` with one statement; prints the time.
    pub async fn seed(&self, size: u64) -> BoxResult<()> {
        match self.backend {
            Backend::Postgres => self.seed_pg(size).await,
            Backend::Sqlite => self.seed_sqlite(size).await,
        }
    }

    async fn seed_pg(&self, size: u64) -> BoxResult<()> {
        let started = Instant::now();
        let mut conn = self.pg().await?;
        let tenant: uuid::Uuid =
            sqlx::query_scalar("select id from tenants where name = 'default'")
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
        let inserted = sqlx::query(PG_SEED)
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
            sqlx::query(
                "create index resources_search on resources using gin (search jsonb_path_ops) with (fastupdate = off)",
            )
            .execute(&mut conn)
            .await?;
        }
        let index_time = started.elapsed() - insert_time;
        // VACUUM as autovacuum would after a bulk insert: sets hint bits and the visibility
        // map so that the first read of each page does not pay for it during the measurement.
        sqlx::query("vacuum (analyze) resources")
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        println!(
            "seeded {size} users on PostgreSQL in {:.1} s (insert {:.1} s, GIN index {:.1} s{}, \
             vacuum analyze {:.1} s)",
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

    async fn seed_sqlite(&self, size: u64) -> BoxResult<()> {
        let started = Instant::now();
        let mut conn = self.sqlite().await?;
        // A 1 GiB page cache for this connection: the indexes on random ids and on
        // `'user' || i` keys take their inserts in no particular order.
        sqlx::query("pragma cache_size = -1048576")
            .execute(&mut conn)
            .await?;
        let mut tx = conn.begin().await?;
        let inserted = sqlx::query(SQLITE_SEED)
            .bind(i64::try_from(size)?)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        assert_eq!(
            inserted, size,
            "seeding inserted {inserted} rows, not {size}"
        );
        // the index of values inside multi-valued attributes, as the store keeps it on writes
        // (the same statement as migrations/sqlite/…_resource_values.sql)
        sqlx::query(
            "insert into resource_values (seq, attribute, value)
             select r.seq, a.key || '.' || f.key, f.value
             from resources r, json_each(r.search) a, json_each(a.value) e, json_each(e.value) f
             where r.resource_type = 'User' and a.type = 'array' and e.type = 'object' and f.type = 'text'",
        )
        .execute(&mut *tx)
        .await?;
        let insert_time = started.elapsed();
        tx.commit().await?;
        let commit_time = started.elapsed() - insert_time;
        conn.close().await?;
        // What the automatic checkpoint would do after the commit: copy the WAL into the
        // database file, so that the measurement does not read through a WAL of every page.
        self.checkpoint().await?;
        println!(
            "seeded {size} users on SQLite in {:.1} s (insert in one transaction {:.1} s, \
             commit {:.1} s, WAL checkpoint {:.1} s; {:.0} MB)",
            started.elapsed().as_secs_f64(),
            insert_time.as_secs_f64(),
            commit_time.as_secs_f64(),
            (started.elapsed() - insert_time - commit_time).as_secs_f64(),
            std::fs::metadata(&self.path).map_or(0.0, |m| m.len() as f64 / 1e6),
        );
        Ok(())
    }

    /// Checks seeded users `users`: `doc` and `search` are [`user_doc`] and [`user_search`],
    /// the shadow columns match, the id is a hyphenated lower-case UUID, the instants plausible.
    pub async fn check_seeded(&self, users: &[u64]) -> BoxResult<()> {
        type Row = (String, String, String, i64, i64, i64, Option<String>, bool);
        for &i in users {
            let name_key = format!("user{i}@example.com");
            let row: Row = match self.backend {
                Backend::Postgres => {
                    let mut conn = self.pg().await?;
                    let row = sqlx::query_as(
                        "select id::text, doc::text, search::text, version,
                                (extract(epoch from created) * 1000)::bigint,
                                (extract(epoch from last_modified) * 1000)::bigint,
                                external_id, active
                         from resources where resource_type = 'User' and name_key = $1",
                    )
                    .bind(&name_key)
                    .fetch_one(&mut conn)
                    .await?;
                    conn.close().await?;
                    row
                }
                Backend::Sqlite => {
                    let mut conn = self.sqlite().await?;
                    let row = sqlx::query_as(
                        "select id, doc, search, version, created, last_modified, external_id,
                                active
                         from resources where resource_type = 'User' and name_key = ?1",
                    )
                    .bind(&name_key)
                    .fetch_one(&mut conn)
                    .await?;
                    conn.close().await?;
                    row
                }
            };
            let (id, doc, search, version, created, last_modified, external_id, active) = row;
            let what = format!("{} user {i}", self.backend);
            let parsed = uuid::Uuid::parse_str(&id)?;
            assert_eq!(id, parsed.hyphenated().to_string(), "{what}: id {id}");
            assert_eq!(
                serde_json::from_str::<Value>(&doc)?,
                user_doc(i),
                "{what}: doc"
            );
            assert_eq!(
                serde_json::from_str::<Value>(&search)?,
                user_search(i),
                "{what}: search"
            );
            assert_eq!(version, 1, "{what}: version");
            assert_eq!(external_id, Some(format!("ext-{i}")), "{what}: external_id");
            assert!(active, "{what}: active");
            let now = chrono::Utc::now().timestamp_millis();
            assert!(
                created == last_modified && created > 1_600_000_000_000 && created <= now + 60_000,
                "{what}: created {created}, last_modified {last_modified} (ms)"
            );
        }
        Ok(())
    }

    /// SQLite: copies the WAL into the database file and truncates it (`wal_checkpoint`), as
    /// the automatic checkpoint would after a bulk change; fails if a reader prevents it.
    pub async fn checkpoint(&self) -> BoxResult<()> {
        let mut conn = self.sqlite().await?;
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("pragma wal_checkpoint(truncate)")
            .fetch_one(&mut conn)
            .await?;
        conn.close().await?;
        if busy != 0 {
            return Err(format!(
                "the WAL checkpoint of {} could not complete",
                self.describe()
            )
            .into());
        }
        Ok(())
    }

    /// `EXPLAIN QUERY PLAN` of each SQLite statement, printed as a tree under its SQL.
    /// Parameters stay unbound (NULL): SQLite plans without looking at their values.
    pub async fn print_sqlite_plans(&self, statements: &[String]) -> BoxResult<()> {
        let mut conn = self.sqlite().await?;
        for sql in statements {
            println!("  {sql}");
            let rows: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("explain query plan {sql}"))
                    .fetch_all(&mut conn)
                    .await?;
            let mut depth = std::collections::HashMap::new();
            for (id, parent, _, detail) in rows {
                let d = depth.get(&parent).map_or(0, |d| d + 1);
                depth.insert(id, d);
                println!("      {}{detail}", "  ".repeat(d));
            }
        }
        conn.close().await?;
        Ok(())
    }
}

/// `target/bench-sqlite`, created if missing, as an absolute path.
fn sqlite_dir() -> BoxResult<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    let dir = std::path::absolute(target.join("bench-sqlite"))?;
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

static CAPTURING: AtomicBool = AtomicBool::new(false);
static CAPTURED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records the statements sqlx logs (target `sqlx::query`) while capturing is on; costs one
/// atomic load per statement otherwise.
struct SqlCapture;

impl<S: Subscriber> Layer<S> for SqlCapture {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if metadata.target() == "sqlx::query" {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        metadata.target() == "sqlx::query" && CAPTURING.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = StatementFields::default();
        event.record(&mut fields);
        let sql = if fields.statement.trim().is_empty() {
            fields.summary
        } else {
            fields.statement
        };
        let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
        CAPTURED.lock().unwrap().push(sql);
    }
}

#[derive(Default)]
struct StatementFields {
    summary: String,
    statement: String,
}

impl Visit for StatementFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => value.clone_into(&mut self.summary),
            "db.statement" => value.clone_into(&mut self.statement),
            _ => {}
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn fmt::Debug) {}
}

/// Installs the statement capture as the global tracing subscriber (it records nothing else).
pub fn install_sql_capture() -> BoxResult<()> {
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(SqlCapture))?;
    Ok(())
}

/// Runs `f`, returning what it returned and the statements scimd sent meanwhile, without
/// repeats, in order.
pub async fn capture_sql<T>(f: impl Future<Output = BoxResult<T>>) -> BoxResult<(T, Vec<String>)> {
    CAPTURED.lock().unwrap().clear();
    CAPTURING.store(true, Ordering::Relaxed);
    let result = f.await;
    // SQLite statements are logged on the connection's worker thread when the statement is
    // finished, which may be just after its rows reached the caller.
    tokio::time::sleep(Duration::from_millis(50)).await;
    CAPTURING.store(false, Ordering::Relaxed);
    let mut sent: Vec<String> = Vec::new();
    for sql in CAPTURED.lock().unwrap().drain(..) {
        if !sent.contains(&sql) {
            sent.push(sql);
        }
    }
    Ok((result?, sent))
}
