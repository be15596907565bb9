//! Token families: `store_tokens`, `rotate_refresh` (one use per refresh token, the family's
//! tenant, admin and start kept, a reused or revoked token revoking its family, expiry by the
//! token's date and by the family's `max_age`) and `revoke_family`. Rotations at once are
//! `rotations`'.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use scimd::domain::oauth::{Rotation, TokenRecord};
use scimd::service::hash_token;
use scimd::store::{OAuthStore, Tokens};

use super::super::stored::{Refresh, refresh_tokens};
use super::super::{at, until_tokens_are_cached};
use super::{MONTH, OAuth};
use crate::support::Backend;

/// The stored refresh token of `family`, authorized by `admin` at `at(0)`, that expires at
/// `expires`, unused and valid.
fn valid(family: Uuid, admin: Option<Uuid>, expires: DateTime<Utc>) -> Refresh {
    Refresh {
        family,
        admin,
        family_started: Some(at(0)),
        expires,
        used: false,
        revoked: false,
    }
}

async fn stored_tokens_are_an_access_token_of_the_client_and_a_refresh_token_of_the_family(
    backend: Backend,
) {
    let o = OAuth::new(backend).await;
    let family = Uuid::new_v4();
    o.issue(&o.grant(family, Some(&o.ada), "a1", Some("r1")))
        .await;
    let credentials = Uuid::new_v4();
    o.issue(&o.grant(credentials, None, "c1", None)).await;
    for token in ["a1", "c1"] {
        let record = o.access(token).await.unwrap();
        assert_eq!(
            record,
            TokenRecord {
                id: record.id,
                tenant: o.f.tenant.clone(),
                hash: hash_token(token).to_vec(),
                revoked: false,
                expires: Some(at(3600)),
                client: Some("entra".into()),
            }
        );
    }
    let stored = refresh_tokens(&o.f.db).await;
    assert_eq!(
        stored.into_iter().collect::<Vec<_>>(),
        [(
            hash_token("r1").to_vec(),
            valid(family, Some(o.ada.id), at(86_400))
        )]
    );
    // OAuth tokens are not among the tenant's bearer tokens
    assert_eq!(o.f.store.tokens(o.f.tenant.id).await.unwrap(), []);
}

async fn rotating_a_refresh_token_uses_it_up_and_keeps_the_next_in_its_family(backend: Backend) {
    let o = OAuth::new(backend).await;
    let family = Uuid::new_v4();
    o.issue(&o.grant(family, Some(&o.ada), "a1", Some("r1")))
        .await;
    let next = o.next("a2", "r2", at(90_000)).await;
    assert_eq!(
        o.rotate("r1", &next, at(100), MONTH).await,
        Rotation::Rotated
    );
    let ada = Some(o.ada.id);
    assert_eq!(
        o.refresh("r1").await,
        Some(Refresh {
            used: true,
            ..valid(family, ada, at(86_400))
        })
    );
    assert_eq!(o.refresh("r2").await, Some(valid(family, ada, at(90_000))));
    let a2 = o.access("a2").await.unwrap();
    assert_eq!(
        (a2.tenant, a2.revoked, a2.expires, a2.client.as_deref()),
        (o.f.tenant.clone(), false, Some(at(7200)), Some("entra"))
    );
    assert!(!o.revoked("a1").await);
    // and again: the family keeps its start however often it rotates
    let next = o.next("a3", "r3", at(95_000)).await;
    assert_eq!(
        o.rotate("r2", &next, at(200), MONTH).await,
        Rotation::Rotated
    );
    assert_eq!(o.refresh("r3").await, Some(valid(family, ada, at(95_000))));
    // the new access tokens are of the family
    o.f.store.revoke_family(family, at(300)).await.unwrap();
    for token in ["a1", "a2", "a3"] {
        assert!(o.revoked(token).await, "{token}");
    }
}

async fn a_used_or_revoked_refresh_token_presented_again_revokes_its_family(backend: Backend) {
    let o = OAuth::new(backend).await;
    let (family, other) = (Uuid::new_v4(), Uuid::new_v4());
    o.issue(&o.grant(family, Some(&o.ada), "a1", Some("r1")))
        .await;
    o.issue(&o.grant(other, Some(&o.ada), "b1", Some("s1")))
        .await;
    let next = o.next("a2", "r2", at(90_000)).await;
    assert_eq!(
        o.rotate("r1", &next, at(100), MONTH).await,
        Rotation::Rotated
    );
    let replay = o.next("a3", "r3", at(90_000)).await;
    assert_eq!(
        o.rotate("r1", &replay, at(200), MONTH).await,
        Rotation::Reused
    );
    for token in ["a1", "a2"] {
        assert!(o.revoked(token).await, "{token}");
    }
    let revoked = |r: Refresh| Refresh { revoked: true, ..r };
    let ada = Some(o.ada.id);
    assert_eq!(
        o.refresh("r1").await,
        Some(revoked(Refresh {
            used: true,
            ..valid(family, ada, at(86_400))
        }))
    );
    assert_eq!(
        o.refresh("r2").await,
        Some(revoked(valid(family, ada, at(90_000))))
    );
    // nothing was issued for the replay, and the other family is untouched
    assert_eq!(o.access("a3").await, None);
    assert_eq!(o.refresh("r3").await, None);
    assert!(!o.revoked("b1").await);
    assert_eq!(o.refresh("s1").await, Some(valid(other, ada, at(86_400))));
    // the revoked successor is refused too
    assert_eq!(
        o.rotate("r2", &replay, at(300), MONTH).await,
        Rotation::Reused
    );
    // a token revoked without ever being used is reused as well
    o.f.store.revoke_family(other, at(400)).await.unwrap();
    assert_eq!(
        o.rotate("s1", &replay, at(500), MONTH).await,
        Rotation::Reused
    );
    assert_eq!(o.access("a3").await, None);
}

