//! Admins: added and listed by name, found in any case with their password hash, names unique
//! per tenant in any case; `update_admin` and `remove_admin`, and what they take with them
//! (the admin's console sessions and the OAuth families they authorized).

use chrono::Utc;
use uuid::Uuid;

use scimd::domain::oauth::{Admin, CodeGrant};
use scimd::store::{Missing, OAuthStore, StoreError, Tenants, Unique};

use super::super::at;
use super::super::stored::{refresh_tokens, session_hashes};
use super::{OAuth, stamped};
use crate::support::Backend;

async fn admins_are_listed_by_name_and_found_in_any_case_with_their_password_hash(
    backend: Backend,
) {
    let o = OAuth::new(backend).await;
    let (store, tenant) = (&o.f.store, o.f.tenant.id);
    let other = store.create_tenant("other").await.unwrap();
    let before = Utc::now();
    let zoe = store
        .add_admin(tenant, "Zoe", "hash-zoe", false)
        .await
        .unwrap();
    let after = Utc::now();
    let theirs = store.add_admin(other.id, "zoe", "hash-theirs", true).await;
    let theirs = theirs.unwrap();
    assert_eq!(
        zoe,
        Admin {
            id: zoe.id,
            tenant,
            username: "Zoe".into(),
            team_admin: false,
            created: zoe.created,
        }
    );
    stamped(zoe.created, before, after);
    assert_ne!(zoe.id, theirs.id);
    assert_eq!(
        store.admins(tenant).await.unwrap(),
        [o.ada.clone(), zoe.clone()]
    );
    assert_eq!(
        store.admins(other.id).await.unwrap(),
        std::slice::from_ref(&theirs)
    );
    for name in ["zoe", "ZOE", "Zoe"] {
        assert_eq!(
            store.admin_credentials(tenant, name).await.unwrap(),
            Some((zoe.clone(), "hash-zoe".to_owned()))
        );
    }
    assert_eq!(
        store.admin_credentials(other.id, "zoe").await.unwrap(),
        Some((theirs, "hash-theirs".to_owned()))
    );
    assert_eq!(
        store.admin_credentials(tenant, "nobody").await.unwrap(),
        None
    );
    assert_eq!(
        store.admin_credentials(other.id, "ada").await.unwrap(),
        None
    );
}

async fn an_admin_name_the_tenant_has_in_any_case_is_a_uniqueness_conflict(backend: Backend) {
    let o = OAuth::new(backend).await;
    let (store, tenant) = (&o.f.store, o.f.tenant.id);
    for name in ["ada", "ADA", "Ada"] {
        assert_err!(
            store.add_admin(tenant, name, "hash-other", false).await,
            StoreError::Uniqueness { rule: Unique::AdminName, value } if value == name
        );
    }
    assert_eq!(
        store.admins(tenant).await.unwrap(),
        std::slice::from_ref(&o.ada)
    );
    assert_eq!(
        store.admin_credentials(tenant, "ada").await.unwrap(),
        Some((o.ada.clone(), "hash-ada".to_owned()))
    );
}

async fn updating_an_admin_changes_only_the_right_and_password_given(backend: Backend) {
    let o = OAuth::new(backend).await;
    let (store, tenant) = (&o.f.store, o.f.tenant.id);
    let bob = store
        .add_admin(tenant, "Bob", "hash-1", false)
        .await
        .unwrap();
    let same = store.update_admin(tenant, "BOB", None, None).await.unwrap();
    assert_eq!(same, bob);
    let repassworded = store
        .update_admin(tenant, "bob", None, Some("hash-2"))
        .await;
    assert_eq!(repassworded.unwrap(), bob);
    let promoted = store.update_admin(tenant, "bob", Some(true), None).await;
    let promoted = promoted.unwrap();
    assert_eq!(
        promoted,
        Admin {
            team_admin: true,
            ..bob.clone()
        }
    );
    assert_eq!(
        store.admin_credentials(tenant, "bob").await.unwrap(),
        Some((promoted.clone(), "hash-2".to_owned()))
    );
    assert_eq!(
        store.admins(tenant).await.unwrap(),
        [o.ada.clone(), promoted]
    );
    for update in [Some(true), None] {
        assert_err!(
            store.update_admin(tenant, "nobody", update, Some("hash")).await,
            StoreError::NotFound(Missing::Admin { username }) if username == "nobody"
        );
    }
}

/// `ada` with a console session, two OAuth families (one with a refresh token) and a code
/// not yet exchanged, `bob` with a session, a family and a code, and a client-credentials
/// family of nobody's.
struct Authorized {
    o: OAuth,
    bob: Admin,
}

impl Authorized {
    async fn new(backend: Backend) -> Self {
        let o = OAuth::new(backend).await;
        let store = &o.f.store;
        let bob = store
            .add_admin(o.f.tenant.id, "bob", "hash-bob", true)
            .await;
        let bob = bob.unwrap();
        for grant in [
            o.grant(Uuid::new_v4(), Some(&o.ada), "ada-1", Some("ada-r1")),
            o.grant(Uuid::new_v4(), Some(&o.ada), "ada-2", None),
            o.grant(Uuid::new_v4(), Some(&bob), "bob-1", Some("bob-r1")),
            o.grant(Uuid::new_v4(), None, "client-1", None),
        ] {
            o.issue(&grant).await;
        }
        o.open_session(b"ada-session", &o.ada).await;
        o.open_session(b"bob-session", &bob).await;
        for (code, admin) in [(b"ada-code", &o.ada), (b"bob-code", &bob)] {
            let grant = CodeGrant {
                client: o.client.id,
                tenant: o.f.tenant.id,
                admin: admin.id,
                redirect_uri: None,
                challenge: None,
                challenge_method: None,
                family: Uuid::new_v4(),
                expires: at(600),
            };
            store.put_code(code, &grant).await.unwrap();
        }
        Self { o, bob }
    }

