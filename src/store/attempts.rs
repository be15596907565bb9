//! The store's part of the sign-in throttle: attempts counted per key in fixed windows, in the
//! database, so that every replica counts the same attempts and a restart forgets none. Keys
//! are opaque to the store (the service hashes what it counts by).

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::store::StoreError;

/// The attempts of one key in its current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts {
    pub count: u64,
    pub window_start: DateTime<Utc>,
}

/// Counting sign-in attempts.
pub trait AttemptStore {
    /// Counts one attempt for each key at `now`, atomically per key: a key whose window
    /// started at or before `window_after` starts a new window at `now`. The counts, after this
    /// attempt, in the order of `keys`.
    fn count_attempt(
        &self,
        keys: &[String],
        window_after: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<Attempts>, StoreError>> + Send;
    /// Forgets a key's attempts (a successful sign-in).
    fn forget_attempts(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Deletes the keys whose window started before `before`; how many went.
    fn prune_attempts(
        &self,
        before: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