async fn a_refresh_token_unknown_or_of_another_client_is_unknown_and_changes_nothing(
    backend: Backend,
) {
    let o = OAuth::new(backend).await;
    let family = Uuid::new_v4();
    o.issue(&o.grant(family, Some(&o.ada), "a1", Some("r1")))
        .await;
    let other =
        o.f.store
            .add_client(o.f.tenant.id, "other", b"o", &[])
            .await;
    let other = other.unwrap();
    let next = o.next("a2", "r2", at(90_000)).await;
    let r1 = hash_token("r1");
    let stolen =
        o.f.store
            .rotate_refresh(&r1, other.id, &next, at(100), MONTH);
    assert_eq!(stolen.await.unwrap(), Rotation::Unknown);
    assert_eq!(
        o.rotate("nobody", &next, at(100), MONTH).await,
        Rotation::Unknown
    );
    assert_eq!(
        o.refresh("r1").await,
        Some(valid(family, Some(o.ada.id), at(86_400)))
    );
    assert!(!o.revoked("a1").await);
    assert_eq!(o.access("a2").await, None);
    assert_eq!(o.refresh("r2").await, None);
}

async fn an_expired_token_or_family_is_expired_and_the_token_stays_unused(backend: Backend) {
    let o = OAuth::new(backend).await;
    let family = Uuid::new_v4();
    o.issue(&o.grant(family, Some(&o.ada), "a1", Some("r1")))
        .await;
    let next = o.next("a2", "r2", at(90_000)).await;
    // the token's own date (it ends at `at(86_400)`)
    assert_eq!(
        o.rotate("r1", &next, at(86_400), MONTH).await,
        Rotation::Expired
    );
    // the family's age (it started at `at(0)`)
    let hour = Duration::from_secs(3600);
    assert_eq!(
        o.rotate("r1", &next, at(3600), hour).await,
        Rotation::Expired
    );
    let ada = Some(o.ada.id);
    assert_eq!(o.refresh("r1").await, Some(valid(family, ada, at(86_400))));
    assert_eq!(o.access("a2").await, None);
    assert!(!o.revoked("a1").await);
    // a moment earlier it rotates, and the next token ends when the family does
    assert_eq!(
        o.rotate("r1", &next, at(3599), hour).await,
        Rotation::Rotated
    );
    assert_eq!(o.refresh("r2").await, Some(valid(family, ada, at(3600))));
    assert_eq!(o.access("a2").await.unwrap().expires, Some(at(7200)));
}

/// A `max_age` longer than any date can hold never ends a family.
async fn a_max_age_beyond_the_calendar_never_ends_a_family(backend: Backend) {
    let o = OAuth::new(backend).await;
    let family = Uuid::new_v4();
    o.issue(&o.grant(family, Some(&o.ada), "a1", Some("r1")))
        .await;
    let next = o.next("a2", "r2", at(90_000)).await;
    assert_eq!(
        o.rotate("r1", &next, at(100), Duration::MAX).await,
        Rotation::Rotated
    );
    let ada = Some(o.ada.id);
    assert_eq!(o.refresh("r2").await, Some(valid(family, ada, at(90_000))));
}

async fn revoking_a_family_revokes_its_access_and_refresh_tokens_only(backend: Backend) {
    let o = OAuth::new(backend).await;
    until_tokens_are_cached(&o.f.store, backend).await;
    let (family, other) = (Uuid::new_v4(), Uuid::new_v4());
    o.issue(&o.grant(family, Some(&o.ada), "a1", Some("r1")))
        .await;
    o.issue(&o.grant(family, Some(&o.ada), "a1b", None)).await;
    o.issue(&o.grant(other, Some(&o.ada), "b1", Some("s1")))
        .await;
    // read once, so that on PostgreSQL the revocation must clear the cache
    for token in ["a1", "a1b", "b1"] {
        assert!(!o.revoked(token).await);
    }
    let ada = Some(o.ada.id);
    for _ in 0..2 {
        o.f.store.revoke_family(family, at(5)).await.unwrap();
        assert!(o.revoked("a1").await);
        assert!(o.revoked("a1b").await);
        assert!(!o.revoked("b1").await);
        let r1 = valid(family, ada, at(86_400));
        assert_eq!(
            o.refresh("r1").await,
            Some(Refresh {
                revoked: true,
                ..r1
            })
        );
        assert_eq!(o.refresh("s1").await, Some(valid(other, ada, at(86_400))));
    }
    o.f.store
        .revoke_family(Uuid::new_v4(), at(6))
        .await
        .unwrap();
    assert!(!o.revoked("b1").await);
}

crate::on_both_stores!(
    stored_tokens_are_an_access_token_of_the_client_and_a_refresh_token_of_the_family,
    rotating_a_refresh_token_uses_it_up_and_keeps_the_next_in_its_family,
    a_used_or_revoked_refresh_token_presented_again_revokes_its_family,
    a_refresh_token_unknown_or_of_another_client_is_unknown_and_changes_nothing,
    an_expired_token_or_family_is_expired_and_the_token_stays_unused,
    a_max_age_beyond_the_calendar_never_ends_a_family,
    revoking_a_family_revokes_its_access_and_refresh_tokens_only,
);
