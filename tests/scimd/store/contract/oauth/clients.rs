//! OAuth clients: added and found by `client_id`, listed per tenant in the order added, a new
//! secret's hash, and removal with the client's codes and tokens (refused at once, here and
//! on another replica's token cache).

use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use scimd::domain::oauth::{CodeGrant, OAuthClient, Rotation};
use scimd::service::hash_token;
use scimd::store::{Missing, OAuthStore, StoreError, Tenants, Tokens};

use super::super::stored::refresh_tokens;
use super::super::{at, until_tokens_are_cached};
use super::{OAuth, stamped};
use crate::support::{Backend, open_store};

async fn clients_are_found_by_client_id_and_listed_per_tenant_in_the_order_added(backend: Backend) {
    let o = OAuth::new(backend).await;
    let (store, tenant) = (&o.f.store, o.f.tenant.id);
    let other = store.create_tenant("other").await.unwrap();
    let uris = [
        "https://a.example/cb".to_owned(),
        "https://b.example/cb".to_owned(),
    ];
    let before = Utc::now();
    let mut added = vec![o.client.clone()];
    // names against their order, so that no order of names passes for the order added
    for name in ["zulu", "yankee", "xray", "whiskey"] {
        let secret = hash_token(name);
        added.push(
            store
                .add_client(tenant, name, &secret, &uris)
                .await
                .unwrap(),
        );
    }
    let after = Utc::now();
    let theirs = store
        .add_client(other.id, "theirs", b"s", &[])
        .await
        .unwrap();
    assert_eq!(
        added[1],
        OAuthClient {
            id: added[1].id,
            tenant,
            tenant_name: "default".into(),
            client_id: "zulu".into(),
            redirect_uris: uris.to_vec(),
            created: added[1].created,
            secret_hash: hash_token("zulu").to_vec(),
        }
    );
    stamped(added[1].created, before, after);
    assert_eq!(theirs.redirect_uris, Vec::<String>::new());
    assert_eq!(theirs.tenant_name, "other");
    let listed = store.clients(tenant).await.unwrap();
    let names: Vec<&str> = listed.iter().map(|c| c.client_id.as_str()).collect();
    assert_eq!(names, ["entra", "zulu", "yankee", "xray", "whiskey"]);
    assert_eq!(listed, added);
    assert_eq!(
        store.clients(other.id).await.unwrap(),
        std::slice::from_ref(&theirs)
    );
    for client in added.iter().chain([&theirs]) {
        let found = store.client(&client.client_id).await.unwrap();
        assert_eq!(found.as_ref(), Some(client));
    }
    assert_eq!(store.client("nobody").await.unwrap(), None);
}

async fn a_client_id_taken_is_refused_and_changes_nothing(backend: Backend) {
    let o = OAuth::new(backend).await;
    let (store, tenant) = (&o.f.store, o.f.tenant.id);
    let other = store.create_tenant("other").await.unwrap();
    for owner in [tenant, other.id] {
        let added = store.add_client(owner, "entra", b"other", &[]).await;
        assert!(added.is_err(), "{added:?}");
    }
    assert_eq!(store.client("entra").await.unwrap(), Some(o.client.clone()));
    assert_eq!(
        store.clients(tenant).await.unwrap(),
        std::slice::from_ref(&o.client)
    );
    assert_eq!(store.clients(other.id).await.unwrap(), []);
}

async fn a_new_secret_replaces_the_clients_hash(backend: Backend) {
    let o = OAuth::new(backend).await;
    let store = &o.f.store;
    let second = store.add_client(o.f.tenant.id, "second", b"2", &[]).await;
    let second = second.unwrap();
    let updated = store
        .set_client_secret("entra", &hash_token("rotated"))
        .await;
    let expected = OAuthClient {
        secret_hash: hash_token("rotated").to_vec(),
        ..o.client.clone()
    };
    assert_eq!(updated.unwrap(), expected);
    assert_eq!(store.client("entra").await.unwrap(), Some(expected.clone()));
    assert_eq!(
        store.clients(o.f.tenant.id).await.unwrap(),
        [expected, second]
    );
    assert_err!(
        store.set_client_secret("nobody", b"x").await,
        StoreError::NotFound(Missing::Client { client_id }) if client_id == "nobody"
    );
}

