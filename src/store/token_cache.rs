//! A cache of valid tokens, so that authenticating a request costs no query. It is safe across
//! replicas because it is invalidated by the database's own change feed (PostgreSQL `NOTIFY`
//! on every revocation), is only used while that feed is connected, and expires entries after a
//! minute regardless. A token that is not valid is never cached: every wrong token is checked.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::domain::Tenant;

/// How long a cached token stays valid without being checked again.
const TTL: Duration = Duration::from_secs(60);
/// Beyond this many entries the cache starts over (tokens are few; this bounds a flood).
const CAPACITY: usize = 10_000;

type Entry = (Tenant, Vec<u8>, Instant);

#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<Vec<u8>, Entry>>,
    /// Set while invalidations are being received.
    live: AtomicBool,
}

impl TokenCache {
    /// The cached tenant of a token hash, while the cache is live and the entry fresh.
    pub fn get(&self, hash: &[u8]) -> Option<(Tenant, Vec<u8>)> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.lock().ok()?;
        let (tenant, stored, at) = entries.get(hash)?;
        (at.elapsed() < TTL).then(|| (tenant.clone(), stored.clone()))
    }

    pub fn put(&self, hash: &[u8], tenant: &Tenant, stored: &[u8]) {
        if !self.live.load(Ordering::Acquire) {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(
                hash.to_vec(),
                (tenant.clone(), stored.to_vec(), Instant::now()),
            );
        }
    }

    /// Forgets everything (a token changed somewhere).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
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
    use crate::domain::TenantId;

    fn tenant() -> Tenant {
        Tenant {
            id: TenantId(uuid::Uuid::nil()),
            name: "t".into(),
            policy: Default::default(),
        }
    }

    #[test]
    fn nothing_is_served_while_invalidations_are_not_received() {
        let cache = TokenCache::default();
        cache.put(b"h", &tenant(), b"h");
        assert!(cache.get(b"h").is_none());
        cache.set_live(true);
        cache.put(b"h", &tenant(), b"h");
        assert_eq!(cache.get(b"h").map(|(t, _)| t), Some(tenant()));
        cache.set_live(false);
        assert!(cache.get(b"h").is_none());
        cache.set_live(true);
        assert!(cache.get(b"h").is_none(), "going live again starts empty");
    }

    #[test]
    fn a_clear_forgets_every_token() {
        let cache = TokenCache::default();
        cache.set_live(true);
        cache.put(b"h", &tenant(), b"h");
        cache.clear();
        assert!(cache.get(b"h").is_none());
    }
}
