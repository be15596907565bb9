//! The two migrations must build the same schema. A fresh PostgreSQL database and a fresh
//! SQLite file are migrated, each schema is read back from its own catalog and normalised to
//! lines — tables, their columns, unique constraints and unique indexes (primary keys
//! included) as sorted column sets, other indexes as column lists, foreign keys — and the two
//! must be equal except for the intended differences listed below. A drift fails with the
//! lines only one side has. Column types are not compared: they differ by design (`uuid` and
//! text, `timestamptz` and integer milliseconds, `jsonb` and JSON text), and neither are
//! check constraints nor the predicates of partial indexes (only that an index is partial).

use std::collections::BTreeSet;

use sqlx::{Connection, PgConnection, SqliteConnection};

use scimd::store::Store;

use crate::support::{Backend, TestDb, open_store};

/// The migrations' own bookkeeping, which sqlx keeps alike on both.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// What only PostgreSQL has, on purpose.
const POSTGRES_ONLY: &[&str] = &[
    // The GIN index on the folded document that `eq` filters use through containment
    // (`search @> …`, migrations/postgres/…0001_init.sql). SQLite has no JSON index; its
    // `resource_values` table stands in for it.
    "index resources (search) using gin",
];

/// What only SQLite has, on purpose.
const SQLITE_ONLY: &[&str] = &[
    // SQLite's stand-in for the GIN index on `search` (migrations/sqlite/…0002_resource_values.sql):
    // the string values inside multi-valued attributes, one row each.
    "table resource_values",
    "column resource_values.attribute",
    "column resource_values.seq",
    "column resource_values.value",
    "foreign key resource_values (seq) references resources (seq) on delete cascade",
    "index resource_values (attribute, value, seq)",
    "index resource_values (seq)",
    // `seq integer primary key autoincrement`: on SQLite the insertion order is the rowid, and
    // so the primary key; PostgreSQL keeps it in an identity column and its primary keys on
    // the natural keys, which SQLite keeps unique by a constraint instead.
    "unique memberships (seq)",
    "unique resources (seq)",
    // SQLite's own record of AUTOINCREMENT counters.
    "table sqlite_sequence",
    "column sqlite_sequence.name",
    "column sqlite_sequence.seq",
];

