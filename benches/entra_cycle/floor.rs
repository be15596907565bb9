//! The stack's floor: what a request costs with nothing of scimd in it. A minimal axum + sqlx
//! server (this benchmark's own binary, started with `SCIMD_BENCH_FLOOR=<database url>`) that
//! runs one statement per request: a prepared select of the stored JSON document by
//! `lower(user_name)` for `GET /scim/v2/Users?filter=…`, one insert of the body for
//! `POST /scim/v2/Users`, with a unique index on `lower(user_name)`. And the same statements
//! straight through sqlx, without HTTP.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sqlx::Connection;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::common::{Backend, BoxResult, Db};
use crate::entra::{upn, user_body};
use crate::http::Sample;

/// The floor server's table, and the table of the raw SQL runs.
const FLOOR_TABLE: &str = "floor_users";
const RAW_TABLE: &str = "raw_users";
/// Database connections of the floor's pool and of the raw SQL pool: scimd's default
/// (`SCIMD_DATABASE_MAX_CONNECTIONS`).
const POOL_SIZE: u32 = 10;
const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// A pool on either store.
#[derive(Clone)]
enum Pool {
    Pg(PgPool),
    Lite(SqlitePool),
}

/// The two statements on `table`.
struct Statements {
    select: String,
    insert: String,
}

impl Statements {
    fn of(pool: &Pool, table: &str) -> Self {
        match pool {
            Pool::Pg(_) => Self {
                select: format!("select doc::text from {table} where lower(user_name) = $1"),
                insert: format!(
                    "insert into {table} (user_name, doc) values ($1::jsonb ->> 'userName', $1::jsonb)"
                ),
            },
            Pool::Lite(_) => Self {
                select: format!("select doc from {table} where lower(user_name) = ?1"),
                insert: format!(
                    "insert into {table} (user_name, doc) values (json_extract(?1, '$.userName'), json(?1))"
                ),
            },
        }
    }
}

impl Pool {
    /// scimd's settings for each store where they matter: WAL and `synchronous=FULL` on SQLite.
    async fn connect(url: &str) -> BoxResult<Self> {
        Ok(if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(5));
            Pool::Lite(
                SqlitePoolOptions::new()
                    .max_connections(POOL_SIZE)
                    .connect_with(options)
                    .await?,
            )
        } else {
            Pool::Pg(
                PgPoolOptions::new()
                    .max_connections(POOL_SIZE)
                    .connect(url)
                    .await?,
            )
        })
    }

    /// The document of the user whose lower-cased userName is `name`.
    async fn select(&self, sql: &str, name: &str) -> sqlx::Result<Option<String>> {
        match self {
            Pool::Pg(p) => sqlx::query_scalar(sql).bind(name).fetch_optional(p).await,
            Pool::Lite(p) => sqlx::query_scalar(sql).bind(name).fetch_optional(p).await,
        }
    }

    /// Inserts `doc`; rows inserted.
    async fn insert(&self, sql: &str, doc: &str) -> sqlx::Result<u64> {
        Ok(match self {
            Pool::Pg(p) => sqlx::query(sql).bind(doc).execute(p).await?.rows_affected(),
            Pool::Lite(p) => sqlx::query(sql).bind(doc).execute(p).await?.rows_affected(),
        })
    }

    async fn execute(&self, sql: &str) -> sqlx::Result<()> {
        match self {
            Pool::Pg(p) => sqlx::query(sql).execute(p).await.map(drop),
            Pool::Lite(p) => sqlx::query(sql).execute(p).await.map(drop),
        }
    }

    async fn close(&self) {
        match self {
            Pool::Pg(p) => p.close().await,
            Pool::Lite(p) => p.close().await,
        }
    }
}

/// A fresh database for the floor and the raw SQL runs: dropped, created, with both tables.
pub async fn prepare(db: &Db) -> BoxResult<()> {
    db.drop_database().await?;
    if db.backend == Backend::Postgres {
        let mut admin = PgConnection::connect(&db.server).await?;
        sqlx::query(&format!("create database {}", db.name))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
    }
    let pool = Pool::connect(&db.url).await?;
    let doc_type = match db.backend {
        Backend::Postgres => "jsonb",
        Backend::Sqlite => "text",
    };
    for table in [FLOOR_TABLE, RAW_TABLE] {
        let ddl = [
            format!("create table {table} (user_name text not null, doc {doc_type} not null)"),
            format!("create unique index {table}_name on {table} (lower(user_name))"),
        ];
        for sql in ddl {
            pool.execute(&sql).await?;
        }
    }
    pool.close().await;
    Ok(())
}

