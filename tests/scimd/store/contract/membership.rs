//! Membership as it is read and as it follows its resources: `members` in the order added with
//! kind and display, `groups_of` by group name, `replace` with a member list, memberships gone
//! with their user or group, and kept inside their tenant.

use scimd::store::{Content, GroupChange, Removal};
use std::collections::HashMap;

use serde_json::json;

use scimd::scim::resource::{ResourceId, Version};
use scimd::scim::schema::ResourceKind;
use scimd::service::now;
use scimd::store::{Groups, MemberChange, Missing, Resources, StoreError, Tenants};

use super::{Body, Fixture, group, group_ref, member, member_shown, read_members, user};
use crate::support::Backend;

async fn members_are_read_in_the_order_they_were_added_with_their_kind(backend: Backend) {
    let f = Fixture::new(backend).await;
    let [alice, bob, carol] = f.users(["alice", "bob", "carol"]).await;
    let nested = f.create(&group("Nested")).await;
    let team = f
        .create_group(
            &group("Team"),
            &[member(&bob), member(&nested), member(&alice)],
        )
        .await;
    assert_eq!(team.version, Version(1));
    assert_eq!(
        f.members(team.id).await,
        read_members(&[(&bob, "bob"), (&nested, "Nested"), (&alice, "alice")])
    );
    assert_eq!(
        f.members(team.id)
            .await
            .iter()
            .map(|m| m.kind)
            .collect::<Vec<_>>(),
        [ResourceKind::User, ResourceKind::Group, ResourceKind::User]
    );
    let added = f
        .change(&team, None, &[MemberChange::Add(vec![member(&carol)])])
        .await
        .unwrap();
    assert_eq!(added.version, Version(2));
    assert_eq!(
        f.members(team.id).await,
        read_members(&[
            (&bob, "bob"),
            (&nested, "Nested"),
            (&alice, "alice"),
            (&carol, "carol")
        ])
    );
    // no groups asked for, none answered
    assert_eq!(
        f.store.members(f.tenant.id, &[]).await.unwrap(),
        HashMap::new()
    );
    assert_eq!(
        f.store.groups_of(f.tenant.id, &[]).await.unwrap(),
        HashMap::new()
    );
    // several groups at once, each with its own members; a group without members is absent
    let empty = f.create(&group("Empty")).await;
    let solo = f.create_group(&group("Solo"), &[member(&carol)]).await;
    let all = f
        .store
        .members(f.tenant.id, &[team.id, empty.id, solo.id])
        .await
        .unwrap();
    assert_eq!(
        all,
        HashMap::from([
            (team.id, f.members(team.id).await),
            (solo.id, read_members(&[(&carol, "carol")])),
        ])
    );
}

async fn a_members_display_is_as_sent_else_its_display_name_else_its_user_name(backend: Backend) {
    let f = Fixture::new(backend).await;
    let alice = f
        .create(&Body::user(
            json!({"userName": "alice", "displayName": "Alice Liddell"}),
        ))
        .await;
    let bob = f.create(&user("Bob")).await;
    let carol = f.create(&user("carol")).await;
    let nested = f.create(&group("Nested Group")).await;
    let team = f
        .create_group(
            &group("Team"),
            &[
                member(&alice),
                member(&bob),
                member_shown(&carol, "Caroline (as sent)"),
                member(&nested),
            ],
        )
        .await;
    assert_eq!(
        f.members(team.id).await,
        read_members(&[
            (&alice, "Alice Liddell"),
            (&bob, "Bob"),
            (&carol, "Caroline (as sent)"),
            (&nested, "Nested Group"),
        ])
    );
    // a derived display follows the member; a display as sent stays
    let bobby = Body::user(json!({"userName": "Bob", "displayName": "Bobby"}));
    f.store
        .replace(f.tenant.id, bobby.write(bob.id).into(), Version(1))
        .await
        .unwrap();
    f.store
        .replace(
            f.tenant.id,
            user("caroline").write(carol.id).into(),
            Version(1),
        )
        .await
        .unwrap();
    assert_eq!(
        f.members(team.id).await,
        read_members(&[
            (&alice, "Alice Liddell"),
            (&bob, "Bobby"),
            (&carol, "Caroline (as sent)"),
            (&nested, "Nested Group"),
        ])
    );
}

async fn groups_of_lists_the_groups_a_resource_is_a_direct_member_of_by_name(backend: Backend) {
    let f = Fixture::new(backend).await;
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let beta = f.create_group(&group("beta"), &[member(&alice)]).await;
    let gamma = f.create_group(&group("gamma"), &[member(&alice)]).await;
    let alpha = f
        .create_group(&group("Alpha"), &[member(&bob), member(&alice)])
        .await;
    f.create(&group("delta")).await;
    // alice is in Outer only through Alpha: not a direct member
    let outer = f.create_group(&group("Outer"), &[member(&alpha)]).await;
    let found = f
        .store
        .groups_of(f.tenant.id, &[alice.id, bob.id, alpha.id, outer.id])
        .await
        .unwrap();
    assert_eq!(
        found,
        HashMap::from([
            (
                alice.id,
                vec![group_ref(&alpha), group_ref(&beta), group_ref(&gamma)]
            ),
            (bob.id, vec![group_ref(&alpha)]),
            (alpha.id, vec![group_ref(&outer)]),
        ])
    );
    // the display is the group's displayName as it is now
    let renamed = group("Zeta");
    let zeta = f
        .store
        .replace(f.tenant.id, renamed.write(alpha.id).into(), Version(1))
        .await
        .unwrap();
    assert_eq!(
        f.groups_of(alice.id).await,
        [group_ref(&beta), group_ref(&gamma), group_ref(&zeta)]
    );
}

