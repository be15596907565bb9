//! Retained users (`RetainedStore`): a retain moves a user out of `resources` with its
//! memberships gone and its name free, at a version only when asked; the listing pages in the
//! order of deletion; the lookup by `externalId` is exact and tenant-scoped; a restore moves
//! it back at the version and creation time given, refused (and still retained) when its
//! name was taken; the purge deletes what has expired, in batches, across tenants.

use serde_json::json;

use scimd::scim::resource::{ResourceId, Version};
use scimd::scim::schema::ResourceKind;
use scimd::store::{Missing, Removal, Resources, RetainedStore, StoreError, Tenants, Unique};

use super::{Body, Fixture, at, group, member, user};
use crate::support::Backend;

fn removal(id: ResourceId, expected: Option<Version>) -> Removal<'static> {
    Removal {
        kind: ResourceKind::User,
        id,
        expected,
        activity: None,
    }
}

async fn a_retained_user_leaves_resources_and_its_groups_and_frees_its_name(backend: Backend) {
    let f = Fixture::new(backend).await;
    let body = Body::user(json!({"userName": "alice", "externalId": "ext-1"}));
    let alice = f.create(&body).await;
    let team = f.create_group(&group("Team"), &[member(&alice)]).await;
    assert_err!(
        f.store
            .retain(
                f.tenant.id,
                removal(alice.id, Some(Version(7))),
                at(0),
                at(60)
            )
            .await,
        StoreError::VersionMismatch { .. }
    );
    f.store
        .retain(
            f.tenant.id,
            removal(alice.id, Some(Version(1))),
            at(0),
            at(60),
        )
        .await
        .unwrap();
    assert_err!(
        f.store.get(f.tenant.id, ResourceKind::User, alice.id).await,
        StoreError::NotFound(Missing::Resource { .. })
    );
    assert_eq!(f.members(team.id).await, []);
    assert_err!(
        f.store
            .retain(f.tenant.id, removal(alice.id, None), at(1), at(61))
            .await,
        StoreError::NotFound(Missing::Resource { .. })
    );
    let kept = f
        .store
        .retained(f.tenant.id, alice.id.0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            kept.version,
            kept.created,
            kept.deleted_at,
            kept.purge_after
        ),
        (1, alice.created, at(0), at(60))
    );
    assert_eq!(
        (kept.user_name.as_deref(), kept.external_id.as_deref()),
        (Some("alice"), Some("ext-1"))
    );
    assert_eq!(kept.doc, body.doc);
    // the name is free: another alice is created
    let other = f.create(&user("ALICE")).await;
    // the restore of the first collides on it, and leaves it retained
    let write = body.write(alice.id);
    assert_err!(
        f.store
            .restore(f.tenant.id, write.into(), 2, alice.created)
            .await,
        StoreError::Uniqueness {
            rule: Unique::Name(ResourceKind::User),
            ..
        }
    );
    assert!(
        f.store
            .retained(f.tenant.id, alice.id.0)
            .await
            .unwrap()
            .is_some()
    );
    f.store
        .retain(f.tenant.id, removal(other.id, None), at(2), at(62))
        .await
        .unwrap();
    let write = body.write(alice.id);
    let now = write.now;
    let back = f
        .store
        .restore(f.tenant.id, write.into(), 2, alice.created)
        .await
        .unwrap();
    assert_eq!(
        (back.id, back.version, back.created, back.last_modified),
        (alice.id, Version(2), alice.created, now)
    );
    assert_eq!(f.get(&back).await, back);
    assert!(
        f.store
            .retained(f.tenant.id, alice.id.0)
            .await
            .unwrap()
            .is_none()
    );
    // restored once: a second restore finds nothing retained
    assert_err!(
        f.store
            .restore(f.tenant.id, body.write(alice.id).into(), 3, alice.created)
            .await,
        StoreError::NotFound(Missing::Resource { .. })
    );
}

