//! What every store must do, whatever the backend: scoping by tenant, compare-and-swap on the
//! version, uniqueness by the database, each failure reported as the fact it is.

use serde_json::json;

use scimd::domain::Tenant;
use scimd::scim::canonical::Document;
use scimd::scim::resource::{ResourceId, Version};
use scimd::scim::schema::ResourceKind;
use scimd::service::now;
use scimd::store::{AnyStore, Missing, Resources, Store, StoreError, Tenants, Unique, Write};

use crate::support::{Backend, TestDb, open_store};

/// A migrated store on a fresh database, with tenant `default`.
struct Fixture {
    _db: TestDb,
    store: AnyStore,
    tenant: Tenant,
}

impl Fixture {
    async fn new(backend: Backend) -> Self {
        let db = TestDb::new(backend).await;
        let store = open_store(&db.url).await;
        store.migrate().await.unwrap();
        let tenant = store.ensure_tenant("default").await.unwrap();
        Self {
            _db: db,
            store,
            tenant,
        }
    }
}

fn doc(user_name: &str) -> Document {
    let serde_json::Value::Object(m) = json!({"userName": user_name}) else {
        unreachable!()
    };
    m
}

fn user<'a>(id: ResourceId, doc: &'a Document) -> Write<'a> {
    Write {
        kind: ResourceKind::User,
        id,
        doc,
        folded: doc,
        now: now(),
        members: None,
        matching: Default::default(),
    }
}

async fn a_replace_at_a_stale_version_is_a_version_mismatch_and_changes_nothing(backend: Backend) {
    let Fixture { store, tenant, .. } = &Fixture::new(backend).await;
    let id = ResourceId::random();
    let (a, b, c) = (doc("a"), doc("b"), doc("c"));
    let created = store.create(tenant.id, user(id, &a)).await.unwrap();
    assert_eq!(created.version, Version(1));
    let replaced = store
        .replace(tenant.id, user(id, &b), Version(1))
        .await
        .unwrap();
    assert_eq!(replaced.version, Version(2));
    let stale = store.replace(tenant.id, user(id, &c), Version(1)).await;
    assert!(
        matches!(
            stale,
            Err(StoreError::VersionMismatch { kind: ResourceKind::User, id: i, expected: Version(1) }) if i == id
        ),
        "{stale:?}"
    );
    let stale = store
        .delete(tenant.id, ResourceKind::User, id, Some(Version(1)))
        .await;
    assert!(
        matches!(stale, Err(StoreError::VersionMismatch { .. })),
        "{stale:?}"
    );
    let read = store.get(tenant.id, ResourceKind::User, id).await.unwrap();
    assert_eq!((read.version, read.doc), (Version(2), b));
}

async fn resources_are_invisible_to_other_tenants(backend: Backend) {
    let Fixture { store, tenant, .. } = &Fixture::new(backend).await;
    let other = store.create_tenant("other").await.unwrap();
    let d = doc("shared");
    let id = ResourceId::random();
    store.create(tenant.id, user(id, &d)).await.unwrap();
    let missing = Missing::Resource {
        kind: ResourceKind::User,
        id,
    };
    assert!(matches!(
        store.get(other.id, ResourceKind::User, id).await,
        Err(StoreError::NotFound(m)) if m == missing
    ));
    assert!(matches!(
        store.delete(other.id, ResourceKind::User, id, None).await,
        Err(StoreError::NotFound(m)) if m == missing
    ));
    // the same userName is free in another tenant, taken in this one
    store
        .create(other.id, user(ResourceId::random(), &d))
        .await
        .unwrap();
    let taken = store
        .create(tenant.id, user(ResourceId::random(), &doc("SHARED")))
        .await;
    assert!(
        matches!(
            &taken,
            Err(StoreError::Uniqueness { rule: Unique::Name(ResourceKind::User), value }) if value == "SHARED"
        ),
        "{taken:?}"
    );
}

crate::on_both_stores!(
    a_replace_at_a_stale_version_is_a_version_mismatch_and_changes_nothing,
    resources_are_invisible_to_other_tenants,
);
