//! An upgrade keeps what a tenant did: a database migrated as an older scimd left it, with a
//! tenant in it, then opened by this one, which runs the migrations still to run: its rules,
//! and the uniqueness of its matching attribute, are kept.

use std::path::Path;

use scimd::domain::{Deprovisioning, OnDelete, Passwords, SoftDeleteRenames};
use scimd::store::{Store, Tenants};
use sqlx::migrate::Migrator;
use sqlx::{Connection, PgConnection, SqliteConnection};

use crate::support::{Backend, TestDb, open_store, pg};

/// The migration that brought the password rule (`migrations/*/20261208000002_passwords.sql`).
const PASSWORDS: i64 = 20261208000002;

/// The migrations of `backend` before `version`, as a scimd older than it runs them.
async fn migrations_before(backend: Backend, version: i64) -> Migrator {
    let dir = match backend {
        Backend::Postgres => "migrations/postgres",
        Backend::Sqlite => "migrations/sqlite",
    };
    let mut migrator = Migrator::new(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .await
        .unwrap();
    let older: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < version)
        .cloned()
        .collect();
    migrator.migrations = older.into();
    migrator
}

async fn tenants_made_before_the_password_rule_keep_ignoring_passwords(backend: Backend) {
    let db = TestDb::new(backend).await;
    let older = migrations_before(backend, PASSWORDS).await;
    let tenant = "insert into tenants (id, name, created) values \
                  ('0b0e5b9e-6f1a-4d5e-8c3b-2a1f0e9d8c7b', 'older', {now})";
    match backend {
        Backend::Postgres => {
            let server = pg::server_url().await;
            let mut admin = PgConnection::connect(server).await.unwrap();
            sqlx::raw_sql(&format!("create database {}", db.name))
                .execute(&mut admin)
                .await
                .unwrap();
            let mut conn = PgConnection::connect(&db.url).await.unwrap();
            older.run(&mut conn).await.unwrap();
            sqlx::raw_sql(&tenant.replace("{now}", "now()"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        Backend::Sqlite => {
            let url = format!("{}?mode=rwc", db.url);
            let mut conn = SqliteConnection::connect(&url).await.unwrap();
            older.run(&mut conn).await.unwrap();
            sqlx::raw_sql(&tenant.replace("{now}", "0"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
    let store = open_store(&db.url).await;
    store.migrate().await.unwrap();
    let kept = store.tenant("older").await.unwrap();
    assert_eq!(
        kept.policy.passwords,
        Passwords::Ignore,
        "a tenant that accepted and dropped passwords keeps doing so after the upgrade"
    );
    let new = store.create_tenant("newer").await.unwrap();
    assert_eq!(new.policy.passwords, Passwords::Reject);
    assert_eq!(
        (
            kept.policy.soft_delete_renames,
            new.policy.soft_delete_renames
        ),
        (SoftDeleteRenames::Keep, SoftDeleteRenames::Keep),
        "existing and new tenants keep names against Entra's soft-delete rename"
    );
    assert_eq!(
        (kept.policy.deprovisioning, new.policy.deprovisioning),
        (Deprovisioning::default(), Deprovisioning::default()),
        "existing and new tenants delete users on DELETE, as before the rule"
    );
    assert_eq!(Deprovisioning::default().on_delete, OnDelete::Delete);
}

crate::on_both_stores!(tenants_made_before_the_password_rule_keep_ignoring_passwords);

/// The migration that brought the matching precedence
/// (`migrations/*/20261210000002_matching_precedence.sql`).
const PRECEDENCE: i64 = 20261210000002;

/// Runs `older` on a new database of `backend`, then `sql` (`{now}`: the dialect's time).
async fn older_database(backend: Backend, older: Migrator, sql: &str) -> TestDb {
    let db = TestDb::new(backend).await;
    match backend {
        Backend::Postgres => {
            let server = pg::server_url().await;
            let mut admin = PgConnection::connect(server).await.unwrap();
            sqlx::raw_sql(&format!("create database {}", db.name))
                .execute(&mut admin)
                .await
                .unwrap();
            let mut conn = PgConnection::connect(&db.url).await.unwrap();
            older.run(&mut conn).await.unwrap();
            let sql = sql.replace("{now}", "now()");
            sqlx::raw_sql(&sql).execute(&mut conn).await.unwrap();
        }
        Backend::Sqlite => {
            let url = format!("{}?mode=rwc", db.url);
            let mut conn = SqliteConnection::connect(&url).await.unwrap();
            older.run(&mut conn).await.unwrap();
            let sql = sql.replace("{now}", "0");
            sqlx::raw_sql(&sql).execute(&mut conn).await.unwrap();
        }
    }
    db
}

async fn a_tenants_single_matching_attribute_stays_unique_after_the_precedence_migration(
    backend: Backend,
) {
    use scimd::domain::{MatchingAttribute, Precedence};
    use scimd::scim::resource::ResourceId;
    use scimd::scim::schema::ResourceKind;
    use scimd::store::{Content, Resources, StoreError, Unique};
    let older = migrations_before(backend, PRECEDENCE).await;
    let user = |tenant: &str, name: &str, external: &str, email: &str, key: &str| {
        let doc = format!(
            r#"{{"userName": "{name}", "externalId": "{external}", "emails": [{{"type": "work", "value": "{email}"}}]}}"#
        );
        format!(
            "insert into resources (tenant_id, id, resource_type, version, created, last_modified,
                 name_key, external_id, doc, search, match_key)
             values ('{tenant}', '{}', 'User', 1, {{now}}, {{now}}, '{name}', '{external}',
                 '{doc}', '{}', {key});",
            uuid::Uuid::new_v4(),
            // the folded copy: the work e-mail in lower case
            doc.replace(email, &email.to_lowercase()),
        )
    };
    let (ext, mail) = (
        "0b0e5b9e-6f1a-4d5e-8c3b-2a1f0e9d8c71",
        "0b0e5b9e-6f1a-4d5e-8c3b-2a1f0e9d8c72",
    );
    let sql = [
        format!(
            "insert into tenants (id, name, created, matching_attribute)
             values ('{ext}', 'ext', {{now}}, 'externalId');"
        ),
        format!(
            "insert into tenants (id, name, created, matching_attribute)
             values ('{mail}', 'mail', {{now}}, 'emails[type eq \"work\"].value');"
        ),
        user(ext, "ada", "E-1", "Ada@x.org", "'E-1'"),
        user(mail, "ada", "E-1", "Ada@x.org", "'ada@x.org'"),
    ]
    .concat();
    let db = older_database(backend, older, &sql).await;
    let store = open_store(&db.url).await;
    store.migrate().await.unwrap();
    for (name, attribute, body, value) in [
        (
            "ext",
            MatchingAttribute::ExternalId,
            r#"{"userName": "bob", "externalId": "E-1"}"#,
            "E-1",
        ),
        (
            "mail",
            MatchingAttribute::WorkEmail,
            r#"{"userName": "bob", "emails": [{"type": "work", "value": "ada@x.org"}]}"#,
            "ada@x.org",
        ),
    ] {
        let tenant = store.tenant(name).await.unwrap();
        assert_eq!(tenant.policy.matching, Precedence::single(attribute));
        let doc: scimd::scim::canonical::Document = serde_json::from_str(body).unwrap();
        let write = Content {
            kind: ResourceKind::User,
            id: ResourceId::random(),
            doc: &doc,
            folded: &doc,
            now: scimd::service::now(),
            members: None,
            matching: tenant.policy.matching,
        };
        let refused = store.create(tenant.id, write.into()).await.unwrap_err();
        assert!(
            matches!(
                &refused,
                StoreError::Uniqueness { rule: Unique::Matching(a), value: v }
                    if *a == attribute && v == value
            ),
            "{name}: {refused:?}"
        );
    }
}

crate::on_both_stores!(
    a_tenants_single_matching_attribute_stays_unique_after_the_precedence_migration
);
