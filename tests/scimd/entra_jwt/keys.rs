//! How Entra's signing keys are fetched: once and then from the cache, again for a key not
//! seen yet but at most once per interval, again when old, and what a key server that fails,
//! does not answer in time, answers without end or is not there at all makes of a token.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use scimd::domain::clock::Clock;
use scimd::service::entra_jwt::{EntraKeys, JwtRefusal, KeyPolicy};

use super::{TID, setup};
use crate::support::endless::{Endless, Framing};
use crate::support::jwks::{KeyServer, TestKey, entra_claims, sign, sign_as};

/// A verifier of `server`'s keys with `policy`'s times, on a clock the test moves (no test
/// sleeps for a cache to age).
fn verifier(server: &KeyServer, policy: KeyPolicy) -> (EntraKeys, Clock) {
    let clock = Clock::default();
    clock.set(scimd::service::now());
    let keys = EntraKeys::with_policy(&server.metadata_url(), policy)
        .unwrap()
        .with_clock(clock.clone());
    (keys, clock)
}

#[tokio::test]
async fn keys_are_fetched_once_and_then_served_from_the_cache() {
    let (server, keys) = setup().await;
    let token = sign(&entra_claims(TID), TestKey::A);

    // Requests arriving together before any key is known wait for one fetch.
    let first = join_all((0..10).map(|_| keys.verify(&token, TID))).await;
    assert!(first.iter().all(Result::is_ok), "{first:?}");
    for _ in 0..10 {
        keys.verify(&token, TID).await.unwrap();
    }

    assert_eq!((server.metadata_fetches(), server.key_fetches()), (1, 1));
}

#[tokio::test]
async fn an_unknown_key_is_refused_after_one_refetch_and_refetches_are_rate_limited() {
    let (server, keys) = setup().await;
    let claims = entra_claims(TID);
    keys.verify(&sign(&claims, TestKey::A), TID).await.unwrap();
    assert_eq!(server.key_fetches(), 1);

    let unknown = sign_as(&claims, TestKey::A, "a-key-entra-never-published");
    assert_eq!(
        keys.verify(&unknown, TID).await,
        Err(JwtRefusal::UnknownKey)
    );
    assert_eq!(server.key_fetches(), 2, "one refetch for the unknown key");

    // A flood of unknown keys within the interval fetches nothing more.
    let flood: Vec<String> = (0..25)
        .map(|i| sign_as(&claims, TestKey::A, &format!("unknown-{i}")))
        .collect();
    let verdicts = join_all(flood.iter().map(|token| keys.verify(token, TID))).await;
    assert!(
        verdicts.iter().all(|v| *v == Err(JwtRefusal::UnknownKey)),
        "{verdicts:?}"
    );
    assert_eq!(
        keys.verify(&unknown, TID).await,
        Err(JwtRefusal::UnknownKey)
    );
    assert_eq!((server.metadata_fetches(), server.key_fetches()), (2, 2));

    // Known keys are unaffected.
    keys.verify(&sign(&claims, TestKey::A), TID).await.unwrap();
    assert_eq!(server.key_fetches(), 2);
}

#[tokio::test]
async fn an_unknown_key_is_looked_up_again_once_the_refetch_interval_has_passed() {
    let server = KeyServer::start(&[TestKey::A]).await;
    let min_refetch = Duration::from_secs(300);
    let (keys, clock) = verifier(
        &server,
        KeyPolicy {
            min_refetch,
            ..KeyPolicy::default()
        },
    );
    let claims = entra_claims(TID);
    keys.verify(&sign(&claims, TestKey::A), TID).await.unwrap();
    let rolled_over = sign(&claims, TestKey::B);

    assert_eq!(
        keys.verify(&rolled_over, TID).await,
        Err(JwtRefusal::UnknownKey)
    );
    server.publish(TestKey::B);
    assert_eq!(
        keys.verify(&rolled_over, TID).await,
        Err(JwtRefusal::UnknownKey)
    );
    assert_eq!(server.key_fetches(), 2, "no refetch within the interval");

    clock.advance(min_refetch);
    assert!(keys.verify(&rolled_over, TID).await.is_ok());
    assert_eq!(server.key_fetches(), 3);
}

#[tokio::test]
async fn a_key_published_after_the_first_fetch_is_picked_up_through_the_unknown_kid_refetch() {
    let (server, keys) = setup().await;
    let claims = entra_claims(TID);
    keys.verify(&sign(&claims, TestKey::A), TID).await.unwrap();

    // Entra rolls over to key B.
    server.publish(TestKey::B);
    let accepted = keys.verify(&sign(&claims, TestKey::B), TID).await.unwrap();
    assert_eq!(accepted.tid, TID);
    assert_eq!(server.key_fetches(), 2);

    // Both keys are now cached.
    keys.verify(&sign(&claims, TestKey::B), TID).await.unwrap();
    keys.verify(&sign(&claims, TestKey::A), TID).await.unwrap();
    assert_eq!(server.key_fetches(), 2);
}