/// The tables both must have, so that a catalog read that finds nothing cannot pass.
const SHARED_TABLES: [&str; 4] = [
    "table memberships",
    "table resources",
    "table tenants",
    "table tokens",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migrations_of_both_backends_build_the_same_schema() {
    let pg_db = TestDb::new(Backend::Postgres).await;
    let lite_db = TestDb::new(Backend::Sqlite).await;
    for db in [&pg_db, &lite_db] {
        let store = open_store(&db.url).await;
        store.migrate().await.unwrap();
    }
    let pg = postgres_schema(&pg_db.url).await;
    let lite = sqlite_schema(&lite_db.url).await;
    for table in SHARED_TABLES {
        assert!(pg.contains(table), "PostgreSQL lacks {table}: {pg:#?}");
        assert!(lite.contains(table), "SQLite lacks {table}: {lite:#?}");
    }
    let mut report = String::new();
    drift(&mut report, "PostgreSQL", &pg, &lite, POSTGRES_ONLY);
    drift(&mut report, "SQLite", &lite, &pg, SQLITE_ONLY);
    assert!(
        report.is_empty(),
        "the migrations of PostgreSQL and SQLite drifted apart:\n{report}"
    );
}

/// Appends what `side` has that `other` lacks beyond `intended`, and the intended differences
/// that are no more.
fn drift(
    report: &mut String,
    side: &str,
    schema: &BTreeSet<String>,
    other: &BTreeSet<String>,
    intended: &[&str],
) {
    let intended: BTreeSet<&str> = intended.iter().copied().collect();
    let only: BTreeSet<&str> = schema.difference(other).map(String::as_str).collect();
    let unexpected: Vec<&&str> = only.difference(&intended).collect();
    if !unexpected.is_empty() {
        report.push_str(&format!("  only on {side}:\n"));
        for line in unexpected {
            report.push_str(&format!("    {line}\n"));
        }
    }
    let gone: Vec<&&str> = intended.difference(&only).collect();
    if !gone.is_empty() {
        report.push_str(&format!(
            "  listed as only on {side} but not found so (update the list):\n"
        ));
        for line in gone {
            report.push_str(&format!("    {line}\n"));
        }
    }
}

/// The lines of one schema item.
fn table(name: &str) -> String {
    format!("table {name}")
}

fn column(table: &str, name: &str) -> String {
    format!("column {table}.{name}")
}

/// A unique constraint, unique index or primary key: its columns as a set.
fn unique(table: &str, mut columns: Vec<String>, partial: bool) -> String {
    columns.sort();
    let partial = if partial { " partial" } else { "" };
    format!("unique {table} ({}){partial}", columns.join(", "))
}

/// Any other index: its columns in order, and its method when not a B-tree.
fn index(table: &str, columns: &[String], partial: bool, method: &str) -> String {
    let partial = if partial { " partial" } else { "" };
    let method = match method {
        "btree" => String::new(),
        other => format!(" using {other}"),
    };
    format!("index {table} ({}){partial}{method}", columns.join(", "))
}

fn foreign_key(
    table: &str,
    columns: &[String],
    to: &str,
    to_columns: &[String],
    on_delete: &str,
) -> String {
    format!(
        "foreign key {table} ({}) references {to} ({}) on delete {on_delete}",
        columns.join(", "),
        to_columns.join(", ")
    )
}

/// An index of PostgreSQL's catalog (unique constraints and primary keys are indexes too).
#[derive(sqlx::FromRow)]
struct PgIndex {
    table_name: String,
    is_unique: bool,
    partial: bool,
    method: String,
    columns: Vec<String>,
}

/// A foreign key of PostgreSQL's catalog; `on_delete` is `pg_constraint.confdeltype`.
#[derive(sqlx::FromRow)]
struct PgForeignKey {
    table_name: String,
    columns: Vec<String>,
    target: String,
    target_columns: Vec<String>,
    on_delete: String,
}

/// The schema `public` of a PostgreSQL database, from `information_schema.columns`,
/// `pg_indexes` (with `pg_index` for columns, uniqueness and predicate) and `pg_constraint`.
async fn postgres_schema(url: &str) -> BTreeSet<String> {
    let mut conn = PgConnection::connect(url).await.unwrap();
    let mut out = BTreeSet::new();
    let columns: Vec<(String, String)> = sqlx::query_as(
        "select table_name::text, column_name::text from information_schema.columns
         where table_schema = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for (t, c) in columns.iter().filter(|(t, _)| t != MIGRATIONS_TABLE) {
        out.insert(table(t));
        out.insert(column(t, c));
    }
    let indexes: Vec<PgIndex> = sqlx::query_as(
        "select t.relname::text as table_name, x.indisunique as is_unique,
                x.indpred is not null as partial, am.amname::text as method,
                array(select a.attname::text
                      from unnest(x.indkey::int2[]) with ordinality as k(num, ord)
                      join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.num
                      order by k.ord) as columns
         from pg_indexes p
         join pg_namespace n on n.nspname = p.schemaname
         join pg_class i on i.relname = p.indexname and i.relnamespace = n.oid
         join pg_index x on x.indexrelid = i.oid
         join pg_class t on t.oid = x.indrelid
         join pg_am am on am.oid = i.relam
         where p.schemaname = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for i in indexes
        .into_iter()
        .filter(|i| i.table_name != MIGRATIONS_TABLE)
    {
        out.insert(match i.is_unique {
            true => unique(&i.table_name, i.columns, i.partial),
            false => index(&i.table_name, &i.columns, i.partial, &i.method),
        });
    }
    let keys: Vec<PgForeignKey> = sqlx::query_as(
        "select c.conrelid::regclass::text as table_name,
                c.confrelid::regclass::text as target, c.confdeltype::text as on_delete,
                array(select a.attname::text from unnest(c.conkey) with ordinality as k(num, ord)
                      join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.num
                      order by k.ord) as columns,
                array(select a.attname::text from unnest(c.confkey) with ordinality as k(num, ord)
                      join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.num
                      order by k.ord) as target_columns
         from pg_constraint c join pg_namespace n on n.oid = c.connamespace
         where n.nspname = 'public' and c.contype = 'f'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for k in keys {
        let on_delete = match k.on_delete.as_str() {
            "a" => "no action",
            "r" => "restrict",
            "c" => "cascade",
            "n" => "set null",
            "d" => "set default",
            other => panic!("unknown foreign key action {other}"),
        };
        out.insert(foreign_key(
            &k.table_name,
            &k.columns,
            &k.target,
            &k.target_columns,
            on_delete,
        ));
    }
    out
}

/// The schema of a SQLite file, from `sqlite_master` and the pragmas `table_xinfo` (which,
/// unlike `table_info`, lists generated columns),
/// `index_list`, `index_info` and `foreign_key_list`.
async fn sqlite_schema(url: &str) -> BTreeSet<String> {
    let mut conn = SqliteConnection::connect(url).await.unwrap();
    let mut out = BTreeSet::new();
    let tables: Vec<String> =
        sqlx::query_scalar("select name from sqlite_master where type = 'table' and name <> ?")
            .bind(MIGRATIONS_TABLE)
            .fetch_all(&mut conn)
            .await
            .unwrap();
    for t in tables {
        out.insert(table(&t));
        let columns: Vec<(String, i64)> =
            sqlx::query_as("select name, pk from pragma_table_xinfo(?) order by cid")
                .bind(&t)
                .fetch_all(&mut conn)
                .await
                .unwrap();
        let mut primary: Vec<(i64, String)> = Vec::new();
        for (c, pk) in columns {
            out.insert(column(&t, &c));
            if pk > 0 {
                primary.push((pk, c));
            }
        }
        if !primary.is_empty() {
            primary.sort();
            out.insert(unique(
                &t,
                primary.into_iter().map(|(_, c)| c).collect(),
                false,
            ));
        }
        let indexes: Vec<(String, bool, String, bool)> =
            sqlx::query_as("select name, \"unique\", origin, partial from pragma_index_list(?)")
                .bind(&t)
                .fetch_all(&mut conn)
                .await
                .unwrap();
        // the index of a primary key is the primary key, read above
        for (name, is_unique, _, partial) in indexes.into_iter().filter(|i| i.2 != "pk") {
            let cols: Vec<String> =
                sqlx::query_scalar("select name from pragma_index_info(?) order by seqno")
                    .bind(&name)
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
            out.insert(match is_unique {
                true => unique(&t, cols, partial),
                false => index(&t, &cols, partial, "btree"),
            });
        }
        let keys: Vec<(i64, String, String, String, String)> = sqlx::query_as(
            "select id, \"table\", \"from\", \"to\", on_delete from pragma_foreign_key_list(?)
             order by id, seq",
        )
        .bind(&t)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let mut ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        ids.dedup();
        for id in ids {
            let parts: Vec<_> = keys.iter().filter(|k| k.0 == id).collect();
            let cols: Vec<String> = parts.iter().map(|k| k.2.clone()).collect();
            let to_cols: Vec<String> = parts.iter().map(|k| k.3.clone()).collect();
            let on_delete = parts[0].4.to_lowercase();
            out.insert(foreign_key(&t, &cols, &parts[0].1, &to_cols, &on_delete));
        }
    }
    out
}
