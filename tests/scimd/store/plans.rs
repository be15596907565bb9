//! PostgreSQL plans that are right without statistics. scimd keeps its statements prepared and
//! planned once per connection, and the first lookups of Entra's initial cycle run on an empty
//! table that no `ANALYZE` may ever describe. Here the statements of lookups, member changes,
//! the outbox's upkeep and pulled events, exactly as scimd sends them, are prepared with
//! generic plans on the empty table, the table is then filled, and `EXPLAIN ANALYZE` of each
//! cached plan must still probe its index: no sequential scan, no index walk that filters out
//! the directory. SQLite's plans of the lookups by each matching attribute: `sqlite`.

mod sqlite;

use scimd::store::{Content, GroupChange};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, ThreadId};

use serde_json::{Value, json};
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use uuid::Uuid;

use scimd::domain::activity::ActivityFilter;
use scimd::domain::events::{Kinds, NewSubscription};
use scimd::domain::{MatchingAttribute, Precedence, TenantId};
use scimd::scim::canonical::Document;
use scimd::scim::filter;
use scimd::scim::list::{ListQuery, Page, Paging};
use scimd::scim::resource::ResourceId;
use scimd::scim::schema::{Registry, ResourceKind};
use scimd::service::now;
use scimd::store::{
    ActivityStore, AnyStore, EventStore, Groups, MemberChange, MemberInput, Resources, Store,
    StoreError, Tenants,
};

use crate::support::{Backend, TestDb, execute_sql, open_store};

/// The tenant's matching attributes: externalId, then the work email, each with a key column
/// and a unique index of its own.
fn matching() -> Precedence {
    Precedence::new(&[MatchingAttribute::ExternalId, MatchingAttribute::WorkEmail]).unwrap()
}

/// The users the table holds when the second set of plans is made (Entra's first users).
const FIRST: usize = 50;

/// The users the table holds when the plans are checked.
const USERS: usize = 2_000;

/// Statements sqlx logged (target `sqlx::query`) on the capturing thread.
static SENT: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Also record what SQLite's worker threads log (`sqlite`): SQLite runs statements there.
static SQLITE_WORKERS: AtomicBool = AtomicBool::new(false);

/// Records the statements sqlx logs on one thread. It is the process's global subscriber: a
/// thread's own default subscriber missed sqlx's events whenever other tests, on other
/// threads, reached sqlx's logging first (tracing cached "no interest" for the callsite).
struct Capture(ThreadId);

impl<S: Subscriber> Layer<S> for Capture {
    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        metadata.target() == "sqlx::query"
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let worker = SQLITE_WORKERS.load(Ordering::SeqCst)
            && thread::current()
                .name()
                .is_some_and(|n| n.starts_with("sqlx-sqlite-worker"));
        if thread::current().id() != self.0 && !worker {
            return;
        }
        struct Statement(String);
        impl Visit for Statement {
            fn record_str(&mut self, field: &Field, value: &str) {
                if field.name() == "db.statement" {
                    self.0 = value.to_owned();
                }
            }
            fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
        }
        let mut statement = Statement(String::new());
        event.record(&mut statement);
        SENT.lock().unwrap().push(statement.0);
    }
}

/// The statement scimd sent while `f` ran that contains `needle`.
async fn sent<T>(needle: &str, f: impl Future<Output = T>) -> (T, String) {
    SENT.lock().unwrap().clear();
    let out = f.await;
    let sent = std::mem::take(&mut *SENT.lock().unwrap());
    let statement = sent
        .iter()
        .find(|s| s.contains(needle))
        .cloned()
        .unwrap_or_else(|| panic!("scimd sent no statement with '{needle}', only {sent:?}"));
    (out, statement)
}

/// A lookup as the service asks it of a tenant matched on the work email.
fn lookup(registry: &Registry, text: &str) -> ListQuery {
    let rt = registry.resource_type(ResourceKind::User).unwrap();
    let filter = filter::compile(rt, registry.common(), text).unwrap();
    ListQuery {
        email_key: matching().email_fixed_by(&filter).map(str::to_owned),
        filter: Some(filter),
        sort: None,
        with_groups: true,
        paging: Paging::Index(Page {
            start_index: 1,
            count: 1,
        }),
    }
}

