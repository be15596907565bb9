//! Sorted listings: ascending and descending with missing values last and first, by document
//! attributes (single- and multi-valued) and by the resource's own; sorted cursor pages that
//! keep to the snapshot of their first page.

use serde_json::json;

use scimd::scim::filter::Kind;
use scimd::scim::list::{CursorPosition, ListQuery, Paging, Sort, SortKey};
use scimd::scim::resource::StoredResource;
use scimd::scim::schema::ResourceKind;
use scimd::store::Listing;

use super::listing::{by, cursor, index, page};
use super::{Body, Fixture, user};
use crate::support::Backend;

/// Users `delta`, `bravo`, `echo`, `alpha`, `charlie` listed by `userName` with a sorted
/// cursor, two a page, while users that sort before and after them all are created between
/// pages: the users in the order created, and each page's resources and total.
async fn sorted_cursor_walk(f: &Fixture) -> (Vec<StoredResource>, Vec<Listing>) {
    let u = f
        .users(["delta", "bravo", "echo", "alpha", "charlie"])
        .await;
    let mut pages: Vec<Listing> = Vec::new();
    let mut query = ListQuery {
        sort: by("userName", false),
        ..cursor(CursorPosition::Start, 2)
    };
    loop {
        let listing = f.list(ResourceKind::User, &query).await;
        let next = listing.next;
        pages.push(listing);
        let Some(next) = next else {
            break;
        };
        let listed: usize = pages.iter().map(|p| p.resources.len()).sum();
        assert!(
            matches!(next, CursorPosition::Offset { offset, .. } if offset == listed as u64),
            "{next:?}"
        );
        assert!(pages.len() < 10, "the cursor does not end: {pages:?}");
        f.create(&user(&format!("aaa{}", pages.len()))).await;
        f.create(&user(&format!("zzz{}", pages.len()))).await;
        query.paging = Paging::Cursor {
            position: next,
            count: 2,
        };
    }
    (u.to_vec(), pages)
}

/// A sorted cursor listing pages through the resources that existed when its first page was
/// read (RFC 9865 leaves the consistency to the server; scimd promises a snapshot).
async fn sorted_cursor_pages_keep_to_the_snapshot_of_the_first_page(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (u, pages) = sorted_cursor_walk(&f).await;
    let listed: Vec<&StoredResource> = pages.iter().flat_map(|p| &p.resources).collect();
    assert_eq!(listed, [&u[3], &u[1], &u[4], &u[0], &u[2]]);
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[0].total, 5);
    // a new listing sees them all
    let fresh = ListQuery {
        sort: by("userName", false),
        ..cursor(CursorPosition::Start, 100)
    };
    let listing = f.list(ResourceKind::User, &fresh).await;
    assert_eq!(listing.total, 9);
    assert_eq!(listing.next, None);
    let names: Vec<&str> = listing
        .resources
        .iter()
        .map(|r| r.doc["userName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "aaa1", "aaa2", "alpha", "bravo", "charlie", "delta", "echo", "zzz1", "zzz2"
        ]
    );
}

/// The pages of one snapshot have one total: the number of resources the listing pages
/// through, whichever page tells it.
async fn every_page_of_a_sorted_cursor_listing_totals_its_snapshot(backend: Backend) {
    let f = Fixture::new(backend).await;
    let (_, pages) = sorted_cursor_walk(&f).await;
    let totals: Vec<u64> = pages.iter().map(|p| p.total).collect();
    assert_eq!(totals, [5, 5, 5], "the totals of the pages of one snapshot");
}

async fn sorting_puts_missing_values_last_ascending_and_first_descending(backend: Backend) {
    let f = Fixture::new(backend).await;
    let named = |user: &str, display: Option<&str>, emails: serde_json::Value| {
        let mut v = json!({ "userName": user });
        if let Some(d) = display {
            v["displayName"] = json!(d);
        }
        if !emails.is_null() {
            v["emails"] = emails;
        }
        Body::user(v)
    };
    let u1 = named(
        "u1",
        Some("Bravo"),
        json!([{"value": "z@x.org"}, {"value": "c@x.org", "primary": true}]),
    );
    let u3 = named("u3", Some("alpha"), json!([{"value": "B@x.org"}]));
    let u4 = named(
        "u4",
        Some("Charlie"),
        json!([{"value": "a@x.org"}, {"value": "y@x.org"}]),
    );
    let u1 = f.create(&u1).await;
    let u2 = f.create(&named("u2", None, json!(null))).await;
    let u3 = f.create(&u3).await;
    let u4 = f.create(&u4).await;
    let u5 = f.create(&named("u5", None, json!(null))).await;
    // displayName compares ignoring case; missing values keep the creation order among
    // themselves, reversed with the rest when descending
    let ascending = [&u3, &u1, &u4, &u2, &u5];
    let descending = [&u5, &u2, &u4, &u1, &u3];
    for (descending_sort, want) in [(false, ascending), (true, descending)] {
        let query = ListQuery {
            sort: by("displayName", descending_sort),
            ..index(1, 100)
        };
        assert_eq!(
            f.list(ResourceKind::User, &query).await,
            page(5, &want),
            "descending: {descending_sort}"
        );
        let query = ListQuery {
            sort: by("displayName", descending_sort),
            ..index(2, 3)
        };
        assert_eq!(
            f.list(ResourceKind::User, &query).await,
            page(5, &want[1..4]),
            "descending: {descending_sort}, second page"
        );
    }
    // a multi-valued attribute sorts by its primary value, else its first (RFC 7644 §3.4.2.3)
    let emails = SortKey::Multi {
        path: vec!["emails".into()],
        sub: Some("value".into()),
        kind: Kind::String,
    };
    for (descending, want) in [
        (false, [&u4, &u3, &u1, &u2, &u5]),
        (true, [&u5, &u2, &u1, &u3, &u4]),
    ] {
        let query = ListQuery {
            sort: Some(Sort {
                key: emails.clone(),
                descending,
            }),
            ..index(1, 100)
        };
        assert_eq!(
            f.list(ResourceKind::User, &query).await,
            page(5, &want),
            "emails.value descending: {descending}"
        );
    }
    // the resource's own attributes
    let all = [&u1, &u2, &u3, &u4, &u5];
    let mut by_id = all.to_vec();
    by_id.sort_by_key(|r| r.id);
    let cases = [
        (SortKey::Id, false, by_id.clone()),
        (SortKey::Id, true, by_id.iter().rev().copied().collect()),
        (SortKey::Created, false, all.to_vec()),
        (SortKey::Created, true, all.iter().rev().copied().collect()),
        (SortKey::LastModified, false, all.to_vec()),
    ];
    for (key, descending, want) in cases {
        let query = ListQuery {
            sort: Some(Sort {
                key: key.clone(),
                descending,
            }),
            ..index(1, 100)
        };
        assert_eq!(
            f.list(ResourceKind::User, &query).await,
            page(5, &want),
            "{key:?} descending: {descending}"
        );
    }
}

crate::on_both_stores!(
    sorting_puts_missing_values_last_ascending_and_first_descending,
    sorted_cursor_pages_keep_to_the_snapshot_of_the_first_page,
    every_page_of_a_sorted_cursor_listing_totals_its_snapshot,
);
