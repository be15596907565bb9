//! Listings: index pages with their total, `count=0`, cursor pages that neither skip nor
//! repeat while resources are written, users' groups read with the page, filters, tenant
//! scoping. Sorted listings are `sorting`'s.

use scimd::store::Removal;
use std::collections::HashMap;

use serde_json::json;

use scimd::scim::filter::{self, Kind};
use scimd::scim::list::{CursorPosition, ListQuery, Page, Paging, Sort, SortKey};
use scimd::scim::resource::{ResourceId, StoredResource};
use scimd::scim::schema::ResourceKind;
use scimd::store::{Groups, Listing, Resources, Tenants};

use super::{Body, Fixture, REGISTRY, group, group_ref, member, user};
use crate::support::Backend;

impl Fixture {
    pub(super) async fn list(&self, kind: ResourceKind, query: &ListQuery) -> Listing {
        self.store
            .list(self.tenant.id, kind, query)
            .await
            .unwrap_or_else(|e| panic!("{query:?}: {e:?}"))
    }
}

pub(super) fn index(start_index: u64, count: u32) -> ListQuery {
    ListQuery {
        filter: None,
        sort: None,
        paging: Paging::Index(Page { start_index, count }),
        with_groups: false,
        email_key: None,
    }
}

pub(super) fn cursor(position: CursorPosition, count: u32) -> ListQuery {
    ListQuery {
        paging: Paging::Cursor { position, count },
        ..index(1, count)
    }
}

/// A sort by a single-valued string attribute of the document.
pub(super) fn by(attribute: &str, descending: bool) -> Option<Sort> {
    Some(Sort {
        key: SortKey::Field {
            path: vec![attribute.to_owned()],
            kind: Kind::String,
        },
        descending,
    })
}

/// The filter `text` as the service compiles it for resources of `kind`.
fn filtered(kind: ResourceKind, text: &str) -> Option<filter::Filter> {
    let rt = REGISTRY.resource_type(kind).unwrap();
    Some(filter::compile(rt, REGISTRY.common(), text).unwrap())
}

/// A page without a next cursor or groups.
pub(super) fn page(total: u64, resources: &[&StoredResource]) -> Listing {
    Listing {
        total,
        resources: resources.iter().map(|&r| r.clone()).collect(),
        next: None,
        groups: None,
    }
}

fn ids(resources: &[StoredResource]) -> Vec<ResourceId> {
    resources.iter().map(|r| r.id).collect()
}

async fn index_pages_cut_the_creation_order_at_offset_and_count_with_the_total(backend: Backend) {
    let f = Fixture::new(backend).await;
    let u = f
        .users(["echo", "charlie", "alpha", "delta", "bravo"])
        .await;
    f.create(&group("not a user")).await;
    let cases: [(u64, u32, &[&StoredResource]); 7] = [
        (1, 2, &[&u[0], &u[1]]),
        (3, 2, &[&u[2], &u[3]]),
        (5, 2, &[&u[4]]),
        (4, 100, &[&u[3], &u[4]]),
        (6, 2, &[]),
        (100, 10, &[]),
        (1, 100, &[&u[0], &u[1], &u[2], &u[3], &u[4]]),
    ];
    for (start_index, count, want) in cases {
        assert_eq!(
            f.list(ResourceKind::User, &index(start_index, count)).await,
            page(5, want),
            "startIndex={start_index} count={count}"
        );
    }
}

async fn a_count_of_zero_returns_the_total_only(backend: Backend) {
    let f = Fixture::new(backend).await;
    assert_eq!(f.list(ResourceKind::User, &index(1, 0)).await, page(0, &[]));
    f.users(["alice", "bob", "alicia"]).await;
    for query in [
        index(1, 0),
        index(3, 0),
        index(10, 0),
        cursor(CursorPosition::Start, 0),
    ] {
        assert_eq!(
            f.list(ResourceKind::User, &query).await,
            page(3, &[]),
            "{query:?}"
        );
    }
    let query = ListQuery {
        filter: filtered(ResourceKind::User, "userName sw \"ali\""),
        sort: by("userName", true),
        ..index(1, 0)
    };
    assert_eq!(f.list(ResourceKind::User, &query).await, page(2, &[]));
}