#[tokio::test]
async fn keys_past_their_cache_time_are_fetched_again_and_kept_while_the_key_server_fails() {
    let server = KeyServer::start(&[TestKey::A]).await;
    let cache_for = Duration::from_secs(24 * 3600);
    let (keys, clock) = verifier(
        &server,
        KeyPolicy {
            cache_for,
            ..KeyPolicy::default()
        },
    );
    let token = sign(&entra_claims(TID), TestKey::A);
    keys.verify(&token, TID).await.unwrap();

    clock.advance(cache_for);
    keys.verify(&token, TID).await.unwrap();
    assert_eq!(server.key_fetches(), 2);

    server.fail(true);
    clock.advance(cache_for);
    assert!(
        keys.verify(&token, TID).await.is_ok(),
        "the old keys are still used"
    );
    assert_eq!(server.metadata_fetches(), 3, "a fetch was tried");
}

#[tokio::test]
async fn a_failing_key_server_makes_keys_unavailable_until_a_retry_after_a_pause_succeeds() {
    let server = KeyServer::start(&[TestKey::A]).await;
    let retry_after_failure = Duration::from_secs(60);
    let policy = KeyPolicy {
        retry_after_failure,
        ..KeyPolicy::default()
    };
    let (keys, clock) = verifier(&server, policy);
    let token = sign(&entra_claims(TID), TestKey::A);
    server.fail(true);

    let Err(JwtRefusal::KeysUnavailable(why)) = keys.verify(&token, TID).await else {
        panic!("keys should be unavailable");
    };
    assert!(why.contains("503"), "{why}");
    // Right after a failure, no new fetch: the same refusal.
    let again = keys.verify(&token, TID).await;
    assert!(
        matches!(again, Err(JwtRefusal::KeysUnavailable(_))),
        "{again:?}"
    );
    assert_eq!(server.metadata_fetches(), 1);

    server.fail(false);
    clock.advance(retry_after_failure);
    assert!(keys.verify(&token, TID).await.is_ok());
    assert_eq!(server.metadata_fetches(), 2);
}

#[tokio::test]
async fn an_unreachable_key_server_makes_keys_unavailable() {
    // A port that was just free: nothing listens on it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let template = format!("http://{address}/{{tenant}}/.well-known/openid-configuration");
    let keys = EntraKeys::new(&template).unwrap();
    let token = sign(&entra_claims(TID), TestKey::A);

    let refusal = keys.verify(&token, TID).await.unwrap_err();

    let JwtRefusal::KeysUnavailable(why) = &refusal else {
        panic!("{refusal:?}");
    };
    assert!(why.contains(&address.to_string()), "{why}");
    super::assert_no_token_in(&refusal, &token);
}

#[tokio::test]
async fn a_key_server_slower_than_the_fetch_timeout_makes_keys_unavailable_in_time() {
    let server = KeyServer::start(&[TestKey::A]).await;
    let fetch_timeout = Duration::from_millis(300);
    let (keys, _) = verifier(
        &server,
        KeyPolicy {
            fetch_timeout,
            ..KeyPolicy::default()
        },
    );
    server.answer_after(Duration::from_secs(3));
    let token = sign(&entra_claims(TID), TestKey::A);

    let started = Instant::now();
    let refusal = keys.verify(&token, TID).await;

    assert!(
        matches!(refusal, Err(JwtRefusal::KeysUnavailable(_))),
        "{refusal:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_endless_key_set_is_read_up_to_its_limit_and_makes_keys_unavailable() {
    let fetch_timeout = KeyPolicy::default().fetch_timeout;
    for framing in [Framing::Chunked, Framing::Length(10_000_000_000)] {
        // its OpenID configuration is whole; the key set it names never ends
        let host = Endless::start(200, framing).await;
        let keys = EntraKeys::new(&host.url("/{tenant}/.well-known/openid-configuration")).unwrap();
        let token = sign(&entra_claims(TID), TestKey::A);

        let refusal = tokio::time::timeout(fetch_timeout, keys.verify(&token, TID))
            .await
            .expect("the verdict comes within the fetch timeout");

        let expected = format!("{} answered more than 1048576 bytes", host.url("/keys"));
        assert_eq!(
            refusal,
            Err(JwtRefusal::KeysUnavailable(expected)),
            "{framing:?}"
        );
        // the key set's connection: closed by scimd once it had read its limit
        assert_eq!(host.closed(1, fetch_timeout).await.len(), 1, "{framing:?}");
    }
}
