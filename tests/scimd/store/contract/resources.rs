//! Resources and the store itself: create, get, compare-and-swap replace, delete, uniqueness
//! of names, tenant scoping, parallel writers; `ping`, `migrate` and `caches_tokens`.

use scimd::store::Removal;
use serde_json::json;

use scimd::scim::resource::{ResourceId, StoredResource, Version};
use scimd::scim::schema::ResourceKind;
use scimd::store::{Missing, Resources, Store, StoreError, Tenants, Unique};

use super::{Body, Fixture, all_at_once, group, until_tokens_are_cached, user};
use crate::support::{Backend, open_store};

async fn a_created_resource_reads_back_as_written_at_version_one(backend: Backend) {
    let f = Fixture::new(backend).await;
    let body = Body::user(json!({
        "userName": "Alice",
        "externalId": "ext-1",
        "active": true,
        "emails": [{"type": "work", "value": "Alice@Example.com"}]
    }));
    let id = ResourceId::random();
    let write = body.write(id);
    let at = write.now;
    let created = f.store.create(f.tenant.id, write.into()).await.unwrap();
    assert_eq!(
        created,
        StoredResource {
            kind: ResourceKind::User,
            id,
            version: Version(1),
            created: at,
            last_modified: at,
            doc: body.doc.clone(),
        }
    );
    assert_eq!(f.get(&created).await, created);

    let team = f.create(&group("Team")).await;
    assert_eq!(
        (team.kind, team.version, team.doc),
        (ResourceKind::Group, Version(1), group("Team").doc)
    );
}

async fn a_replace_writes_the_next_version_and_keeps_the_creation_time(backend: Backend) {
    let f = Fixture::new(backend).await;
    let created = f.create(&user("alice")).await;
    let renamed = Body::user(json!({"userName": "alice", "title": "Engineer"}));
    let write = renamed.write(created.id);
    let at = write.now;
    let replaced = f
        .store
        .replace(f.tenant.id, write.into(), Version(1))
        .await
        .unwrap();
    assert_eq!(
        replaced,
        StoredResource {
            version: Version(2),
            last_modified: at,
            doc: renamed.doc.clone(),
            ..created.clone()
        }
    );
    assert_eq!(f.get(&created).await, replaced);
}

async fn a_replace_at_a_stale_version_is_a_version_mismatch_and_changes_nothing(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (a, b, c) = (user("a"), user("b"), user("c"));
    let id = ResourceId::random();
    let created = f
        .store
        .create(f.tenant.id, a.write(id).into())
        .await
        .unwrap();
    assert_eq!(created.version, Version(1));
    let replaced = f
        .store
        .replace(f.tenant.id, b.write(id).into(), Version(1))
        .await
        .unwrap();
    assert_eq!(replaced.version, Version(2));
    assert_err!(
        f.store.replace(f.tenant.id, c.write(id).into(), Version(1)).await,
        StoreError::VersionMismatch {
            kind: ResourceKind::User,
            id: i,
            expected: Version(1)
        } if *i == id
    );
    assert_err!(
        f.store
            .delete(f.tenant.id, Removal { kind: ResourceKind::User, id, expected: Some(Version(1)), activity: None })
            .await,
        StoreError::VersionMismatch {
            kind: ResourceKind::User,
            id: i,
            expected: Version(1)
        } if *i == id
    );
    assert_eq!(f.get(&created).await, replaced);
}

async fn a_missing_resource_is_not_found_by_get_replace_and_delete(backend: Backend) {
    let f = Fixture::new(backend).await;
    let nobody = ResourceId::random();
    let missing = Missing::Resource {
        kind: ResourceKind::User,
        id: nobody,
    };
    assert_err!(
        f.store.get(f.tenant.id, ResourceKind::User, nobody).await,
        StoreError::NotFound(m) if *m == missing
    );
    let body = user("nobody");
    assert_err!(
        f.store
            .replace(f.tenant.id, body.write(nobody).into(), Version(1))
            .await,
        StoreError::NotFound(m) if *m == missing
    );
    assert_err!(
        f.store
            .delete(f.tenant.id, Removal { kind: ResourceKind::User, id: nobody, expected: None, activity: None })
            .await,
        StoreError::NotFound(m) if *m == missing
    );
    assert_err!(
        f.store
            .delete(f.tenant.id, Removal { kind: ResourceKind::User, id: nobody, expected: Some(Version(1)), activity: None })
            .await,
        StoreError::NotFound(m) if *m == missing
    );
    // a group is not a user: its id under the other kind is no resource
    let team = f.create(&group("team")).await;
    assert_err!(
        f.store.get(f.tenant.id, ResourceKind::User, team.id).await,
        StoreError::NotFound(Missing::Resource { kind: ResourceKind::User, id }) if *id == team.id
    );
    assert_err!(
        f.store
            .delete(f.tenant.id, Removal { kind: ResourceKind::User, id: team.id, expected: None, activity: None })
            .await,
        StoreError::NotFound(Missing::Resource { kind: ResourceKind::User, id }) if *id == team.id
    );
    assert_eq!(f.get(&team).await, team);
}