fn doc(value: Value) -> Document {
    let Value::Object(m) = value else {
        unreachable!()
    };
    m
}

async fn create(store: &AnyStore, tenant: TenantId, kind: ResourceKind, body: Value) -> ResourceId {
    let (id, d) = (ResourceId::random(), doc(body));
    let write = Content {
        kind,
        id,
        doc: &d,
        folded: &d,
        now: now(),
        members: None,
        matching: matching(),
    };
    store.create(tenant, write.into()).await.unwrap().id
}

fn member(id: ResourceId) -> MemberInput {
    MemberInput { id, display: None }
}

async fn change(
    store: &AnyStore,
    tenant: TenantId,
    group: ResourceId,
    change: MemberChange,
) -> Result<(), StoreError> {
    store
        .update_group(
            tenant,
            GroupChange {
                group,
                content: None,
                expected: None,
                changes: &[change],
                now: now(),
                activity: None,
            },
        )
        .await
        .map(drop)
}

/// A statement prepared on `conn` as scimd's connections prepare theirs.
struct Prepared {
    name: String,
    what: &'static str,
    /// The indexes its plan may probe (at least one of them).
    index: &'static [&'static str],
}

/// Checks one cached plan: `EXPLAIN ANALYZE` of `execute` with `args`, rolled back.
async fn check(conn: &mut PgConnection, p: &Prepared, args: &str) {
    sqlx::raw_sql("begin").execute(&mut *conn).await.unwrap();
    let (plan,): (Value,) = sqlx::query_as(&format!(
        "explain (analyze, format json) execute {}({args})",
        p.name
    ))
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    sqlx::raw_sql("rollback").execute(&mut *conn).await.unwrap();
    let mut nodes = Vec::new();
    collect(&plan[0]["Plan"], &mut nodes);
    let seq_scans: Vec<&Value> = nodes
        .iter()
        .filter(|n| n["Node Type"] == "Seq Scan")
        .copied()
        .collect();
    assert!(
        seq_scans.is_empty(),
        "{}: a sequential scan: {plan:#}",
        p.what
    );
    let filtered = nodes
        .iter()
        .flat_map(|n| {
            [
                &n["Rows Removed by Filter"],
                &n["Rows Removed by Join Filter"],
            ]
        })
        .filter_map(Value::as_u64)
        .max()
        .unwrap_or(0);
    assert!(
        filtered < 10,
        "{}: {filtered} rows filtered out: {plan:#}",
        p.what
    );
    assert!(
        nodes
            .iter()
            .any(|n| p.index.iter().any(|index| n["Index Name"] == *index)),
        "{}: probes none of {:?}: {plan:#}",
        p.what,
        p.index
    );
}

fn collect<'a>(node: &'a Value, out: &mut Vec<&'a Value>) {
    out.push(node);
    for child in node["Plans"].as_array().into_iter().flatten() {
        collect(child, out);
    }
}

