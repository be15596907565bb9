//! `update_group`, member change by member change: `Add` (re-adding is no change and keeps the
//! version), `Remove` (only those named), `RemoveAll`, `Replace`, with a document change or
//! without, at an expected version or not; unknown members and groups; parallel changes.

use scimd::store::{Content, GroupChange};
use std::collections::BTreeSet;

use serde_json::json;

use scimd::scim::resource::{ResourceId, StoredResource, Version};
use scimd::scim::schema::ResourceKind;
use scimd::service::now;
use scimd::store::{Groups, MemberChange, MemberInput, Missing, Resources, StoreError};

use super::{
    Body, Fixture, all_at_once, group, group_ref, member, member_shown, read_members, user,
};
use crate::support::Backend;

async fn adding_members_again_is_no_change_and_keeps_the_version(backend: Backend) {
    let f = Fixture::new(backend).await;
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let team = f
        .create_group(
            &group("Team"),
            &[member(&alice), member_shown(&bob, "Bobby")],
        )
        .await;
    for expected in [None, Some(Version(1))] {
        let again = f
            .change(
                &team,
                expected,
                &[
                    MemberChange::Add(vec![member(&bob), member_shown(&alice, "Other")]),
                    MemberChange::Add(vec![]),
                ],
            )
            .await
            .unwrap();
        assert_eq!(again, team, "re-adding at {expected:?}");
    }
    assert_eq!(f.get(&team).await, team);
    assert_eq!(
        f.members(team.id).await,
        read_members(&[(&alice, "alice"), (&bob, "Bobby")])
    );
    // a member named twice in one change is added once, with the first display
    let carol = f.create(&user("carol")).await;
    let added = f
        .change(
            &team,
            None,
            &[MemberChange::Add(vec![
                member_shown(&carol, "first"),
                member_shown(&carol, "second"),
            ])],
        )
        .await
        .unwrap();
    assert_eq!(added.version, Version(2));
    assert_eq!(
        f.members(team.id).await,
        read_members(&[(&alice, "alice"), (&bob, "Bobby"), (&carol, "first")])
    );
}

async fn removing_members_removes_only_those_named(backend: Backend) {
    let f = Fixture::new(backend).await;
    let [alice, bob, carol, dave] = f.users(["alice", "bob", "carol", "dave"]).await;
    let team = f
        .create_group(
            &group("Team"),
            &[member(&alice), member(&bob), member(&carol)],
        )
        .await;
    let removed = f
        .change(
            &team,
            Some(Version(1)),
            &[MemberChange::Remove(vec![bob.id])],
        )
        .await
        .unwrap();
    assert_eq!(removed.version, Version(2));
    assert_eq!(
        f.members(team.id).await,
        read_members(&[(&alice, "alice"), (&carol, "carol")])
    );
    // neither a non-member nor an id of nothing removes anything: no change, same version
    let unchanged = f
        .change(
            &team,
            None,
            &[MemberChange::Remove(vec![
                dave.id,
                ResourceId::random(),
                bob.id,
            ])],
        )
        .await
        .unwrap();
    assert_eq!(unchanged, removed);
    assert_eq!(
        f.members(team.id).await,
        read_members(&[(&alice, "alice"), (&carol, "carol")])
    );
    assert_eq!(f.groups_of(bob.id).await, []);
}

async fn removing_all_members_empties_the_group(backend: Backend) {
    let f = Fixture::new(backend).await;
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let team = f
        .create_group(&group("Team"), &[member(&alice), member(&bob)])
        .await;
    let emptied = f
        .change(&team, Some(Version(1)), &[MemberChange::RemoveAll])
        .await
        .unwrap();
    assert_eq!(emptied.version, Version(2));
    assert_eq!(f.members(team.id).await, []);
    assert_eq!(f.groups_of(alice.id).await, []);
    // emptying an empty group is no change
    let again = f
        .change(&team, None, &[MemberChange::RemoveAll])
        .await
        .unwrap();
    assert_eq!(again, emptied);
    // the users are untouched
    assert_eq!(f.get(&alice).await, alice);
}

async fn replacing_members_sets_exactly_the_new_list_in_its_order(backend: Backend) {
    let f = Fixture::new(backend).await;
    let [alice, bob, carol] = f.users(["alice", "bob", "carol"]).await;
    let team = f
        .create_group(&group("Team"), &[member(&alice), member(&bob)])
        .await;
    let replaced = f
        .change(
            &team,
            Some(Version(1)),
            &[MemberChange::Replace(vec![
                member(&carol),
                member_shown(&alice, "Ally"),
            ])],
        )
        .await
        .unwrap();
    assert_eq!(replaced.version, Version(2));
    assert_eq!(
        f.members(team.id).await,
        read_members(&[(&carol, "carol"), (&alice, "Ally")])
    );
    assert_eq!(f.groups_of(bob.id).await, []);
    let emptied = f
        .change(&team, None, &[MemberChange::Replace(vec![])])
        .await
        .unwrap();
    assert_eq!(emptied.version, Version(3));
    assert_eq!(f.members(team.id).await, []);
}

