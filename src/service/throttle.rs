//! A throttle on failed sign-ins, per account and per client address, in this process: after
//! `ACCOUNT_LIMIT` failures for one account, or `ADDRESS_LIMIT` from one address, within
//! `WINDOW`, sign-ins are refused until the window has passed. A success clears the
//! account's count. (Each replica counts its own failures.)

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const ACCOUNT_LIMIT: u32 = 5;
pub const ADDRESS_LIMIT: u32 = 20;
/// Beyond this many keys the oldest windows are dropped (bounds a flood of names).
const CAPACITY: usize = 100_000;

#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    /// How long sign-ins for `account` (or from `address`) stay refused, if they are.
    pub fn blocked(&self, account: &str, address: Option<IpAddr>) -> Option<Duration> {
        let failures = self.failures.lock().ok()?;
        let over = |key: &str, limit: u32| {
            failures
                .get(key)
                .filter(|(n, at)| *n >= limit && at.elapsed() < WINDOW)
                .map(|(_, at)| WINDOW.saturating_sub(at.elapsed()))
        };
        over(account, ACCOUNT_LIMIT).or_else(|| address.and_then(|a| over(&key(a), ADDRESS_LIMIT)))
    }

    pub fn failed(&self, account: &str, address: Option<IpAddr>) {
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        if failures.len() >= CAPACITY {
            failures.retain(|_, (_, at)| at.elapsed() < WINDOW);
        }
        let keys = [Some(account.to_owned()), address.map(key)];
        for k in keys.into_iter().flatten() {
            let entry = failures.entry(k).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= WINDOW {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
    }

    pub fn succeeded(&self, account: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(account);
        }
    }
}

fn key(address: IpAddr) -> String {
    format!("address {address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_refused_after_five_failures_and_a_success_clears_it() {
        let t = Throttle::default();
        for _ in 0..ACCOUNT_LIMIT - 1 {
            t.failed("a", None);
        }
        assert!(t.blocked("a", None).is_none());
        t.failed("a", None);
        assert!(t.blocked("a", None).is_some_and(|d| d <= WINDOW));
        assert!(
            t.blocked("b", None).is_none(),
            "other accounts are not affected"
        );
        t.succeeded("a");
        assert!(t.blocked("a", None).is_none());
    }

    #[test]
    fn an_address_is_refused_after_twenty_failures_on_any_accounts() {
        let t = Throttle::default();
        let ip: IpAddr = [10, 0, 0, 1].into();
        for n in 0..ADDRESS_LIMIT {
            t.failed(&format!("user{n}"), Some(ip));
        }
        assert!(t.blocked("fresh", Some(ip)).is_some());
        assert!(t.blocked("fresh", Some([10, 0, 0, 2].into())).is_none());
    }
}