/// A statement scimd sent, what it is for, and the indexes its plan may probe.
type Statement = (&'static str, String, &'static [&'static str]);

/// The statements of lookups, reads and member changes, as scimd sends them now.
async fn statements(
    store: &AnyStore,
    tenant: TenantId,
    registry: &Registry,
    group: ResourceId,
) -> Vec<Statement> {
    let mut statements = Vec::new();
    for (what, filter, index) in [
        (
            "userName lookup",
            "userName eq \"u1500\"",
            &["resources_name_key"][..],
        ),
        (
            "externalId lookup",
            "externalId eq \"e1500\"",
            &["resources_external_id"],
        ),
        (
            "work email lookup",
            "emails[type eq \"work\"].value eq \"u1500@x.org\"",
            &["resources_email_key"],
        ),
    ] {
        let (_, sql) = sent(
            "limit",
            store.list(tenant, ResourceKind::User, &lookup(registry, filter)),
        )
        .await;
        statements.push((what, sql, index));
    }
    let someone = ResourceId::random();
    let (_, get) = sent(
        "from resources",
        store.get(tenant, ResourceKind::User, someone),
    )
    .await;
    statements.push(("read by id", get, &["resources_pkey"]));
    let (_, members) = sent("from memberships", store.members(tenant, &[group])).await;
    statements.push(("a group's members", members, &["memberships_pkey"]));
    let (_, groups_of) = sent("from memberships", store.groups_of(tenant, &[someone])).await;
    statements.push(("a user's groups", groups_of, &["memberships_member"]));
    let add = MemberChange::Add(vec![member(someone)]);
    let (_, check_members) = sent("from unnest", change(store, tenant, group, add)).await;
    statements.push((
        "the check of added members",
        check_members,
        &["resources_pkey"],
    ));
    let remove = MemberChange::Remove(vec![someone]);
    let (_, remove) = sent(
        "delete from memberships",
        change(store, tenant, group, remove),
    )
    .await;
    let either = &["memberships_pkey", "memberships_member"];
    statements.push(("a member's removal", remove, either));
    let (_, prune) = sent("delete from events", store.prune_events(now(), 1000)).await;
    statements.push(("pruning the outbox", prune, &["deliveries_seq"]));
    let park = store.park_paused(now(), now(), "paused", 1000);
    let (_, park) = sent("update deliveries set state = 'parked'", park).await;
    statements.push(("parking a paused queue", park, &["deliveries_pkey"]));
    let newest = ActivityFilter {
        limit: 101,
        ..Default::default()
    };
    let after = Some((now(), Uuid::nil()));
    let (_, page) = sent("from activity", store.activity_page(tenant, &newest, after)).await;
    statements.push((
        "a page of the activity after a cursor",
        page,
        &["activity_keyset"],
    ));
    let probe = store.stamp_events(tenant, 1000);
    let (_, probe) = sent("position is null limit 1", probe).await;
    statements.push(("asking for events to stamp", probe, &["events_unstamped"]));
    statements.push((
        "stamping pulled events",
        stamping_statement().await,
        &["events_unstamped"],
    ));
    let pulled = store.stamped_events(tenant, Kinds::ALL, 0, 100);
    let (_, pulled) = sent("select position, seq", pulled).await;
    statements.push((
        "pulled events after a position",
        pulled,
        &["events_position"],
    ));
    statements
}

/// The arguments of [`statements`], in their order (`paused`: the paused subscription).
fn arguments(tenant: TenantId, user: ResourceId, group: ResourceId, paused: Uuid) -> Vec<String> {
    let t = format!("'{}'", tenant.0);
    let work_email = json!({"emails": [{"type": "work", "value": "u1500@x.org"}]});
    vec![
        format!("{t}, 'User', 'u1500', 2, 0"),
        format!("{t}, 'User', 'e1500', 2, 0"),
        format!("{t}, 'u1500@x.org', '{work_email}', 2, 0"),
        format!("{t}, '{user}', 'User'"),
        format!("{t}, '{group}'"),
        format!("{t}, '{user}'"),
        format!("{t}, '{{{user}}}'"),
        format!("{t}, '{group}', '{user}'"),
        "now(), 1000".to_owned(),
        format!("'{paused}', now(), 'paused', now(), 1000"),
        format!("{t}, now(), now(), '{}', 101", Uuid::nil()),
        t.clone(),
        format!("{t}, 0, 1000"),
        format!("{t}, 0, 63, 100"),
    ]
}

/// The statement that stamps events, as scimd sends it: sent only when there are events to
/// stamp, so it is made to send it on a database of its own, whose event would change how
/// the other statements are planned here.
async fn stamping_statement() -> String {
    let db = TestDb::new(Backend::Postgres).await;
    let store = open_store(&db.url).await;
    store.migrate().await.unwrap();
    let tenant = store.ensure_tenant("default").await.unwrap().id;
    let event = format!(
        "insert into events (id, tenant_id, at, txn, resource_type, resource_id, kinds)
         values (gen_random_uuid(), '{}', now(), 'txn', 'User', gen_random_uuid(), 1)",
        tenant.0
    );
    execute_sql(&db, &[event]).await;
    let stamp = store.stamp_events(tenant, 1000);
    sent("update events set position", stamp).await.1
}

/// A paused subscription of `tenant`, so that parking sends its statements.
async fn paused_subscription(store: &AnyStore, tenant: TenantId) -> Uuid {
    let new = NewSubscription {
        tenant,
        url: "http://127.0.0.1:9/".into(),
        kinds: Kinds::ALL,
        full: false,
        secret: "secret".into(),
        pull: false,
    };
    let id = store.add_subscription(&new, now()).await.unwrap().id;
    store.set_paused(id, true).await.unwrap();
    id
}

/// An outbox of `USERS` events a month old, every other one still queued for the paused
/// subscription `s`: pruning must ask about each event with a probe of `deliveries_seq`, and
/// parking about each of the subscription's deliveries by its key.
async fn fill_outbox(db: &TestDb, tenant: TenantId, s: Uuid) {
    let t = tenant.0;
    execute_sql(
        db,
        &[
            format!(
                "insert into events (id, tenant_id, at, txn, resource_type, resource_id, kinds)
                 select gen_random_uuid(), '{t}', now() - interval '30 days', 'txn', 'User',
                        gen_random_uuid(), 1
                 from generate_series(1, {USERS})"
            ),
            format!(
                "insert into deliveries (subscription_id, seq)
                 select '{s}', seq from events where seq % 2 = 0"
            ),
        ],
    )
    .await;
}

/// Prepares `statements` on a new connection as scimd's connections do, and has PostgreSQL
/// make and keep their generic plans now, on the table as it is.
async fn plan_now(
    url: &str,
    statements: Vec<Statement>,
    args: &[String],
) -> (PgConnection, Vec<Prepared>) {
    let mut conn = PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql("set plan_cache_mode = force_generic_plan")
        .execute(&mut conn)
        .await
        .unwrap();
    let mut prepared = Vec::new();
    for (i, ((what, sql, index), args)) in statements.into_iter().zip(args).enumerate() {
        let name = format!("p{i}");
        sqlx::raw_sql(&format!(
            "prepare {name} as {sql}; explain execute {name}({args})"
        ))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}: {sql}"));
        prepared.push(Prepared { name, what, index });
    }
    (conn, prepared)
}

#[tokio::test] // one thread, so that the statements scimd sends are logged on this one
async fn plans_made_on_an_empty_or_small_directory_stay_index_probes_once_it_is_filled() {
    let capture = tracing_subscriber::registry().with(Capture(thread::current().id()));
    tracing::subscriber::set_global_default(capture).expect("no other test sets a subscriber");
    let db = TestDb::new(Backend::Postgres).await;
    let store = open_store(&db.url).await;
    store.migrate().await.unwrap();
    let tenant = store.ensure_tenant("default").await.unwrap().id;
    store.set_matching(tenant, matching()).await.unwrap();
    let registry = Registry::new().unwrap();
    let group = create(
        &store,
        tenant,
        ResourceKind::Group,
        json!({"displayName": "big"}),
    )
    .await;
    let paused = paused_subscription(&store, tenant).await;
    let not_yet = arguments(tenant, ResourceId::random(), group, paused);

    // plans made while the table is empty, then with the first users of Entra's cycle
    let sent_now = statements(&store, tenant, &registry, group).await;
    let empty = plan_now(&db.url, sent_now, &not_yet).await;
    let mut users = Vec::new();
    let add_users = async |range: std::ops::Range<usize>| {
        let mut added = Vec::new();
        for i in range {
            let body = json!({"userName": format!("u{i}"), "externalId": format!("e{i}"),
                              "emails": [{"type": "work", "value": format!("u{i}@x.org")}]});
            added.push(create(&store, tenant, ResourceKind::User, body).await);
        }
        for batch in added.chunks(1000) {
            let add = MemberChange::Add(batch.iter().copied().map(member).collect());
            change(&store, tenant, group, add).await.unwrap();
        }
        added
    };
    users.extend(add_users(0..FIRST).await);
    let sent_now = statements(&store, tenant, &registry, group).await;
    let small = plan_now(&db.url, sent_now, &not_yet).await;

    // the directory Entra's initial cycle leaves
    users.extend(add_users(FIRST..USERS).await);
    fill_outbox(&db, tenant, paused).await;
    let args = arguments(tenant, users[1500], group, paused);
    for (mut conn, prepared) in [empty, small] {
        for (p, args) in prepared.iter().zip(&args) {
            check(&mut conn, p, args).await;
        }
    }
    sqlite::lookups_use_their_indexes(&registry).await;
}