async fn retained_users_page_in_the_order_of_deletion_and_are_found_by_exact_external_id(
    backend: Backend,
) {
    let f = Fixture::new(backend).await;
    let other = f.store.ensure_tenant("other").await.unwrap();
    let mut ids = Vec::new();
    for (n, external) in ["Ext", "ext", "ext"].into_iter().enumerate() {
        let body = Body::user(json!({"userName": format!("u{n}"), "externalId": external}));
        let created = f.create(&body).await;
        let seconds = i64::try_from(n).unwrap();
        f.store
            .retain(f.tenant.id, removal(created.id, None), at(seconds), at(100))
            .await
            .unwrap();
        ids.push(created.id.0);
    }
    let first = f.store.retained_page(f.tenant.id, None, 2).await.unwrap();
    assert_eq!(first.iter().map(|r| r.id).collect::<Vec<_>>(), ids[..2]);
    let last = &first[1];
    let rest = f
        .store
        .retained_page(f.tenant.id, Some((last.deleted_at, last.id)), 2)
        .await
        .unwrap();
    assert_eq!(rest.iter().map(|r| r.id).collect::<Vec<_>>(), ids[2..]);
    assert_eq!(f.store.retained_page(other.id, None, 10).await.unwrap(), []);
    let found = f
        .store
        .retained_by_external_id(f.tenant.id, ResourceKind::User, "ext")
        .await;
    assert_eq!(
        found.unwrap().map(|r| r.id),
        Some(ids[2]),
        "the last deleted"
    );
    let upper = f
        .store
        .retained_by_external_id(f.tenant.id, ResourceKind::User, "Ext")
        .await;
    assert_eq!(
        upper.unwrap().map(|r| r.id),
        Some(ids[0]),
        "compared exactly"
    );
    let none = f
        .store
        .retained_by_external_id(f.tenant.id, ResourceKind::User, "EXT")
        .await;
    assert_eq!(none.unwrap(), None);
    let elsewhere = f
        .store
        .retained_by_external_id(other.id, ResourceKind::User, "ext")
        .await;
    assert_eq!(elsewhere.unwrap(), None);
    assert_eq!(f.store.retained(other.id, ids[0]).await.unwrap(), None);
}

async fn the_purge_deletes_what_expired_in_batches_across_tenants(backend: Backend) {
    let f = Fixture::new(backend).await;
    let other = f.store.ensure_tenant("other").await.unwrap();
    for (tenant, n, purge) in [
        (f.tenant.id, 0, 10),
        (f.tenant.id, 1, 20),
        (other.id, 2, 10),
    ] {
        let body = user(&format!("u{n}"));
        let id = ResourceId::random();
        f.store.create(tenant, body.write(id).into()).await.unwrap();
        f.store
            .retain(tenant, removal(id, None), at(0), at(purge))
            .await
            .unwrap();
    }
    assert_eq!(f.store.purge_retained(at(9), 10).await.unwrap(), []);
    let first = f.store.purge_retained(at(10), 1).await.unwrap();
    let second = f.store.purge_retained(at(10), 1).await.unwrap();
    assert_eq!((first.len(), second.len()), (1, 1));
    let mut tenants = vec![first[0].0, second[0].0];
    tenants.sort_by_key(|t| t.0);
    let mut want = vec![f.tenant.id, other.id];
    want.sort_by_key(|t| t.0);
    assert_eq!(tenants, want);
    assert_eq!(f.store.purge_retained(at(19), 10).await.unwrap(), []);
    assert_eq!(
        f.store
            .retained_page(f.tenant.id, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(f.store.purge_retained(at(20), 10).await.unwrap().len(), 1);
    assert_eq!(
        f.store.retained_page(f.tenant.id, None, 10).await.unwrap(),
        []
    );
    // a deleted tenant takes its retained users with it
    let id = ResourceId::random();
    f.store
        .create(other.id, user("gone").write(id).into())
        .await
        .unwrap();
    f.store
        .retain(other.id, removal(id, None), at(0), at(99))
        .await
        .unwrap();
    f.store.delete_tenant(other.id, 10).await.unwrap();
    assert_eq!(f.store.purge_retained(at(100), 10).await.unwrap(), []);
}

crate::on_both_stores!(
    a_retained_user_leaves_resources_and_its_groups_and_frees_its_name,
    retained_users_page_in_the_order_of_deletion_and_are_found_by_exact_external_id,
    the_purge_deletes_what_expired_in_batches_across_tenants,
);
