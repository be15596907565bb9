//! Bearer tokens as hashes: `put_token` and `token_tenant`, the listing in issue order,
//! revocation (on this store and on another replica), a revoked token staying revoked, and a hash
//! that belongs to another tenant. On PostgreSQL the tests wait for the token cache, so that
//! they go through it.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use uuid::Uuid;

use scimd::domain::{MatchingAttribute, Policy, Precedence, Tenant, TokenInfo};
use scimd::service::hash_token;
use scimd::store::{AnyStore, Missing, StoreError, Tenants, Tokens, Unique};

use super::{Fixture, all_at_once, until_tokens_are_cached};
use crate::support::{Backend, open_store};

/// The tenant and stored hash `token_tenant` answers for `token` while it is not revoked.
async fn holder(store: &AnyStore, token: &str) -> Option<(Tenant, Vec<u8>)> {
    let record = store.token_tenant(&hash_token(token)).await.unwrap()?;
    (!record.revoked).then_some((record.tenant, record.hash))
}

/// `token` found, for `tenant`, with its hash.
fn found(tenant: &Tenant, token: &str) -> Option<(Tenant, Vec<u8>)> {
    Some((tenant.clone(), hash_token(token).to_vec()))
}

async fn a_stored_token_finds_its_tenant_and_its_stored_hash(backend: Backend) {
    let f = Fixture::new(backend).await;
    until_tokens_are_cached(&f.store, backend).await;
    let before = Utc::now();
    let info = f
        .store
        .put_token(f.tenant.id, Some("ci"), &hash_token("secret-1"))
        .await
        .unwrap();
    let after = Utc::now();
    assert_eq!(
        info,
        TokenInfo {
            tenant: "default".into(),
            label: Some("ci".into()),
            revoked: None,
            ..info.clone()
        }
    );
    // stored to the millisecond at least
    assert!(
        before - TimeDelta::milliseconds(1) <= info.created && info.created <= after,
        "{before} <= {} <= {after}",
        info.created
    );
    // twice: from the database, then (on PostgreSQL) from the cache
    for _ in 0..2 {
        assert_eq!(
            holder(&f.store, "secret-1").await,
            found(&f.tenant, "secret-1")
        );
    }
    assert_eq!(holder(&f.store, "secret-2").await, None);
    assert_eq!(f.store.tokens(f.tenant.id).await.unwrap(), [info]);
}

async fn tokens_are_listed_in_issue_order_with_label_and_dates(backend: Backend) {
    let f = Fixture::new(backend).await;
    let other = f.store.create_tenant("other").await.unwrap();
    let mut issued = Vec::new();
    for (i, label) in [Some("first"), None, Some("third"), Some("fourth")]
        .into_iter()
        .enumerate()
    {
        let hash = hash_token(&format!("default-{i}"));
        issued.push(f.store.put_token(f.tenant.id, label, &hash).await.unwrap());
    }
    let theirs = f
        .store
        .put_token(other.id, Some("theirs"), &hash_token("other-0"))
        .await
        .unwrap();
    issued[1] = f.store.revoke_token(issued[1].id).await.unwrap();
    assert_eq!(f.store.tokens(f.tenant.id).await.unwrap(), issued);
    assert_eq!(
        issued
            .iter()
            .map(|t| (t.label.as_deref(), t.revoked.is_some()))
            .collect::<Vec<_>>(),
        [
            (Some("first"), false),
            (None, true),
            (Some("third"), false),
            (Some("fourth"), false)
        ]
    );
    assert!(issued.windows(2).all(|w| w[0].created <= w[1].created));
    assert_eq!(f.store.tokens(other.id).await.unwrap(), [theirs]);
    let nobody = scimd::domain::TenantId(Uuid::new_v4());
    assert_eq!(f.store.tokens(nobody).await.unwrap(), []);
}

