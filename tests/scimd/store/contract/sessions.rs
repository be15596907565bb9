//! `SessionStore`: a console session finds its admin, tenant and CSRF token while it is fresh
//! and its admin is a team admin with the password it was opened with, and is marked used;
//! a session that ended (idle, too old, its admin demoted or re-passworded) is deleted on the
//! read that finds it so; `delete_session` ends one.

use scimd::domain::Tenant;
use scimd::domain::oauth::Admin;
use scimd::store::{OAuthStore, SessionStore, Tenants};

use super::stored::session_hashes;
use super::{Fixture, at};
use crate::support::Backend;

/// Tenant `default` with its team admin `ada`.
async fn with_admin(backend: Backend) -> (Fixture, Admin) {
    let f = Fixture::new(backend).await;
    let ada = f.store.add_admin(f.tenant.id, "ada", "hash", true).await;
    (f, ada.unwrap())
}

/// The stored sessions, as their hashes.
async fn stored(f: &Fixture) -> Vec<Vec<u8>> {
    session_hashes(&f.db).await
}

async fn an_open_session_finds_its_admin_tenant_and_csrf_and_is_marked_used(backend: Backend) {
    let (f, ada) = with_admin(backend).await;
    let other = f.store.create_tenant("other").await.unwrap();
    let theirs = f.store.add_admin(other.id, "ada", "hash", true).await;
    let theirs = theirs.unwrap();
    f.store
        .put_session(b"s1", &ada, "csrf-1", at(0))
        .await
        .unwrap();
    f.store
        .put_session(b"s2", &theirs, "csrf-2", at(0))
        .await
        .unwrap();
    assert_eq!(stored(&f).await, [b"s1".to_vec(), b"s2".to_vec()]);
    let found = f.store.session(b"s1", at(0), at(0), at(10)).await.unwrap();
    let default = f.store.tenant("default").await.unwrap();
    assert_eq!(
        found,
        Some((ada.clone(), default.clone(), "csrf-1".to_owned()))
    );
    let found = f.store.session(b"s2", at(0), at(0), at(10)).await.unwrap();
    assert_eq!(found, Some((theirs, other, "csrf-2".to_owned())));
    // used at `at(10)`: idle since then at the latest, it is still valid
    let found = f.store.session(b"s1", at(10), at(0), at(20)).await.unwrap();
    assert_eq!(
        found,
        Some((ada.clone(), default.clone(), "csrf-1".to_owned()))
    );
    // and once more, used at `at(20)`
    let found = f.store.session(b"s1", at(20), at(0), at(30)).await.unwrap();
    assert_eq!(found, Some((ada, default, "csrf-1".to_owned())));
    assert_eq!(
        f.store
            .session(b"unknown", at(0), at(0), at(30))
            .await
            .unwrap(),
        None
    );
    assert_eq!(stored(&f).await, [b"s1".to_vec(), b"s2".to_vec()]);
}

async fn an_idle_session_ends_and_is_deleted(backend: Backend) {
    let (f, ada) = with_admin(backend).await;
    f.store
        .put_session(b"idle", &ada, "csrf", at(0))
        .await
        .unwrap();
    f.store
        .put_session(b"busy", &ada, "csrf", at(0))
        .await
        .unwrap();
    // last used at `at(0)`: idle since `at(1)`, it has ended
    assert_eq!(
        f.store.session(b"idle", at(1), at(0), at(2)).await.unwrap(),
        None
    );
    assert_eq!(stored(&f).await, [b"busy".to_vec()]);
    assert_eq!(
        f.store.session(b"idle", at(0), at(0), at(3)).await.unwrap(),
        None
    );
    // used exactly at the limit is still fresh
    let found = f.store.session(b"busy", at(0), at(0), at(4)).await.unwrap();
    assert_eq!(found.map(|(admin, _, _)| admin), Some(ada));
}