struct Floor {
    pool: Pool,
    statements: Statements,
}

/// The floor server: prints `listening on http://<address>` and serves until killed.
pub async fn serve(url: &str) -> BoxResult<()> {
    let pool = Pool::connect(url).await?;
    let statements = Statements::of(&pool, FLOOR_TABLE);
    let floor = Arc::new(Floor { pool, statements });
    let app = Router::new()
        .route("/scim/v2/Users", get(lookup).post(create))
        .with_state(floor);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

fn scim(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/scim+json")],
        body,
    )
        .into_response()
}

/// `GET /scim/v2/Users?filter=userName eq "<name>"`: the name is what is between the quotes.
async fn lookup(
    State(floor): State<Arc<Floor>>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let Some((_, filter)) = query.iter().find(|(k, _)| k == "filter") else {
        return scim(StatusCode::BAD_REQUEST, "{}".to_owned());
    };
    let (Some(start), Some(end)) = (filter.find('"'), filter.rfind('"')) else {
        return scim(StatusCode::BAD_REQUEST, "{}".to_owned());
    };
    let name = filter[start + 1..end.max(start + 1)].to_lowercase();
    match floor.pool.select(&floor.statements.select, &name).await {
        Ok(Some(doc)) => scim(
            StatusCode::OK,
            format!(r#"{{"schemas":["{LIST_RESPONSE}"],"totalResults":1,"Resources":[{doc}]}}"#),
        ),
        Ok(None) => scim(
            StatusCode::OK,
            format!(r#"{{"schemas":["{LIST_RESPONSE}"],"totalResults":0,"Resources":[]}}"#),
        ),
        Err(e) => scim(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{{\"detail\":{:?}}}", e.to_string()),
        ),
    }
}

/// `POST /scim/v2/Users`: one insert of the body; the answer is the body.
async fn create(State(floor): State<Arc<Floor>>, body: String) -> Response {
    match floor.pool.insert(&floor.statements.insert, &body).await {
        Ok(1) => scim(StatusCode::CREATED, body),
        Ok(n) => scim(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{{\"inserted\":{n}}}"),
        ),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            scim(StatusCode::CONFLICT, "{}".to_owned())
        }
        Err(e) => scim(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{{\"detail\":{:?}}}", e.to_string()),
        ),
    }
}

/// Raw SQL without HTTP: the floor's statements on a pool of the same size.
pub struct RawSql {
    pool: Pool,
    statements: Arc<Statements>,
}

impl RawSql {
    /// The pool stays open across both runs, so that the CPU of its PostgreSQL backends is
    /// counted while they live.
    pub async fn open(db: &Db) -> BoxResult<Self> {
        let pool = Pool::connect(&db.url).await?;
        let statements = Arc::new(Statements::of(&pool, RAW_TABLE));
        Ok(Self { pool, statements })
    }

    pub async fn close(self) {
        self.pool.close().await;
    }

    /// `tasks` tasks inserting Entra's bodies of users `0..n` (`creates`) or selecting them by
    /// name; every row checked.
    pub async fn run(&self, tasks: usize, n: usize, creates: bool) -> BoxResult<Vec<Sample>> {
        let next = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let (pool, statements, next) =
                    (self.pool.clone(), self.statements.clone(), next.clone());
                tokio::spawn(async move {
                    let mut samples = Vec::new();
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= n {
                            return BoxResult::Ok(samples);
                        }
                        if creates {
                            let body = user_body(k);
                            let started = Instant::now();
                            let inserted = pool.insert(&statements.insert, &body).await?;
                            samples.push(Sample::one("insert", started.elapsed()));
                            if inserted != 1 {
                                return Err(format!("insert of user {k}: {inserted} rows").into());
                            }
                        } else {
                            let i = k * 7919 % n;
                            let name = upn(i).to_lowercase();
                            let started = Instant::now();
                            let doc = pool.select(&statements.select, &name).await?;
                            samples.push(Sample::one("select", started.elapsed()));
                            let doc = doc.ok_or_else(|| format!("user {i} not found"))?;
                            let doc: serde_json::Value = serde_json::from_str(&doc)?;
                            if doc["userName"] != upn(i).as_str() {
                                return Err(format!("select of user {i} found {doc}").into());
                            }
                        }
                    }
                })
            })
            .collect();
        let mut samples = Vec::new();
        for h in handles {
            samples.extend(h.await??);
        }
        Ok(samples)
    }
}