async fn a_revoked_token_no_longer_finds_its_tenant(backend: Backend) {
    let f = Fixture::new(backend).await;
    until_tokens_are_cached(&f.store, backend).await;
    let kept = f
        .store
        .put_token(f.tenant.id, Some("kept"), &hash_token("kept"))
        .await
        .unwrap();
    let gone = f
        .store
        .put_token(f.tenant.id, Some("gone"), &hash_token("gone"))
        .await
        .unwrap();
    assert_eq!(holder(&f.store, "gone").await, found(&f.tenant, "gone"));
    assert_eq!(holder(&f.store, "kept").await, found(&f.tenant, "kept"));
    let revoked = f.store.revoke_token(gone.id).await.unwrap();
    let at = revoked.revoked.expect("a revocation date");
    assert!(
        at >= gone.created,
        "revoked {at} before created {}",
        gone.created
    );
    assert_eq!(
        revoked,
        TokenInfo {
            revoked: Some(at),
            ..gone.clone()
        }
    );
    assert_eq!(holder(&f.store, "gone").await, None);
    assert_eq!(holder(&f.store, "kept").await, found(&f.tenant, "kept"));
    // revoking again keeps the first date
    assert_eq!(f.store.revoke_token(gone.id).await.unwrap(), revoked);
    assert_eq!(f.store.tokens(f.tenant.id).await.unwrap(), [kept, revoked]);
}

/// Every replica's cache forgets a token revoked on another one: the revocation is announced
/// in its transaction. The other replica's cache hears of it asynchronously, so the test
/// waits for it (with a deadline, never a sleep).
async fn a_token_revoked_on_another_replica_is_forgotten(backend: Backend) {
    let f = Fixture::new(backend).await;
    let replica = open_store(&f.db.url).await;
    until_tokens_are_cached(&f.store, backend).await;
    until_tokens_are_cached(&replica, backend).await;
    let token = f
        .store
        .put_token(f.tenant.id, None, &hash_token("shared"))
        .await
        .unwrap();
    assert_eq!(holder(&f.store, "shared").await, found(&f.tenant, "shared"));
    replica.revoke_token(token.id).await.unwrap();
    assert_eq!(holder(&replica, "shared").await, None);
    let forgotten = async {
        while holder(&f.store, "shared").await.is_some() {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), forgotten)
        .await
        .expect("the first replica still accepts a token revoked on the second");
}

async fn revoking_an_unknown_token_is_not_found(backend: Backend) {
    let f = Fixture::new(backend).await;
    let id = Uuid::new_v4();
    assert_err!(
        f.store.revoke_token(id).await,
        StoreError::NotFound(Missing::Token { id: i }) if *i == id
    );
    assert_eq!(f.store.tokens(f.tenant.id).await.unwrap(), []);
}

async fn putting_a_revoked_tokens_hash_again_keeps_it_revoked(backend: Backend) {
    let f = Fixture::new(backend).await;
    until_tokens_are_cached(&f.store, backend).await;
    let hash = hash_token("bootstrap");
    let issued = f
        .store
        .put_token(f.tenant.id, Some("bootstrap"), &hash)
        .await
        .unwrap();
    // putting a valid token's hash again is that token
    assert_eq!(
        f.store.put_token(f.tenant.id, None, &hash).await.unwrap(),
        issued
    );
    let revoked = f.store.revoke_token(issued.id).await.unwrap();
    assert_eq!(holder(&f.store, "bootstrap").await, None);
    // the same token, still revoked, with its label and dates
    let again = f
        .store
        .put_token(f.tenant.id, Some("relabelled"), &hash)
        .await
        .unwrap();
    assert_eq!(again, revoked);
    assert!(again.revoked.is_some());
    assert_eq!(holder(&f.store, "bootstrap").await, None);
    assert_eq!(f.store.tokens(f.tenant.id).await.unwrap(), [revoked]);
}