async fn a_delete_removes_the_resource_unconditionally_or_at_the_expected_version(
    backend: Backend,
) {
    let f = Fixture::new(backend).await;
    let [alice, bob] = f.users(["alice", "bob"]).await;
    f.store
        .delete(
            f.tenant.id,
            Removal {
                kind: ResourceKind::User,
                id: alice.id,
                expected: None,
                activity: None,
            },
        )
        .await
        .unwrap();
    f.store
        .delete(
            f.tenant.id,
            Removal {
                kind: ResourceKind::User,
                id: bob.id,
                expected: Some(Version(1)),
                activity: None,
            },
        )
        .await
        .unwrap();
    for gone in [&alice, &bob] {
        assert_err!(
            f.store.get(f.tenant.id, ResourceKind::User, gone.id).await,
            StoreError::NotFound(Missing::Resource { kind: ResourceKind::User, id }) if *id == gone.id
        );
    }
    // the name is free again
    let again = f.create(&user("ALICE")).await;
    assert_eq!(again.version, Version(1));
}

async fn names_are_unique_per_kind_in_any_letter_case(backend: Backend) {
    let f = Fixture::new(backend).await;
    let alice = f.create(&user("Alice")).await;
    assert_err!(
        f.store
            .create(f.tenant.id, user("ALICE").write(ResourceId::random()).into())
            .await,
        StoreError::Uniqueness { rule: Unique::Name(ResourceKind::User), value } if value == "ALICE"
    );
    f.create(&group("Admins")).await;
    assert_err!(
        f.store
            .create(f.tenant.id, group("admins").write(ResourceId::random()).into())
            .await,
        StoreError::Uniqueness { rule: Unique::Name(ResourceKind::Group), value } if value == "admins"
    );
    // a user and a group may share a name
    let same = f.create(&group("alice")).await;
    assert_eq!(same.version, Version(1));
    // a replace onto a taken name is refused and changes nothing
    let bob = f.create(&user("bob")).await;
    assert_err!(
        f.store
            .replace(f.tenant.id, user("aLiCe").write(bob.id).into(), Version(1))
            .await,
        StoreError::Uniqueness { rule: Unique::Name(ResourceKind::User), value } if value == "aLiCe"
    );
    assert_eq!(f.get(&bob).await, bob);
    assert_eq!(f.get(&alice).await, alice);
}

async fn resources_are_invisible_to_other_tenants(backend: Backend) {
    let f = Fixture::new(backend).await;
    let other = f.store.create_tenant("other").await.unwrap();
    let shared = user("shared");
    let id = ResourceId::random();
    let mine = f
        .store
        .create(f.tenant.id, shared.write(id).into())
        .await
        .unwrap();
    let missing = Missing::Resource {
        kind: ResourceKind::User,
        id,
    };
    assert_err!(
        f.store.get(other.id, ResourceKind::User, id).await,
        StoreError::NotFound(m) if *m == missing
    );
    assert_err!(
        f.store
            .replace(other.id, user("stolen").write(id).into(), Version(1))
            .await,
        StoreError::NotFound(m) if *m == missing
    );
    assert_err!(
        f.store.delete(other.id, Removal { kind: ResourceKind::User, id, expected: None, activity: None }).await,
        StoreError::NotFound(m) if *m == missing
    );
    assert_eq!(f.get(&mine).await, mine);
    // the same userName is free in another tenant, taken in this one
    f.store
        .create(other.id, shared.write(ResourceId::random()).into())
        .await
        .unwrap();
    assert_err!(
        f.store
            .create(f.tenant.id, user("SHARED").write(ResourceId::random()).into())
            .await,
        StoreError::Uniqueness { rule: Unique::Name(ResourceKind::User), value } if value == "SHARED"
    );
}