    /// Which of the codes (`ada`'s, `bob`'s) can still be exchanged, using them up.
    async fn codes(&self) -> [bool; 2] {
        let store = &self.o.f.store;
        let mut out = [false; 2];
        for (i, code) in [b"ada-code", b"bob-code"].iter().enumerate() {
            let taken = store.take_code(*code, at(1)).await.unwrap();
            out[i] = taken.is_some_and(|(_, first)| first);
        }
        out
    }

    /// Which of the access tokens are revoked, in the order of `new`.
    async fn revoked(&self) -> [bool; 4] {
        let mut out = [false; 4];
        for (i, token) in ["ada-1", "ada-2", "bob-1", "client-1"].iter().enumerate() {
            out[i] = self.o.revoked(token).await;
        }
        out
    }

    /// Which of the refresh tokens (`ada`'s, `bob`'s) are revoked.
    async fn refresh_revoked(&self) -> [bool; 2] {
        let stored = refresh_tokens(&self.o.f.db).await;
        let revoked = |token: &str| stored[&scimd::service::hash_token(token).to_vec()].revoked;
        [revoked("ada-r1"), revoked("bob-r1")]
    }
}

async fn taking_the_team_admin_right_revokes_the_admins_families_and_deletes_their_sessions(
    backend: Backend,
) {
    let a = Authorized::new(backend).await;
    let (o, store, tenant) = (&a.o, &a.o.f.store, a.o.f.tenant.id);
    assert_eq!(a.revoked().await, [false; 4]);
    assert_eq!(o.session_admin(b"ada-session").await, Some(o.ada.clone()));
    let demoted = store.update_admin(tenant, "ADA", Some(false), None).await;
    let demoted = demoted.unwrap();
    assert_eq!(
        demoted,
        Admin {
            team_admin: false,
            ..o.ada.clone()
        }
    );
    assert_eq!(a.revoked().await, [true, true, false, false]);
    assert_eq!(a.refresh_revoked().await, [true, false]);
    assert_eq!(session_hashes(&o.f.db).await, [b"bob-session".to_vec()]);
    // the session was deleted, not merely refused: promoting ada again does not revive it,
    // nor her families
    store
        .update_admin(tenant, "ada", Some(true), None)
        .await
        .unwrap();
    assert_eq!(o.session_admin(b"ada-session").await, None);
    assert_eq!(o.session_admin(b"bob-session").await, Some(a.bob.clone()));
    assert_eq!(a.revoked().await, [true, true, false, false]);
    assert_eq!(a.refresh_revoked().await, [true, false]);
    // what ada authorized and was not yet exchanged goes too
    assert_eq!(a.codes().await, [false, true]);
}

async fn a_new_password_ends_the_admins_sessions_and_keeps_their_families(backend: Backend) {
    let a = Authorized::new(backend).await;
    let (o, store, tenant) = (&a.o, &a.o.f.store, a.o.f.tenant.id);
    let updated = store
        .update_admin(tenant, "ada", None, Some("hash-new"))
        .await;
    assert_eq!(updated.unwrap(), o.ada);
    assert_eq!(o.session_admin(b"ada-session").await, None);
    assert_eq!(session_hashes(&o.f.db).await, [b"bob-session".to_vec()]);
    assert_eq!(o.session_admin(b"bob-session").await, Some(a.bob.clone()));
    assert_eq!(a.revoked().await, [false; 4]);
    assert_eq!(a.refresh_revoked().await, [false, false]);
    // a session opened with the new password is valid
    o.open_session(b"ada-again", &o.ada).await;
    assert_eq!(o.session_admin(b"ada-again").await, Some(o.ada.clone()));
    assert_eq!(a.codes().await, [true, true]);
}

async fn removing_an_admin_revokes_their_families_and_deletes_their_sessions(backend: Backend) {
    let a = Authorized::new(backend).await;
    let (o, store, tenant) = (&a.o, &a.o.f.store, a.o.f.tenant.id);
    store.remove_admin(tenant, "Ada").await.unwrap();
    assert_eq!(
        store.admins(tenant).await.unwrap(),
        std::slice::from_ref(&a.bob)
    );
    assert_eq!(store.admin_credentials(tenant, "ada").await.unwrap(), None);
    assert_eq!(a.revoked().await, [true, true, false, false]);
    assert_eq!(a.refresh_revoked().await, [true, false]);
    assert_eq!(session_hashes(&o.f.db).await, [b"bob-session".to_vec()]);
    assert_eq!(o.session_admin(b"ada-session").await, None);
    assert_eq!(o.session_admin(b"bob-session").await, Some(a.bob.clone()));
    assert_err!(
        store.remove_admin(tenant, "ada").await,
        StoreError::NotFound(Missing::Admin { username }) if username == "ada"
    );
    // an admin of the same name is someone else
    let again = store.add_admin(tenant, "ada", "hash-again", true).await;
    assert_ne!(again.unwrap().id, o.ada.id);
    assert_eq!(a.revoked().await, [true, true, false, false]);
    assert_eq!(a.codes().await, [false, true]);
}

crate::on_both_stores!(
    admins_are_listed_by_name_and_found_in_any_case_with_their_password_hash,
    an_admin_name_the_tenant_has_in_any_case_is_a_uniqueness_conflict,
    updating_an_admin_changes_only_the_right_and_password_given,
    taking_the_team_admin_right_revokes_the_admins_families_and_deletes_their_sessions,
    a_new_password_ends_the_admins_sessions_and_keeps_their_families,
    removing_an_admin_revokes_their_families_and_deletes_their_sessions,
);