/// Unsorted cursor pages follow the creation order: what was created after the listing
/// began comes on a later page, what was deleted after it was listed shifts nothing.
async fn cursor_pages_neither_skip_nor_repeat_while_resources_are_created(backend: Backend) {
    let f = Fixture::new(backend).await;
    let mut all = f.users(["u0", "u1", "u2", "u3", "u4"]).await.to_vec();
    let mut listed = Vec::new();
    let mut position = CursorPosition::Start;
    let mut pages = 0;
    loop {
        let listing = f.list(ResourceKind::User, &cursor(position, 2)).await;
        pages += 1;
        assert_eq!(listing.groups, None);
        listed.extend(listing.resources.iter().cloned());
        // the total counts the users there are when the page is read
        let existing = all.len() - usize::from(pages > 1);
        assert_eq!(listing.total, existing as u64, "page {pages}");
        let Some(next) = listing.next else {
            break;
        };
        assert!(matches!(next, CursorPosition::After(_)), "{next:?}");
        assert!(pages < 10, "the cursor does not end: {listed:?}");
        if pages == 1 {
            // a user already listed goes away: the next page starts where this one ended
            f.store
                .delete(
                    f.tenant.id,
                    Removal {
                        kind: ResourceKind::User,
                        id: all[0].id,
                        expected: None,
                        activity: None,
                    },
                )
                .await
                .unwrap();
        }
        if pages <= 3 {
            all.push(f.create(&user(&format!("new{pages}"))).await);
        }
        position = next;
    }
    assert_eq!(ids(&listed), ids(&all));
    assert_eq!(listed, all);
}

async fn with_groups_lists_each_listed_users_groups(backend: Backend) {
    let f = Fixture::new(backend).await;
    let u = f.users(["alice", "bob", "carol"]).await;
    let beta = f
        .create_group(&group("beta"), &[member(&u[0]), member(&u[1])])
        .await;
    let alpha = f.create_group(&group("Alpha"), &[member(&u[0])]).await;
    let gamma = f.create_group(&group("Gamma"), &[member(&beta)]).await;
    // names whose order is the code points' ('-' before 'a'), not a locale's
    let dash = f.create_group(&group("team-b"), &[member(&u[0])]).await;
    let upper = f.create_group(&group("teamA"), &[member(&u[0])]).await;
    let query = ListQuery {
        with_groups: true,
        ..index(1, 100)
    };
    let listing = f.list(ResourceKind::User, &query).await;
    let want = HashMap::from([
        (
            u[0].id,
            vec![
                group_ref(&alpha),
                group_ref(&beta),
                group_ref(&dash),
                group_ref(&upper),
            ],
        ),
        (u[1].id, vec![group_ref(&beta)]),
        (u[2].id, vec![]),
    ]);
    assert_eq!(
        listing,
        Listing {
            groups: Some(want.clone()),
            ..page(3, &[&u[0], &u[1], &u[2]])
        }
    );
    // the same as groups_of reads them
    let read = f.store.groups_of(f.tenant.id, &ids(&u)).await.unwrap();
    for user in &u {
        assert_eq!(
            read.get(&user.id).cloned().unwrap_or_default(),
            want[&user.id]
        );
    }
    // only the page's users
    let second = ListQuery {
        with_groups: true,
        ..index(2, 1)
    };
    assert_eq!(
        f.list(ResourceKind::User, &second).await,
        Listing {
            groups: Some(HashMap::from([(u[1].id, vec![group_ref(&beta)])])),
            ..page(3, &[&u[1]])
        }
    );
    // groups have no groups to read; without asking, users' are not read
    assert_eq!(
        f.list(ResourceKind::Group, &query).await,
        page(5, &[&beta, &alpha, &gamma, &dash, &upper])
    );
    assert_eq!(
        f.list(ResourceKind::User, &index(1, 100)).await,
        page(3, &[&u[0], &u[1], &u[2]])
    );
}