/// The code `code` of `client`, for `ada`, in its own family.
fn code_grant(o: &OAuth, client: &OAuthClient) -> CodeGrant {
    CodeGrant {
        client: client.id,
        tenant: o.f.tenant.id,
        admin: o.ada.id,
        redirect_uri: None,
        challenge: None,
        challenge_method: None,
        family: Uuid::new_v4(),
        expires: at(600),
    }
}

async fn removing_a_client_takes_its_codes_and_tokens_with_it(backend: Backend) {
    let o = OAuth::new(backend).await;
    let (store, tenant) = (&o.f.store, o.f.tenant.id);
    until_tokens_are_cached(store, backend).await;
    let kept = store.add_client(tenant, "kept", b"k", &[]).await.unwrap();
    store
        .put_code(b"code", &code_grant(&o, &o.client))
        .await
        .unwrap();
    let kept_code = code_grant(&o, &kept);
    store.put_code(b"kept-code", &kept_code).await.unwrap();
    o.issue(&o.grant(Uuid::new_v4(), Some(&o.ada), "gone", Some("gone-r")))
        .await;
    let mut theirs = o.grant(Uuid::new_v4(), Some(&o.ada), "kept", Some("kept-r"));
    theirs.client = kept.id;
    o.issue(&theirs).await;
    // cached on PostgreSQL, so that the removal must clear it
    assert!(!o.revoked("gone").await);
    assert_eq!(
        o.access("gone").await.unwrap().client.as_deref(),
        Some("entra")
    );

    store.remove_client("entra").await.unwrap();
    assert_eq!(store.client("entra").await.unwrap(), None);
    assert_eq!(
        store.clients(tenant).await.unwrap(),
        std::slice::from_ref(&kept)
    );
    assert_eq!(o.access("gone").await, None);
    assert_eq!(store.take_code(b"code", at(1)).await.unwrap(), None);
    let next = o.grant(Uuid::new_v4(), None, "next", Some("next-r"));
    let gone = hash_token("gone-r");
    let rotated = store.rotate_refresh(&gone, o.client.id, &next, at(1), Duration::MAX);
    assert_eq!(rotated.await.unwrap(), Rotation::Unknown);
    let refresh = refresh_tokens(&o.f.db).await;
    assert_eq!(
        refresh.keys().collect::<Vec<_>>(),
        [&hash_token("kept-r").to_vec()]
    );
    // the other client's are untouched
    assert_eq!(
        o.access("kept").await.unwrap().client.as_deref(),
        Some("kept")
    );
    assert!(!o.revoked("kept").await);
    let taken = store.take_code(b"kept-code", at(1)).await.unwrap();
    assert_eq!(taken, Some((kept_code, true)));
    assert_err!(
        store.remove_client("entra").await,
        StoreError::NotFound(Missing::Client { client_id }) if client_id == "entra"
    );
}

/// A replica that accepted a client's token from its cache refuses it once the client is
/// removed on another one. The other replica hears of it asynchronously, so the test waits
/// for it (with a deadline, never a sleep).
async fn a_client_removed_on_another_replica_has_its_tokens_forgotten(backend: Backend) {
    let o = OAuth::new(backend).await;
    let replica = open_store(&o.f.db.url).await;
    until_tokens_are_cached(&o.f.store, backend).await;
    until_tokens_are_cached(&replica, backend).await;
    o.issue(&o.grant(Uuid::new_v4(), Some(&o.ada), "gone", None))
        .await;
    assert!(!o.revoked("gone").await);
    replica.remove_client("entra").await.unwrap();
    assert_eq!(
        replica.token_tenant(&hash_token("gone")).await.unwrap(),
        None
    );
    let forgotten = async {
        while o.access("gone").await.is_some() {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), forgotten)
        .await
        .expect("the first replica still accepts a token of a client removed on the second");
}

crate::on_both_stores!(
    clients_are_found_by_client_id_and_listed_per_tenant_in_the_order_added,
    a_client_id_taken_is_refused_and_changes_nothing,
    a_new_secret_replaces_the_clients_hash,
    removing_a_client_takes_its_codes_and_tokens_with_it,
    a_client_removed_on_another_replica_has_its_tokens_forgotten,
);
