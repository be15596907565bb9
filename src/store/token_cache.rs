//! A cache of valid credentials — tenants' bearer tokens and the application's operator keys —
//! so that authenticating a request costs no query. It is safe across
//! replicas because it is invalidated by the database's own change feed (PostgreSQL `NOTIFY`
//! on every revocation), is only used while that feed is connected, and expires entries after a
//! minute regardless. A token that is not valid is never cached: every wrong token is checked.
//! Every clear starts a new generation, and a lookup caches its answer only if no clear came
//! between its query and its answer: a revocation announced while a lookup of the same token
//! ran cannot put the revoked token back.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::domain::oauth::TokenRecord;
use crate::domain::operator::OperatorKey;

/// How long a cached token stays valid without being checked again.
const TTL: Duration = Duration::from_secs(60);
/// Beyond this many entries the cache starts over (tokens are few; this bounds a flood).
const CAPACITY: usize = 10_000;

/// A valid credential and when it was cached.
type Entry = (Credential, Instant);

/// What a cached hash is (their prefixes differ, so their hashes never meet).
#[derive(Debug, Clone)]
enum Credential {
    Token(TokenRecord),
    Operator(OperatorKey, Vec<u8>),
}

#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<Entries>,
    /// Set while invalidations are being received.
    live: AtomicBool,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<Vec<u8>, Entry>,
    /// How many times the cache was cleared.
    generation: u64,
}

impl TokenCache {
    /// The cached record of a valid token's hash, while the cache is live, the entry fresh
    /// and the token unexpired.
    pub fn get(&self, hash: &[u8]) -> Option<TokenRecord> {
        match self.fresh(hash)? {
            Credential::Token(record) if record.expires.is_none_or(|e| Utc::now() < e) => {
                Some(record)
            }
            _ => None,
        }
    }

    /// The cached operator key of a hash (and its stored hash), while the cache is live and
    /// the entry fresh.
    pub fn get_operator(&self, hash: &[u8]) -> Option<(OperatorKey, Vec<u8>)> {
        match self.fresh(hash)? {
            Credential::Operator(key, stored) => Some((key, stored)),
            Credential::Token(_) => None,
        }
    }

    fn fresh(&self, hash: &[u8]) -> Option<Credential> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.lock().ok()?;
        let (credential, at) = entries.map.get(hash)?;
        (at.elapsed() < TTL).then(|| credential.clone())
    }

    /// The current generation, to be taken before the query whose answer is `put`.
    pub fn generation(&self) -> u64 {
        self.entries.lock().map_or(0, |e| e.generation)
    }

    /// Caches the answer of a lookup that began at `generation`, unless the cache was cleared
    /// since. Only valid tokens are cached.
    pub fn put(&self, generation: u64, hash: &[u8], record: &TokenRecord) {
        if record.revoked {
            return;
        }
        self.insert(generation, hash, Credential::Token(record.clone()));
    }

    /// Caches an operator key found by a lookup that began at `generation` (as [`put`]).
    ///
    /// [`put`]: TokenCache::put
    pub fn put_operator(&self, generation: u64, hash: &[u8], key: &OperatorKey, stored: &[u8]) {
        self.insert(
            generation,
            hash,
            Credential::Operator(key.clone(), stored.to_vec()),
        );
    }

    fn insert(&self, generation: u64, hash: &[u8], credential: Credential) {
        if !self.live.load(Ordering::Acquire) {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.generation != generation {
                return;
            }
            if entries.map.len() >= CAPACITY {
                entries.map.clear();
            }
            entries
                .map
                .insert(hash.to_vec(), (credential, Instant::now()));
        }
    }

    /// Forgets everything (a token changed somewhere) and starts a new generation.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.map.clear();
            entries.generation += 1;
        }
    }

    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// Invalidations are (`true`) or are no longer (`false`) being received; either way the
    /// cache starts empty.
    pub fn set_live(&self, live: bool) {
        self.clear();
        self.live.store(live, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Tenant, TenantId};

    fn tenant() -> Tenant {
        Tenant {
            id: TenantId(uuid::Uuid::nil()),
            name: "t".into(),
            policy: Default::default(),
            created: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn valid(expires: Option<chrono::DateTime<Utc>>) -> TokenRecord {
        TokenRecord {
            id: uuid::Uuid::nil(),
            tenant: tenant(),
            hash: b"h".to_vec(),
            revoked: false,
            expires,
            client: None,
        }
    }

    #[test]
    fn nothing_is_served_while_invalidations_are_not_received() {
        let cache = TokenCache::default();
        cache.put(cache.generation(), b"h", &valid(None));
        assert!(cache.get(b"h").is_none());
        cache.set_live(true);
        cache.put(cache.generation(), b"h", &valid(None));
        assert_eq!(cache.get(b"h").map(|r| r.tenant), Some(tenant()));
        cache.set_live(false);
        assert!(cache.get(b"h").is_none());
        cache.set_live(true);
        assert!(cache.get(b"h").is_none(), "going live again starts empty");
    }

    #[test]
    fn a_clear_forgets_every_token() {
        let cache = TokenCache::default();
        cache.set_live(true);
        cache.put(cache.generation(), b"h", &valid(None));
        cache.clear();
        assert!(cache.get(b"h").is_none());
    }

    #[test]
    fn a_lookup_that_a_revocation_overtook_caches_nothing() {
        let cache = TokenCache::default();
        cache.set_live(true);
        // the lookup begins and reads the token as valid ...
        let began = cache.generation();
        // ... meanwhile the revocation commits and its notification clears the cache ...
        cache.clear();
        // ... and the lookup's answer, stale now, is not cached
        cache.put(began, b"h", &valid(None));
        assert!(cache.get(b"h").is_none());
        // a lookup that began after the clear is cached
        cache.put(cache.generation(), b"h", &valid(None));
        assert_eq!(cache.get(b"h").map(|r| r.tenant), Some(tenant()));
    }

    #[test]
    fn an_access_token_is_not_served_from_the_cache_once_it_has_expired() {
        let cache = TokenCache::default();
        cache.set_live(true);
        let past = Utc::now() - chrono::Duration::seconds(1);
        cache.put(cache.generation(), b"h", &valid(Some(past)));
        assert!(cache.get(b"h").is_none());
        let future = Utc::now() + chrono::Duration::seconds(60);
        cache.put(cache.generation(), b"h", &valid(Some(future)));
        assert!(cache.get(b"h").is_some());
    }
}
