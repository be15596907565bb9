//! `InvitationStore`: an invitation is found by its hash with its admin, tenant, expiry and
//! use; issuing another for the admin replaces it; it is used once, and only before it
//! expires; removing the admin removes it.

use scimd::domain::oauth::Admin;
use scimd::store::{InvitationStore, OAuthStore, Tenants};

use super::{Fixture, at};
use crate::support::Backend;

/// Tenant `default` with an admin `ada`.
async fn with_admin(backend: Backend) -> (Fixture, Admin) {
    let f = Fixture::new(backend).await;
    let ada = f
        .store
        .add_admin(f.tenant.id, "ada", "!invited", true)
        .await;
    (f, ada.unwrap())
}

async fn an_invitation_is_found_with_its_admin_and_tenant_and_a_new_one_replaces_it(
    backend: Backend,
) {
    let (f, ada) = with_admin(backend).await;
    let other = f.store.create_tenant("other").await.unwrap();
    let theirs = f
        .store
        .add_admin(other.id, "ada", "h", false)
        .await
        .unwrap();
    f.store
        .put_invitation(b"i1", &ada, at(0), at(100))
        .await
        .unwrap();
    f.store
        .put_invitation(b"t1", &theirs, at(0), at(100))
        .await
        .unwrap();
    let found = f.store.invitation(b"i1").await.unwrap().unwrap();
    assert_eq!(found.admin, ada);
    assert_eq!(found.tenant_name, "default");
    assert_eq!((found.expires, found.used), (at(100), None));
    let found = f.store.invitation(b"t1").await.unwrap().unwrap();
    assert_eq!((found.admin, found.tenant_name.as_str()), (theirs, "other"));
    assert_eq!(f.store.invitation(b"unknown").await.unwrap(), None);
    f.store
        .put_invitation(b"i2", &ada, at(10), at(200))
        .await
        .unwrap();
    assert_eq!(f.store.invitation(b"i1").await.unwrap(), None);
    assert_eq!(f.store.use_invitation(b"i1", at(20)).await.unwrap(), None);
    assert!(f.store.invitation(b"i2").await.unwrap().is_some());
    assert!(f.store.invitation(b"t1").await.unwrap().is_some());
}

async fn an_invitation_is_used_once_and_only_before_it_expires(backend: Backend) {
    let (f, ada) = with_admin(backend).await;
    f.store
        .put_invitation(b"i1", &ada, at(0), at(100))
        .await
        .unwrap();
    assert_eq!(f.store.use_invitation(b"i1", at(100)).await.unwrap(), None);
    let used = f
        .store
        .use_invitation(b"i1", at(99))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((used.admin, used.used), (ada.clone(), Some(at(99))));
    assert_eq!(f.store.use_invitation(b"i1", at(99)).await.unwrap(), None);
    let seen = f.store.invitation(b"i1").await.unwrap().unwrap();
    assert_eq!(seen.used, Some(at(99)));
    // of two uses at once, one wins
    f.store
        .put_invitation(b"i2", &ada, at(0), at(100))
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        f.store.use_invitation(b"i2", at(50)),
        f.store.use_invitation(b"i2", at(50))
    );
    let wins = [a.unwrap(), b.unwrap()]
        .iter()
        .filter(|u| u.is_some())
        .count();
    assert_eq!(wins, 1);
}

async fn removing_the_admin_removes_their_invitation(backend: Backend) {
    let (f, ada) = with_admin(backend).await;
    f.store
        .put_invitation(b"i1", &ada, at(0), at(100))
        .await
        .unwrap();
    f.store.remove_admin(f.tenant.id, "ADA").await.unwrap();
    assert_eq!(f.store.invitation(b"i1").await.unwrap(), None);
    assert_eq!(f.store.use_invitation(b"i1", at(1)).await.unwrap(), None);
}

crate::on_both_stores!(
    an_invitation_is_found_with_its_admin_and_tenant_and_a_new_one_replaces_it,
    an_invitation_is_used_once_and_only_before_it_expires,
    removing_the_admin_removes_their_invitation,
);