/// Replicas starting at once with the same bootstrap token each put its hash: they agree on
/// one token.
async fn parallel_puts_of_one_hash_agree_on_one_token(backend: Backend) {
    let f = Fixture::new(backend).await;
    let put = all_at_once(8, |_| {
        let (store, tenant) = (f.store.clone(), f.tenant.id);
        async move {
            store
                .put_token(tenant, Some("bootstrap"), &hash_token("bootstrap"))
                .await
                .unwrap()
        }
    })
    .await;
    let tokens = f.store.tokens(f.tenant.id).await.unwrap();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert!(put.iter().all(|t| *t == tokens[0]), "{put:?}");
    assert_eq!(
        holder(&f.store, "bootstrap").await,
        found(&f.tenant, "bootstrap")
    );
}

async fn a_hash_of_another_tenant_is_a_uniqueness_conflict_and_moves_nothing(backend: Backend) {
    let f = Fixture::new(backend).await;
    let other = f.store.create_tenant("other").await.unwrap();
    let mine = f
        .store
        .put_token(f.tenant.id, Some("mine"), &hash_token("mine"))
        .await
        .unwrap();
    assert_err!(
        f.store
            .put_token(other.id, Some("theirs"), &hash_token("mine"))
            .await,
        StoreError::Uniqueness {
            rule: Unique::Token,
            ..
        }
    );
    assert_eq!(holder(&f.store, "mine").await, found(&f.tenant, "mine"));
    assert_eq!(f.store.tokens(other.id).await.unwrap(), []);
    assert_eq!(
        f.store.tokens(f.tenant.id).await.unwrap(),
        std::slice::from_ref(&mine)
    );
    // nor does a revoked token move, or become valid again
    let revoked = f.store.revoke_token(mine.id).await.unwrap();
    assert_err!(
        f.store.put_token(other.id, None, &hash_token("mine")).await,
        StoreError::Uniqueness {
            rule: Unique::Token,
            ..
        }
    );
    assert_eq!(holder(&f.store, "mine").await, None);
    assert_eq!(f.store.tokens(other.id).await.unwrap(), []);
    assert_eq!(f.store.tokens(f.tenant.id).await.unwrap(), [revoked]);
}

/// The tenant a token finds carries the tenant's rules as they are now, cache or not.
async fn a_token_finds_its_tenants_current_rules(backend: Backend) {
    let f = Fixture::new(backend).await;
    until_tokens_are_cached(&f.store, backend).await;
    f.store
        .put_token(f.tenant.id, None, &hash_token("rules"))
        .await
        .unwrap();
    assert_eq!(holder(&f.store, "rules").await, found(&f.tenant, "rules"));
    let roles = ["admin".to_owned()];
    f.store
        .set_roles(f.tenant.id, Some(&roles), true)
        .await
        .unwrap();
    let with_roles = Tenant {
        policy: Policy {
            matching: Precedence::default(),
            allowed_roles: Some(roles.to_vec()),
            require_role: true,
            entra_tenant: None,
            ..Default::default()
        },
        ..f.tenant.clone()
    };
    assert_eq!(holder(&f.store, "rules").await, found(&with_roles, "rules"));
    f.store
        .set_matching(
            f.tenant.id,
            Precedence::single(MatchingAttribute::ExternalId),
        )
        .await
        .unwrap();
    let mut matched = with_roles.clone();
    matched.policy.matching = Precedence::single(MatchingAttribute::ExternalId);
    assert_eq!(holder(&f.store, "rules").await, found(&matched, "rules"));
    assert_eq!(f.store.tenant("default").await.unwrap(), matched);
}

crate::on_both_stores!(
    a_stored_token_finds_its_tenant_and_its_stored_hash,
    tokens_are_listed_in_issue_order_with_label_and_dates,
    a_revoked_token_no_longer_finds_its_tenant,
    a_token_revoked_on_another_replica_is_forgotten,
    revoking_an_unknown_token_is_not_found,
    putting_a_revoked_tokens_hash_again_keeps_it_revoked,
    parallel_puts_of_one_hash_agree_on_one_token,
    a_hash_of_another_tenant_is_a_uniqueness_conflict_and_moves_nothing,
    a_token_finds_its_tenants_current_rules,
);
