//! What every store must do, whatever the backend: scoping by tenant, compare-and-swap on the
//! version, uniqueness by the database.

use serde_json::json;

use scimd::scim::canonical::Document;
use scimd::scim::resource::{ResourceId, Version};
use scimd::scim::schema::ResourceKind;
use scimd::service::now;
use scimd::store::{Store, StoreError, Write};

use crate::BACKENDS;
use crate::support::{TestApp, TestDb};

fn doc(user_name: &str) -> Document {
    let serde_json::Value::Object(m) = json!({"userName": user_name}) else {
        unreachable!()
    };
    m
}

#[tokio::test]
async fn a_replace_at_a_stale_version_is_a_version_mismatch_and_changes_nothing() {
    for backend in BACKENDS {
        let app = TestApp::on(TestDb::of(backend).await).await;
        let store = &app.state.directory.store;
        let tenant = app.state.directory.tenant("default").await.unwrap();
        let d = doc("a");
        let id = ResourceId::random();
        let w = |doc| Write {
            kind: ResourceKind::User,
            id,
            doc,
            folded: doc,
            now: now(),
            members: None,
            matching: Default::default(),
        };
        let created = store.create(tenant.id, w(&d)).await.unwrap();
        assert_eq!(created.version, Version(1));
        let d2 = doc("b");
        let replaced = store.replace(tenant.id, w(&d2), Version(1)).await.unwrap();
        assert_eq!(replaced.version, Version(2));
        let d3 = doc("c");
        assert!(matches!(
            store.replace(tenant.id, w(&d3), Version(1)).await,
            Err(StoreError::VersionMismatch)
        ));
        assert!(matches!(
            store
                .delete(tenant.id, ResourceKind::User, id, Some(Version(1)))
                .await,
            Err(StoreError::VersionMismatch)
        ));
        assert_eq!(
            store
                .get(tenant.id, ResourceKind::User, id)
                .await
                .unwrap()
                .doc,
            d2
        );
    }
}

#[tokio::test]
async fn resources_are_invisible_to_other_tenants() {
    for backend in BACKENDS {
        let app = TestApp::on(TestDb::of(backend).await).await;
        let store = &app.state.directory.store;
        let mine = app.state.directory.tenant("default").await.unwrap();
        let other = store.create_tenant("other").await.unwrap();
        let d = doc("shared");
        let id = ResourceId::random();
        store
            .create(
                mine.id,
                Write {
                    kind: ResourceKind::User,
                    id,
                    doc: &d,
                    folded: &d,
                    now: now(),
                    members: None,
                    matching: Default::default(),
                },
            )
            .await
            .unwrap();
        assert!(matches!(
            store.get(other.id, ResourceKind::User, id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.delete(other.id, ResourceKind::User, id, None).await,
            Err(StoreError::NotFound)
        ));
        let copy = ResourceId::random();
        store
            .create(
                other.id,
                Write {
                    kind: ResourceKind::User,
                    id: copy,
                    doc: &d,
                    folded: &d,
                    now: now(),
                    members: None,
                    matching: Default::default(),
                },
            )
            .await
            .unwrap();
        let dup = ResourceId::random();
        let err = store
            .create(
                mine.id,
                Write {
                    kind: ResourceKind::User,
                    id: dup,
                    doc: &d,
                    folded: &d,
                    now: now(),
                    members: None,
                    matching: Default::default(),
                },
            )
            .await;
        assert!(matches!(
            err,
            Err(StoreError::Uniqueness {
                attribute: "userName"
            })
        ));
    }
}