async fn deleting_a_user_or_group_removes_its_memberships(backend: Backend) {
    let f = Fixture::new(backend).await;
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let sub = f.create_group(&group("Sub"), &[member(&bob)]).await;
    let team = f
        .create_group(
            &group("Team"),
            &[member(&alice), member(&sub), member(&bob)],
        )
        .await;
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
    assert_eq!(
        f.members(team.id).await,
        read_members(&[(&sub, "Sub"), (&bob, "bob")])
    );
    assert_eq!(f.groups_of(alice.id).await, []);
    f.store
        .delete(
            f.tenant.id,
            Removal {
                kind: ResourceKind::Group,
                id: sub.id,
                expected: None,
                activity: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(f.members(team.id).await, read_members(&[(&bob, "bob")]));
    assert_eq!(f.groups_of(bob.id).await, [group_ref(&team)]);
    f.store
        .delete(
            f.tenant.id,
            Removal {
                kind: ResourceKind::Group,
                id: team.id,
                expected: None,
                activity: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(f.groups_of(bob.id).await, []);
    assert_eq!(
        f.store
            .members(f.tenant.id, &[team.id, sub.id])
            .await
            .unwrap(),
        HashMap::new()
    );
    // bob is untouched and can join a new group
    assert_eq!(f.get(&bob).await, bob);
    let again = f.create_group(&group("Team"), &[member(&bob)]).await;
    assert_eq!(f.groups_of(bob.id).await, [group_ref(&again)]);
}

async fn a_replace_with_a_member_list_replaces_the_members(backend: Backend) {
    let f = Fixture::new(backend).await;
    let [alice, bob, carol] = f.users(["alice", "bob", "carol"]).await;
    let team = f
        .create_group(&group("Team"), &[member(&alice), member(&bob)])
        .await;
    let body = Body::group(json!({"displayName": "Team", "externalId": "t"}));
    let list = [member(&carol), member_shown(&alice, "Ally")];
    let replaced = f
        .store
        .replace(
            f.tenant.id,
            Content {
                members: Some(&list),
                ..body.write(team.id)
            }
            .into(),
            Version(1),
        )
        .await
        .unwrap();
    assert_eq!((replaced.version, &replaced.doc), (Version(2), &body.doc));
    assert_eq!(
        f.members(team.id).await,
        read_members(&[(&carol, "carol"), (&alice, "Ally")])
    );
    // without a member list the members are untouched
    let untouched = f
        .store
        .replace(f.tenant.id, group("Team").write(team.id).into(), Version(2))
        .await
        .unwrap();
    assert_eq!(untouched.version, Version(3));
    assert_eq!(
        f.members(team.id).await,
        read_members(&[(&carol, "carol"), (&alice, "Ally")])
    );
    // an empty list empties the group
    f.store
        .replace(
            f.tenant.id,
            Content {
                members: Some(&[]),
                ..group("Team").write(team.id)
            }
            .into(),
            Version(3),
        )
        .await
        .unwrap();
    assert_eq!(f.members(team.id).await, []);
}

async fn memberships_stay_in_their_tenant(backend: Backend) {
    let f = Fixture::new(backend).await;
    let other = f.store.create_tenant("other").await.unwrap();
    let alice = f.create(&user("alice")).await;
    let team = f.create_group(&group("Team"), &[member(&alice)]).await;
    let stranger = user("stranger");
    let stranger = f
        .store
        .create(other.id, stranger.write(ResourceId::random()).into())
        .await
        .unwrap();
    assert_err!(
        f.change(&team, None, &[MemberChange::Add(vec![member(&stranger)])])
            .await,
        StoreError::InvalidReference { id } if *id == stranger.id
    );
    assert_err!(
        f.store
            .update_group(other.id, GroupChange { group: team.id, content: None, expected: None, changes: &[MemberChange::RemoveAll], now: now(), activity: None })
            .await,
        StoreError::NotFound(Missing::Resource { kind: ResourceKind::Group, id }) if *id == team.id
    );
    assert_eq!(
        f.store.members(other.id, &[team.id]).await.unwrap(),
        HashMap::new()
    );
    assert_eq!(
        f.store.groups_of(other.id, &[alice.id]).await.unwrap(),
        HashMap::new()
    );
    assert_eq!(f.get(&team).await, team);
    assert_eq!(f.members(team.id).await, read_members(&[(&alice, "alice")]));
}

async fn member_counts_count_each_groups_members_and_leave_out_empty_groups(backend: Backend) {
    let f = Fixture::new(backend).await;
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let team = f
        .create_group(&group("Team"), &[member(&alice), member(&bob)])
        .await;
    let pair = f.create_group(&group("Pair"), &[member(&team)]).await;
    let empty = f.create(&group("Empty")).await;
    let other = f.store.create_tenant("other").await.unwrap();
    let counts = f
        .store
        .member_counts(f.tenant.id, &[team.id, pair.id, empty.id])
        .await
        .unwrap();
    assert_eq!(counts, HashMap::from([(team.id, 2), (pair.id, 1)]));
    let elsewhere = f.store.member_counts(other.id, &[team.id]).await.unwrap();
    assert_eq!(elsewhere, HashMap::new(), "counts stay in their tenant");
}

crate::on_both_stores!(
    member_counts_count_each_groups_members_and_leave_out_empty_groups,
    members_are_read_in_the_order_they_were_added_with_their_kind,
    a_members_display_is_as_sent_else_its_display_name_else_its_user_name,
    groups_of_lists_the_groups_a_resource_is_a_direct_member_of_by_name,
    deleting_a_user_or_group_removes_its_memberships,
    a_replace_with_a_member_list_replaces_the_members,
    memberships_stay_in_their_tenant,
);