/// Compare-and-swap under contention: writers that all read version 1 race to replace it.
async fn parallel_replaces_at_one_version_let_exactly_one_win(backend: Backend) {
    const WRITERS: usize = 8;
    let f = Fixture::new(backend).await;
    let created = f.create(&user("racer")).await;
    let results = all_at_once(WRITERS, |i| {
        let (store, tenant, id) = (f.store.clone(), f.tenant.id, created.id);
        async move {
            let body = Body::user(json!({"userName": "racer", "title": format!("writer {i}")}));
            let written = store
                .replace(tenant, body.write(id).into(), Version(1))
                .await;
            (body, written)
        }
    })
    .await;
    let mut winners = Vec::new();
    for result in results {
        match result {
            (body, Ok(stored)) => winners.push((body, stored)),
            (_, lost) => assert_err!(
                lost,
                StoreError::VersionMismatch {
                    kind: ResourceKind::User,
                    id,
                    expected: Version(1)
                } if *id == created.id
            ),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let (body, stored) = winners.remove(0);
    assert_eq!((stored.version, &stored.doc), (Version(2), &body.doc));
    assert_eq!(f.get(&created).await, stored);
}

/// Uniqueness is the database's: writers racing for one name cannot both pass a check.
async fn parallel_creates_of_one_name_let_exactly_one_win(backend: Backend) {
    const WRITERS: usize = 8;
    let f = Fixture::new(backend).await;
    let results = all_at_once(WRITERS, |i| {
        let (store, tenant) = (f.store.clone(), f.tenant.id);
        async move {
            let body = user(if i % 2 == 0 { "Racer" } else { "racer" });
            let created = store
                .create(tenant, body.write(ResourceId::random()).into())
                .await;
            (body, created)
        }
    })
    .await;
    let mut winners = Vec::new();
    for result in results {
        match result {
            (body, Ok(stored)) => winners.push((body, stored)),
            (body, lost) => assert_err!(
                lost,
                StoreError::Uniqueness { rule: Unique::Name(ResourceKind::User), value }
                    if *value == body.doc["userName"]
            ),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let (body, stored) = winners.remove(0);
    assert_eq!((stored.version, &stored.doc), (Version(1), &body.doc));
    assert_eq!(f.get(&stored).await, stored);
}

async fn the_store_answers_a_ping_and_migrating_again_changes_nothing(backend: Backend) {
    let f = Fixture::new(backend).await;
    f.store.ping().await.unwrap();
    let alice = f.create(&user("alice")).await;
    f.store.migrate().await.unwrap();
    // a second process starting on the same database migrates it again
    let second = open_store(&f.db.url).await;
    second.migrate().await.unwrap();
    second.ping().await.unwrap();
    assert_eq!(
        second
            .get(f.tenant.id, ResourceKind::User, alice.id)
            .await
            .unwrap(),
        alice
    );
    assert_eq!(second.tenants().await.unwrap(), vec![f.tenant.clone()]);
    let bob = user("bob");
    let created = second
        .create(f.tenant.id, bob.write(ResourceId::random()).into())
        .await
        .unwrap();
    assert_eq!(created.version, Version(1));
}

/// Only PostgreSQL can tell every replica that a token changed (`LISTEN`/`NOTIFY`), so only
/// there are valid tokens cached — once its feed is connected, which happens in the
/// background after `open`.
async fn valid_tokens_are_cached_only_where_every_replica_hears_of_changes(backend: Backend) {
    let f = Fixture::new(backend).await;
    until_tokens_are_cached(&f.store, backend).await;
    assert_eq!(f.store.caches_tokens(), backend == Backend::Postgres);
}

crate::on_both_stores!(
    a_created_resource_reads_back_as_written_at_version_one,
    a_replace_writes_the_next_version_and_keeps_the_creation_time,
    a_replace_at_a_stale_version_is_a_version_mismatch_and_changes_nothing,
    a_missing_resource_is_not_found_by_get_replace_and_delete,
    a_delete_removes_the_resource_unconditionally_or_at_the_expected_version,
    names_are_unique_per_kind_in_any_letter_case,
    resources_are_invisible_to_other_tenants,
    parallel_replaces_at_one_version_let_exactly_one_win,
    parallel_creates_of_one_name_let_exactly_one_win,
    the_store_answers_a_ping_and_migrating_again_changes_nothing,
    valid_tokens_are_cached_only_where_every_replica_hears_of_changes,
);
