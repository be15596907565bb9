//! The shelf against real pools: SQLite in memory (each connection its own database), and the
//! PostgreSQL server the tests use (`SCIMD_TEST_DATABASE_URL`, else 127.0.0.1:5432 as user
//! postgres; a test fails when it does not answer).

use std::time::Duration;

use sqlx::pool::PoolOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use super::{Conns, FRESH, Lease, ROUNDS};
use crate::store::dialect::{Dialect, Record};
use crate::store::postgres::Pg;
use crate::store::sqlite::Lite;
use crate::store::statement::Sql;

/// Long enough that a test which gets its connection only when the pool gives up fails
/// instead of passing slowly.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// What handing over a connection at once may take at most, on a loaded machine.
const PROMPTLY: Duration = Duration::from_secs(10);

/// The server the tests use.
fn pg_options() -> PgConnectOptions {
    let url = std::env::var("SCIMD_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    url.parse().expect("the test server's URL")
}

/// A pool of at most `max` connections to the server the tests use.
async fn pg_conns(options: PgConnectOptions, max: u32) -> Conns<Pg> {
    let pool = PoolOptions::new()
        .max_connections(max)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .expect("the PostgreSQL server the tests use answers");
    Conns::new(pool)
}

/// A database the shelf is tried on.
trait Backend: Dialect {
    /// A pool of at most `max` connections.
    async fn conns(max: u32) -> Conns<Self>;
    /// A pool of one connection on a database of its own, which the caller may migrate.
    async fn fresh() -> Conns<Self>;
    /// Removes the database of [`Backend::fresh`].
    async fn forget(conns: Conns<Self>);
    /// Statements after which the last one's `id` column names the connection.
    const IDENTITY: &[&str];
}

impl Backend for Pg {
    async fn conns(max: u32) -> Conns<Self> {
        pg_conns(pg_options(), max).await
    }
    async fn fresh() -> Conns<Self> {
        let name = format!("scimd_conns_{}", uuid::Uuid::new_v4().simple());
        let admin = Self::conns(1).await;
        let mut conn = admin.acquire().await.expect("a connection");
        let create = Sql::new(format!("create database {name}"));
        Self::execute(&mut conn, create)
            .await
            .expect("a database of its own");
        pg_conns(pg_options().database(&name), 1).await
    }
    async fn forget(conns: Conns<Self>) {
        let mut conn = conns.acquire().await.expect("a connection");
        let row = Self::fetch_optional(&mut conn, Sql::new("select current_database() as name"))
            .await
            .expect("runs");
        let name = row
            .expect("one row")
            .text("name")
            .expect("text")
            .expect("a name");
        drop(conn);
        conns.inner.pool.close().await;
        let admin = Self::conns(1).await;
        let mut conn = admin.acquire().await.expect("a connection");
        let sql = Sql::new(format!("drop database {name} with (force)"));
        Self::execute(&mut conn, sql).await.expect("dropped");
    }
    const IDENTITY: &[&str] = &["select pg_backend_pid()::bigint as id"];
}

impl Backend for Lite {
    async fn conns(max: u32) -> Conns<Self> {
        let options: SqliteConnectOptions = "sqlite::memory:".parse().expect("in memory");
        let pool = PoolOptions::new()
            .max_connections(max)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .expect("SQLite in memory");
        Conns::new(pool)
    }
    async fn fresh() -> Conns<Self> {
        Self::conns(1).await
    }
    async fn forget(_: Conns<Self>) {}
    const IDENTITY: &[&str] = &[
        "create table if not exists me as select abs(random()) as id",
        "select id from me",
    ];
}

/// Which connection `conn` is.
async fn identity<D: Backend>(conn: &mut Lease<'_, D>) -> i64 {
    let (last, first) = D::IDENTITY.split_last().expect("at least one statement");
    for statement in first {
        D::execute(conn, Sql::new(*statement)).await.expect("runs");
    }
    let row = D::fetch_optional(conn, Sql::new(*last))
        .await
        .expect("runs");
    row.expect("one row").int("id").expect("an integer")
}

fn shelved<D: Dialect>(conns: &Conns<D>) -> usize {
    conns.shelf().idle.len()
}

macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn postgres() {
                    super::$name::<crate::store::postgres::Pg>().await
                }

                #[tokio::test]
                async fn sqlite() {
                    super::$name::<crate::store::sqlite::Lite>().await
                }
            }
        )+
    };
}

on_both!(
    a_connection_whose_statements_finished_is_lent_again_from_the_shelf_not_the_pool,
    a_lease_dropped_without_done_goes_back_through_the_pool_and_its_check,
    every_thirty_second_return_goes_through_the_pool,
    a_caller_waiting_in_the_pool_gets_the_connection_returned_clean_while_it_waits,
    a_write_transaction_gets_the_shelved_connection_when_the_pool_has_no_other,
    the_migrations_get_the_shelved_connection_when_the_pool_has_no_other,
    a_connection_shelved_longer_than_a_second_goes_back_through_the_pool_before_use,
);

async fn a_connection_whose_statements_finished_is_lent_again_from_the_shelf_not_the_pool<
    D: Backend,
>() {
    let conns = D::conns(2).await;
    let mut first = conns.acquire().await.expect("a connection");
    let who = identity(&mut first).await;
    first.done();
    assert_eq!(shelved(&conns), 1);
    assert_eq!(conns.inner.pool.num_idle(), 0, "not returned to the pool");
    assert_eq!(conns.stats(), (1, 1), "counted idle all the same");

    let mut again = conns.acquire().await.expect("a connection");
    assert_eq!(shelved(&conns), 0);
    assert_eq!(identity(&mut again).await, who, "the same connection");
    assert_eq!(again.rounds, 1);
    assert_eq!(conns.stats(), (1, 0));
}