/// `update_group`: "A change that changes nothing keeps the version" — replacing the members
/// with the very list the group has is such a change.
async fn replacing_members_with_the_same_list_is_no_change_and_keeps_the_version(backend: Backend) {
    let f = Fixture::new(backend).await;
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let list = [member(&alice), member_shown(&bob, "Bobby")];
    let team = f.create_group(&group("Team"), &list).await;
    let again = f
        .change(&team, None, &[MemberChange::Replace(list.to_vec())])
        .await
        .unwrap();
    assert_eq!(
        f.members(team.id).await,
        read_members(&[(&alice, "alice"), (&bob, "Bobby")])
    );
    assert_eq!(again, team, "the same members again bumped the version");
}

async fn a_document_change_and_member_changes_are_one_write(backend: Backend) {
    let f = Fixture::new(backend).await;
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let team = f.create_group(&group("Team"), &[member(&alice)]).await;
    let renamed = Body::group(json!({"displayName": "Team Renamed", "externalId": "t-1"}));
    let write = renamed.write(team.id);
    let at = write.now;
    let updated = f
        .store
        .update_group(
            f.tenant.id,
            GroupChange {
                group: team.id,
                content: Some(write),
                expected: Some(Version(1)),
                changes: &[
                    MemberChange::Add(vec![member(&bob)]),
                    MemberChange::Remove(vec![alice.id]),
                ],
                now: at,
                activity: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        updated,
        StoredResource {
            version: Version(2),
            last_modified: at,
            doc: renamed.doc.clone(),
            ..team.clone()
        }
    );
    assert_eq!(f.get(&team).await, updated);
    assert_eq!(f.members(team.id).await, read_members(&[(&bob, "bob")]));
    assert_eq!(f.groups_of(bob.id).await, [group_ref(&updated)]);
    // a document change alone is a write too, its members untouched
    let again = Body::group(json!({"displayName": "Team Again"}));
    let written = f
        .store
        .update_group(
            f.tenant.id,
            GroupChange {
                group: team.id,
                content: Some(again.write(team.id)),
                expected: None,
                changes: &[],
                now: now(),
                activity: None,
            },
        )
        .await
        .unwrap();
    assert_eq!((written.version, &written.doc), (Version(3), &again.doc));
    assert_eq!(f.members(team.id).await, read_members(&[(&bob, "bob")]));
}

async fn a_group_update_at_a_stale_version_is_a_version_mismatch_and_changes_nothing(
    backend: Backend,
) {
    let f = Fixture::new(backend).await;
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let team = f.create_group(&group("Team"), &[member(&alice)]).await;
    let current = f
        .change(&team, None, &[MemberChange::Add(vec![member(&bob)])])
        .await
        .unwrap();
    assert_eq!(current.version, Version(2));
    assert_err!(
        f.change(&team, Some(Version(1)), &[MemberChange::RemoveAll])
            .await,
        StoreError::VersionMismatch { kind: ResourceKind::Group, id, expected: Version(1) }
            if *id == team.id
    );
    let renamed = group("Renamed");
    assert_err!(
        f.store
            .update_group(f.tenant.id, GroupChange { group: team.id, content: Some(renamed.write(team.id)), expected: Some(Version(1)), changes: &[MemberChange::Remove(vec![alice.id])], now: now(), activity: None })
            .await,
        StoreError::VersionMismatch { kind: ResourceKind::Group, id, expected: Version(1) }
            if *id == team.id
    );
    // even a change that would change nothing is refused at a stale version
    assert_err!(
        f.change(&team, Some(Version(1)), &[MemberChange::Add(vec![member(&alice)])])
            .await,
        StoreError::VersionMismatch { kind: ResourceKind::Group, id, expected: Version(1) }
            if *id == team.id
    );
    assert_eq!(f.get(&team).await, current);
    assert_eq!(
        f.members(team.id).await,
        read_members(&[(&alice, "alice"), (&bob, "bob")])
    );
    let at_current = f
        .change(&team, Some(Version(2)), &[MemberChange::RemoveAll])
        .await
        .unwrap();
    assert_eq!(at_current.version, Version(3));
}

async fn an_unknown_member_is_an_invalid_reference_and_changes_nothing(backend: Backend) {
    let f = Fixture::new(backend).await;
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let team = f.create_group(&group("Team"), &[member(&alice)]).await;
    let nobody = ResourceId::random();
    let ghost = MemberInput {
        id: nobody,
        display: Some("ghost".into()),
    };
    let refused = |result: Result<StoredResource, StoreError>| {
        assert_err!(result, StoreError::InvalidReference { id } if *id == nobody);
    };
    refused(
        f.change(
            &team,
            None,
            &[
                MemberChange::Remove(vec![alice.id]),
                MemberChange::Add(vec![member(&bob), ghost.clone()]),
            ],
        )
        .await,
    );
    refused(
        f.change(
            &team,
            Some(Version(1)),
            &[MemberChange::Replace(vec![ghost.clone()])],
        )
        .await,
    );
    let renamed = group("Renamed");
    refused(
        f.store
            .update_group(
                f.tenant.id,
                GroupChange {
                    group: team.id,
                    content: Some(renamed.write(team.id)),
                    expected: Some(Version(1)),
                    changes: &[MemberChange::Add(vec![ghost.clone()])],
                    now: now(),
                    activity: None,
                },
            )
            .await,
    );
    let members = [member(&bob), ghost.clone()];
    refused(
        f.store
            .replace(
                f.tenant.id,
                Content {
                    members: Some(&members),
                    ..renamed.write(team.id)
                }
                .into(),
                Version(1),
            )
            .await,
    );
    assert_eq!(f.get(&team).await, team);
    assert_eq!(f.members(team.id).await, read_members(&[(&alice, "alice")]));
    assert_eq!(f.groups_of(bob.id).await, []);
    // a group created with an unknown member is not created
    let other = group("Other");
    let id = ResourceId::random();
    refused(
        f.store
            .create(
                f.tenant.id,
                Content {
                    members: Some(&members),
                    ..other.write(id)
                }
                .into(),
            )
            .await,
    );
    assert_err!(
        f.store.get(f.tenant.id, ResourceKind::Group, id).await,
        StoreError::NotFound(Missing::Resource { kind: ResourceKind::Group, id: i }) if *i == id
    );
    assert_eq!(f.create(&other).await.version, Version(1));
}

async fn an_update_of_a_missing_group_is_not_found(backend: Backend) {
    let f = Fixture::new(backend).await;
    let alice = f.create(&user("alice")).await;
    let add = [MemberChange::Add(vec![member(&alice)])];
    for id in [ResourceId::random(), alice.id] {
        for expected in [None, Some(Version(1))] {
            assert_err!(
                f.store
                    .update_group(f.tenant.id, GroupChange { group: id, content: None, expected, changes: &add, now: now(), activity: None })
                    .await,
                StoreError::NotFound(Missing::Resource { kind: ResourceKind::Group, id: i })
                    if *i == id
            );
        }
    }
    assert_eq!(f.get(&alice).await, alice);
    assert_eq!(f.groups_of(alice.id).await, []);
}

/// Membership changes queue on the group instead of failing or overwriting one another.
async fn parallel_member_additions_lose_none(backend: Backend) {
    const WRITERS: usize = 8;
    let f = Fixture::new(backend).await;
    let team = f.create(&group("Team")).await;
    let mut users = Vec::new();
    for i in 0..WRITERS {
        users.push(f.create(&user(&format!("user{i}"))).await);
    }
    let results = all_at_once(WRITERS, |i| {
        let (store, tenant, group) = (f.store.clone(), f.tenant.id, team.id);
        let add = [MemberChange::Add(vec![member(&users[i])])];
        async move {
            store
                .update_group(
                    tenant,
                    GroupChange {
                        group,
                        content: None,
                        expected: None,
                        changes: &add,
                        now: now(),
                        activity: None,
                    },
                )
                .await
        }
    })
    .await;
    let versions: BTreeSet<Version> = results.into_iter().map(|r| r.unwrap().version).collect();
    assert_eq!(
        versions,
        (2..=1 + WRITERS as i64)
            .map(Version)
            .collect::<BTreeSet<_>>()
    );
    assert_eq!(f.get(&team).await.version, Version(1 + WRITERS as i64));
    let members: BTreeSet<ResourceId> = f.members(team.id).await.iter().map(|m| m.id).collect();
    assert_eq!(members, users.iter().map(|u| u.id).collect());
}

crate::on_both_stores!(
    adding_members_again_is_no_change_and_keeps_the_version,
    removing_members_removes_only_those_named,
    removing_all_members_empties_the_group,
    replacing_members_sets_exactly_the_new_list_in_its_order,
    replacing_members_with_the_same_list_is_no_change_and_keeps_the_version,
    a_document_change_and_member_changes_are_one_write,
    a_group_update_at_a_stale_version_is_a_version_mismatch_and_changes_nothing,
    an_unknown_member_is_an_invalid_reference_and_changes_nothing,
    an_update_of_a_missing_group_is_not_found,
    parallel_member_additions_lose_none,
);
