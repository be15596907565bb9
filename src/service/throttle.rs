//! The throttle on sign-ins (the console's and OAuth's Authorize page), shared by every replica
//! through the store. An attempt is counted *before* its password is checked, atomically, so
//! that requests in flight at once cannot each get a guess: within [`WINDOW`], one client
//! address gets [`ACCOUNT_LIMIT`] attempts at one account and [`ADDRESS_LIMIT`] at all
//! accounts. An account is never blocked as such — only an address at it — so that nobody can
//! keep a named admin out by failing their password from elsewhere; a successful sign-in clears
//! its address's count for the account. IPv6 clients are counted per /64, the block one
//! subscriber usually holds.
//!
//! Password checks (Argon2id, 19 MiB each) have a budget of their own, [`PASSWORD_CHECKS`] at
//! once: past it a sign-in waits at most [`CHECK_WAIT`], then is refused as busy. A flood of
//! sign-ins costs a bounded amount of memory and CPU, and SCIM keeps its request slots.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::TimeDelta;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::admins::verify_password;
use super::{Directory, Error};
use crate::store::AttemptStore;

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Attempts one address may make at one account within [`WINDOW`].
pub const ACCOUNT_LIMIT: u64 = 5;
/// Attempts one address may make at all accounts within [`WINDOW`].
pub const ADDRESS_LIMIT: u64 = 20;
/// Password checks run at once in this process.
pub const PASSWORD_CHECKS: usize = 2;
/// How long a sign-in waits for a password check to be free.
pub const CHECK_WAIT: Duration = Duration::from_secs(2);

/// The budget of password checks, and how many were made.
#[derive(Debug)]
pub struct Throttle {
    checks: Arc<Semaphore>,
    checked: AtomicU64,
}

impl Default for Throttle {
    fn default() -> Self {
        Self {
            checks: Arc::new(Semaphore::new(PASSWORD_CHECKS)),
            checked: AtomicU64::new(0),
        }
    }
}

/// Why a sign-in is not checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// Too many attempts from this address: retry after this long.
    TooMany(Duration),
    /// Every password check is taken: retry in a moment.
    Busy,
}

/// The keys one attempt is counted under: the account from this address, and the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptKeys {
    account: String,
    address: String,
}

impl AttemptKeys {
    /// `account` names the tenant and the user name as typed (their case and surrounding
    /// spaces do not matter). The keys are hashes: bounded in size, whatever was typed.
    pub fn new(account: &str, address: Option<IpAddr>) -> Self {
        let from = address.map_or_else(|| "unknown".to_owned(), bucket);
        let hash = |parts: &[&str]| -> String {
            let mut h = Sha256::new();
            for part in parts {
                h.update(part.as_bytes());
                h.update([0]);
            }
            h.finalize().iter().map(|b| format!("{b:02x}")).collect()
        };
        let account = account.trim().to_lowercase();
        Self {
            account: hash(&["account", &account, &from]),
            address: hash(&["address", &from]),
        }
    }
}

/// The block an address is counted in: itself for IPv4, its /64 for IPv6.
fn bucket(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

impl Directory {
    /// Counts an attempt at `keys`, before its password is checked; held when the address
    /// has used up its attempts at the account or at all accounts.
    pub(super) async fn count_sign_in(&self, keys: &AttemptKeys) -> Result<Option<Held>, Error> {
        let now = self.now();
        let window = TimeDelta::from_std(WINDOW).unwrap_or(TimeDelta::minutes(15));
        let counted = self
            .store
            .count_attempt(
                &[keys.account.clone(), keys.address.clone()],
                now - window,
                now,
            )
            .await?;
        let over = counted
            .iter()
            .zip([ACCOUNT_LIMIT, ADDRESS_LIMIT])
            .filter(|(a, limit)| a.count > *limit)
            .map(|(a, _)| (a.window_start + window - now).to_std().unwrap_or_default())
            .max();
        Ok(over.map(Held::TooMany))
    }

    /// Checks `password` against `hash` (against a dummy hash when there is none, so that an
    /// unknown name takes as long), within the budget of password checks.
    pub(super) async fn check_password(
        &self,
        password: &str,
        hash: Option<String>,
    ) -> Result<Result<bool, Held>, Error> {
        let budget = self.oauth.sign_ins.checks.clone();
        let Ok(Ok(permit)) = tokio::time::timeout(CHECK_WAIT, budget.acquire_owned()).await else {
            return Ok(Err(Held::Busy));
        };
        self.oauth.sign_ins.checked.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("scimd_password_checks_total").increment(1);
        let password = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            match hash {
                Some(hash) => verify_password(&password, &hash),
                None => {
                    verify_password(&password, DUMMY_HASH);
                    false
                }
            }
        })
        .await
        .map_err(|e| Error::internal(format!("password check: {e}")))?;
        Ok(Ok(matches))
    }

    /// How many passwords this process has checked (the throttle's tests count them).
    pub fn password_checks(&self) -> u64 {
        self.oauth.sign_ins.checked.load(Ordering::Relaxed)
    }

    /// A successful sign-in: the address's count at the account starts again.
    pub(super) async fn signed_in(&self, keys: &AttemptKeys) -> Result<(), Error> {
        Ok(self.store.forget_attempts(&keys.account).await?)
    }

    /// Forgets the attempts whose window is over; how many keys went.
    pub async fn prune_sign_in_attempts(&self) -> Result<u64, Error> {
        let window = TimeDelta::from_std(WINDOW).unwrap_or(TimeDelta::minutes(15));
        Ok(self.store.prune_attempts(self.now() - window).await?)
    }
}

/// An Argon2id hash of a random password, checked when the user name is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2NpbWRkdW1teXNhbHQ$7cVXq4+Zyl3lWx3S+1lO0zOaJ0kU6bW1p9TbqY8oQ2A";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_is_a_valid_argon2id_hash_so_unknown_names_cost_a_full_check() {
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn keys_ignore_case_and_spaces_and_count_ipv6_clients_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(
            AttemptKeys::new("contoso/Alice ", Some(a)),
            AttemptKeys::new("CONTOSO/alice", Some(b))
        );
        assert_ne!(
            AttemptKeys::new("contoso/alice", Some(a)).address,
            AttemptKeys::new("contoso/alice", Some(c)).address
        );
        let v4 = AttemptKeys::new("contoso/alice", Some([10, 0, 0, 1].into()));
        let other = AttemptKeys::new("contoso/alice", Some([10, 0, 0, 2].into()));
        assert_ne!(v4.account, other.account);
        assert_eq!(v4.account.len(), 64, "a hash, whatever was typed");
    }
}