async fn a_filter_selects_the_matching_resources_of_its_kind(backend: Backend) {
    let f = Fixture::new(backend).await;
    let alice = f
        .create(&Body::user(json!({
            "userName": "Alice",
            "emails": [{"type": "work", "value": "Alice@Example.com"}]
        })))
        .await;
    let bob = f.create(&user("bob")).await;
    let alicia = f.create(&user("alicia")).await;
    let team = f.create_group(&group("alice"), &[member(&alice)]).await;
    let users = |text: &str, paging: ListQuery| ListQuery {
        filter: filtered(ResourceKind::User, text),
        ..paging
    };
    let cases: [(ListQuery, Listing); 6] = [
        (
            users("userName eq \"ALICE\"", index(1, 100)),
            page(1, &[&alice]),
        ),
        (
            users("userName sw \"ali\"", index(1, 100)),
            page(2, &[&alice, &alicia]),
        ),
        (
            users("userName sw \"ali\"", index(2, 1)),
            page(2, &[&alicia]),
        ),
        (
            users(
                "emails[type eq \"work\"].value eq \"alice@example.COM\"",
                index(1, 100),
            ),
            page(1, &[&alice]),
        ),
        (
            users("not (userName sw \"ali\")", index(1, 100)),
            page(1, &[&bob]),
        ),
        (
            users(&format!("groups[value eq \"{}\"]", team.id), index(1, 100)),
            page(1, &[&alice]),
        ),
    ];
    for (query, want) in cases {
        assert_eq!(f.list(ResourceKind::User, &query).await, want, "{query:?}");
    }
    let groups = ListQuery {
        filter: filtered(
            ResourceKind::Group,
            &format!(
                "displayName eq \"ALICE\" and members[value eq \"{}\"]",
                alice.id
            ),
        ),
        ..index(1, 100)
    };
    assert_eq!(
        f.list(ResourceKind::Group, &groups).await,
        page(1, &[&team])
    );
}

async fn listings_are_scoped_to_the_tenant_and_the_kind(backend: Backend) {
    let f = Fixture::new(backend).await;
    let other = f.store.create_tenant("other").await.unwrap();
    let mine = f.users(["a", "b"]).await;
    let team = f.create(&group("g")).await;
    let theirs = user("c");
    let theirs = f
        .store
        .create(other.id, theirs.write(ResourceId::random()).into())
        .await
        .unwrap();
    let all = || index(1, 100);
    let cases: [(_, _, ListQuery, Listing); 5] = [
        (
            f.tenant.id,
            ResourceKind::User,
            all(),
            page(2, &[&mine[0], &mine[1]]),
        ),
        (f.tenant.id, ResourceKind::Group, all(), page(1, &[&team])),
        (other.id, ResourceKind::User, all(), page(1, &[&theirs])),
        (other.id, ResourceKind::Group, all(), page(0, &[])),
        (
            f.tenant.id,
            ResourceKind::User,
            ListQuery {
                filter: filtered(ResourceKind::User, "userName eq \"c\""),
                ..all()
            },
            page(0, &[]),
        ),
    ];
    for (tenant, kind, query, want) in cases {
        let got = f.store.list(tenant, kind, &query).await.unwrap();
        assert_eq!(got, want, "{kind:?} {query:?}");
    }
}

crate::on_both_stores!(
    index_pages_cut_the_creation_order_at_offset_and_count_with_the_total,
    a_count_of_zero_returns_the_total_only,
    cursor_pages_neither_skip_nor_repeat_while_resources_are_created,
    with_groups_lists_each_listed_users_groups,
    a_filter_selects_the_matching_resources_of_its_kind,
    listings_are_scoped_to_the_tenant_and_the_kind,
);
