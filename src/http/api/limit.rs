//! The rate of one operator key at `/api/v1` (`SCIMD_API_RATE_LIMIT` requests per second, a
//! burst of twice as many), on each replica: a token bucket per key, in memory. A key that
//! sends faster is answered 429 with how long to wait. The same buckets keep a tenant's SCIM
//! requests to the rate of its rule (`scimd tenant set T --rate-limit 200/s`), keyed by tenant.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

/// Keys tracked at most; the fullest buckets (keys idle long enough) are forgotten first.
const MAX_KEYS: usize = 10_000;

#[derive(Debug)]
pub struct RateLimit {
    per_second: u32,
    buckets: Mutex<HashMap<Uuid, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimit {
    /// `per_second` requests per key; 0 for no limit.
    pub fn new(per_second: u32) -> Self {
        RateLimit {
            per_second,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn per_second(&self) -> u32 {
        self.per_second
    }

    /// Takes one request of `key`'s allowance; how long to wait when there is none.
    pub fn take(&self, key: Uuid) -> Result<(), Duration> {
        self.take_at(key, self.per_second, Instant::now())
    }

    /// Takes one request of `key`'s allowance at a rate of its own, `per_second`.
    pub fn take_with(&self, key: Uuid, per_second: u32) -> Result<(), Duration> {
        self.take_at(key, per_second, Instant::now())
    }

    fn take_at(&self, key: Uuid, per_second: u32, now: Instant) -> Result<(), Duration> {
        if per_second == 0 {
            return Ok(());
        }
        let rate = f64::from(per_second);
        let burst = rate * 2.0;
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(&key) {
            // a key idle for a full burst's refill has a full bucket: forgetting it changes nothing
            let full = Duration::from_secs_f64(burst / rate);
            buckets.retain(|_, b| now.duration_since(b.at) < full);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refill).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_a_burst_of_twice_its_rate_then_its_rate() {
        let limit = RateLimit::new(5);
        let (key, start) = (Uuid::new_v4(), Instant::now());
        for _ in 0..10 {
            assert_eq!(limit.take_at(key, limit.per_second, start), Ok(()));
        }
        let wait = limit.take_at(key, limit.per_second, start).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(200),
            "{wait:?}"
        );
        // another key has its own allowance
        assert_eq!(
            limit.take_at(Uuid::new_v4(), limit.per_second, start),
            Ok(())
        );
        let later = start + Duration::from_millis(200);
        assert_eq!(limit.take_at(key, limit.per_second, later), Ok(()));
        assert!(limit.take_at(key, limit.per_second, later).is_err());
    }

    #[test]
    fn zero_means_no_limit() {
        let limit = RateLimit::new(0);
        let (key, now) = (Uuid::new_v4(), Instant::now());
        for _ in 0..10_000 {
            assert_eq!(limit.take_at(key, limit.per_second, now), Ok(()));
        }
    }
}