async fn a_session_opened_before_opened_since_ends_and_is_deleted(backend: Backend) {
    let (f, ada) = with_admin(backend).await;
    f.store
        .put_session(b"old", &ada, "csrf", at(0))
        .await
        .unwrap();
    f.store
        .put_session(b"new", &ada, "csrf", at(5))
        .await
        .unwrap();
    // used a moment ago, but opened too long ago
    assert!(
        f.store
            .session(b"old", at(0), at(0), at(9))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        f.store.session(b"old", at(9), at(5), at(10)).await.unwrap(),
        None
    );
    assert_eq!(stored(&f).await, [b"new".to_vec()]);
    let found = f.store.session(b"new", at(5), at(5), at(10)).await.unwrap();
    assert_eq!(found.map(|(admin, _, _)| admin), Some(ada));
}

/// A session is valid only while its admin is a team admin: one opened for an admin without
/// the right ends at its first read, and stays ended once they are given it.
async fn a_session_of_an_admin_who_is_no_team_admin_ends_and_is_deleted(backend: Backend) {
    let (f, ada) = with_admin(backend).await;
    let bob = f.store.add_admin(f.tenant.id, "bob", "hash", false).await;
    let bob = bob.unwrap();
    f.store
        .put_session(b"bob", &bob, "csrf", at(0))
        .await
        .unwrap();
    f.store
        .put_session(b"ada", &ada, "csrf", at(0))
        .await
        .unwrap();
    assert_eq!(
        f.store.session(b"bob", at(0), at(0), at(1)).await.unwrap(),
        None
    );
    assert_eq!(stored(&f).await, [b"ada".to_vec()]);
    f.store
        .update_admin(f.tenant.id, "bob", Some(true), None)
        .await
        .unwrap();
    assert_eq!(
        f.store.session(b"bob", at(0), at(0), at(2)).await.unwrap(),
        None
    );
    assert!(
        f.store
            .session(b"ada", at(0), at(0), at(2))
            .await
            .unwrap()
            .is_some()
    );
}

/// A session is valid only with the password it was opened with (`password_version`).
async fn a_session_of_an_admin_whose_password_changed_ends_and_is_deleted(backend: Backend) {
    let (f, ada) = with_admin(backend).await;
    f.store
        .put_session(b"before", &ada, "csrf", at(0))
        .await
        .unwrap();
    f.store
        .update_admin(f.tenant.id, "ada", None, Some("new-hash"))
        .await
        .unwrap();
    f.store
        .put_session(b"after", &ada, "csrf-2", at(1))
        .await
        .unwrap();
    assert_eq!(
        f.store
            .session(b"before", at(0), at(0), at(2))
            .await
            .unwrap(),
        None
    );
    assert_eq!(stored(&f).await, [b"after".to_vec()]);
    let found = f
        .store
        .session(b"after", at(0), at(0), at(2))
        .await
        .unwrap();
    let default: Tenant = f.store.tenant("default").await.unwrap();
    assert_eq!(found, Some((ada, default, "csrf-2".to_owned())));
}

async fn a_deleted_session_is_gone(backend: Backend) {
    let (f, ada) = with_admin(backend).await;
    f.store
        .put_session(b"gone", &ada, "csrf", at(0))
        .await
        .unwrap();
    f.store
        .put_session(b"kept", &ada, "csrf", at(0))
        .await
        .unwrap();
    f.store.delete_session(b"gone").await.unwrap();
    assert_eq!(stored(&f).await, [b"kept".to_vec()]);
    assert_eq!(
        f.store.session(b"gone", at(0), at(0), at(1)).await.unwrap(),
        None
    );
    assert!(
        f.store
            .session(b"kept", at(0), at(0), at(1))
            .await
            .unwrap()
            .is_some()
    );
    // deleting it again, or one never opened, is no error
    f.store.delete_session(b"gone").await.unwrap();
    f.store.delete_session(b"never").await.unwrap();
    assert_eq!(stored(&f).await, [b"kept".to_vec()]);
}

crate::on_both_stores!(
    an_open_session_finds_its_admin_tenant_and_csrf_and_is_marked_used,
    an_idle_session_ends_and_is_deleted,
    a_session_opened_before_opened_since_ends_and_is_deleted,
    a_session_of_an_admin_who_is_no_team_admin_ends_and_is_deleted,
    a_session_of_an_admin_whose_password_changed_ends_and_is_deleted,
    a_deleted_session_is_gone,
);
