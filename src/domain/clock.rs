//! What time it is, for every use case: the system's, to the millisecond — the precision of
//! every timestamp scimd stores and renders, so that what a client saw on create is what it
//! reads back — or, in tests, a time the test sets and moves on. Retention, expiry, sessions,
//! throttle windows, backoff and cycles all ask the clock, so a test moves the clock instead of
//! sleeping.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// The system's time, to the millisecond (what a clock nobody set reads).
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    t.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(t)
}

/// A clock shared by every clone: the system's until a test sets it.
#[derive(Debug, Clone, Default)]
pub struct Clock(Arc<Mutex<Option<DateTime<Utc>>>>);

impl Clock {
    /// Now, to the millisecond.
    pub fn now(&self) -> DateTime<Utc> {
        match self.0.lock().map(|at| *at).unwrap_or(None) {
            Some(t) => t.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(t),
            None => now(),
        }
    }

    /// Stops the clock at `at` (tests).
    pub fn set(&self, at: DateTime<Utc>) {
        if let Ok(mut set) = self.0.lock() {
            *set = Some(at);
        }
    }

    /// Moves the clock on by `by`, stopping it there if it was running (tests).
    pub fn advance(&self, by: Duration) {
        let next = self.now() + TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX);
        self.set(next);
    }

    /// How long ago `at` was, by this clock (zero for a time ahead of it).
    pub fn since(&self, at: DateTime<Utc>) -> Duration {
        (self.now() - at).to_std().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_clock_stays_until_moved_and_every_clone_sees_it() {
        let clock = Clock::default();
        let running = clock.now();
        assert!(
            (Utc::now() - running).num_seconds().abs() < 5,
            "the system's time"
        );
        let at = DateTime::from_timestamp(1_800_000_000, 123_456_789).unwrap();
        let shared = clock.clone();
        clock.set(at);
        assert_eq!(
            shared.now(),
            DateTime::from_timestamp(1_800_000_000, 123_000_000).unwrap()
        );
        shared.advance(Duration::from_secs(90));
        assert_eq!(
            clock.since(at),
            Duration::from_secs(90) - Duration::from_nanos(456_789),
            "set exactly, read to the millisecond"
        );
        assert_eq!(clock.since(at + TimeDelta::hours(1)), Duration::ZERO);
    }
}