async fn a_lease_dropped_without_done_goes_back_through_the_pool_and_its_check<D: Backend>() {
    let conns = D::conns(2).await;
    let mut lease = conns.acquire().await.expect("a connection");
    let who = identity(&mut lease).await;
    drop(lease);
    assert_eq!(shelved(&conns), 0);
    // sqlx checks it in a task of its own, then puts it back
    tokio::time::timeout(PROMPTLY, async {
        while conns.inner.pool.num_idle() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("back in the pool");
    let mut again = conns.acquire().await.expect("a connection");
    assert_eq!(identity(&mut again).await, who, "the pool lends it again");
    assert_eq!(again.rounds, 0, "from the pool, not the shelf");
}

async fn every_thirty_second_return_goes_through_the_pool<D: Backend>() {
    let conns = D::conns(1).await;
    for round in 1..ROUNDS {
        let lease = conns.acquire().await.expect("a connection");
        assert_eq!(lease.rounds, round - 1);
        lease.done();
        assert_eq!(shelved(&conns), 1, "return {round} is shelved");
    }
    let lease = conns.acquire().await.expect("a connection");
    lease.done();
    assert_eq!(shelved(&conns), 0, "return {ROUNDS} goes through the pool");
    let lease = tokio::time::timeout(PROMPTLY, conns.acquire())
        .await
        .expect("the pool has it back")
        .expect("a connection");
    assert_eq!(lease.rounds, 0);
}

async fn a_caller_waiting_in_the_pool_gets_the_connection_returned_clean_while_it_waits<
    D: Backend,
>() {
    let conns = D::conns(1).await;
    let mut held = conns.acquire().await.expect("the only connection");
    let who = identity(&mut held).await;
    let waiter = tokio::spawn({
        let conns = conns.clone();
        async move {
            let mut lease = conns.acquire().await.expect("a connection");
            identity(&mut lease).await
        }
    });
    tokio::time::timeout(PROMPTLY, async {
        while conns.shelf().waiting == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the second caller waits in the pool");
    held.done();
    assert_eq!(shelved(&conns), 0, "not shelved while someone waits");
    let got = tokio::time::timeout(PROMPTLY, waiter)
        .await
        .expect("handed over at once, not when the pool gives up")
        .expect("the waiter's task");
    assert_eq!(got, who);
    assert_eq!(conns.shelf().waiting, 0);
}

async fn a_write_transaction_gets_the_shelved_connection_when_the_pool_has_no_other<D: Backend>() {
    let conns = D::conns(1).await;
    let mut lease = conns.acquire().await.expect("the only connection");
    let who = identity(&mut lease).await;
    lease.done();
    assert_eq!(shelved(&conns), 1);
    let mut tx = tokio::time::timeout(PROMPTLY, conns.begin_write())
        .await
        .expect("the shelved connection goes back to the pool for it")
        .expect("a transaction");
    let (select, _) = D::IDENTITY.split_last().expect("a statement");
    let row = D::fetch_optional(&mut tx, Sql::new(*select))
        .await
        .expect("runs");
    assert_eq!(row.expect("one row").int("id").expect("an integer"), who);
    tx.commit().await.expect("commits");
    assert_eq!(conns.shelf().waiting, 0);
}

async fn the_migrations_get_the_shelved_connection_when_the_pool_has_no_other<D: Backend>() {
    let conns = D::fresh().await;
    let lease = conns.acquire().await.expect("the only connection");
    lease.done();
    assert_eq!(shelved(&conns), 1);
    tokio::time::timeout(PROMPTLY, conns.migrate())
        .await
        .expect("the shelved connection goes back to the pool for them")
        .expect("the migrations run");
    let mut lease = conns.acquire().await.expect("a connection");
    let row = D::fetch_optional(&mut lease, Sql::new("select count(*) as n from tenants"))
        .await
        .expect("the migrated schema");
    assert_eq!(row.expect("one row").int("n").expect("a count"), 0);
    assert_eq!(conns.shelf().waiting, 0);
    drop(lease);
    D::forget(conns).await;
}

async fn a_connection_shelved_longer_than_a_second_goes_back_through_the_pool_before_use<
    D: Backend,
>() {
    let conns = D::conns(1).await;
    let lease = conns.acquire().await.expect("a connection");
    lease.done();
    tokio::time::sleep(FRESH + Duration::from_millis(100)).await;
    let mut lease = tokio::time::timeout(PROMPTLY, conns.acquire())
        .await
        .expect("the pool has it back after its check")
        .expect("a connection");
    assert_eq!(lease.rounds, 0, "lent by the pool, not the shelf");
    assert_eq!(shelved(&conns), 0);
    identity(&mut lease).await;
}

#[tokio::test]
async fn a_postgresql_connection_whose_server_side_ended_while_shelved_is_replaced_before_use() {
    let conns = Pg::conns(1).await;
    let mut lease = conns.acquire().await.expect("a connection");
    let who = identity(&mut lease).await;
    lease.done();
    let killer = Pg::conns(1).await;
    let mut other = killer.acquire().await.expect("a second connection");
    let sql = Sql::new("select pg_terminate_backend($1::int) as ended").arg(who);
    let row = Pg::fetch_optional(&mut other, sql).await.expect("runs");
    assert!(row.expect("one row").flag("ended").expect("a flag"));
    tokio::time::sleep(FRESH + Duration::from_millis(100)).await;
    let mut lease = conns.acquire().await.expect("a new connection");
    assert_ne!(identity(&mut lease).await, who);
}
