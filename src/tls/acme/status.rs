//! What the ACME client has done, for the operator page: the names and the directory, the
//! certificate served (when it was issued and ends, when its renewal is due), the last
//! certificate obtained, and the last failure — when, what, how many attempts in a row have
//! failed since a certificate was last obtained, and when the next attempt is.

use std::sync::Mutex;
use std::time::SystemTime;

/// The ACME client's state as of the last change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// `SCIMD_ACME_DOMAINS`.
    pub domains: Vec<String>,
    /// `SCIMD_ACME_DIRECTORY`.
    pub directory: String,
    /// The certificate served: none before the first issuance.
    pub served: Option<Served>,
    /// When this process last obtained a certificate (not a stored one loaded at start).
    pub obtained: Option<SystemTime>,
    /// The last attempt that failed, even when one succeeded after it.
    pub failure: Option<Failure>,
    /// Attempts failed in a row since the last success (0: the last attempt succeeded, or
    /// none was needed yet).
    pub failing: u32,
    /// When the next attempt is made after a failure (none while nothing is failing).
    pub retry_at: Option<SystemTime>,
}

/// The certificate served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    /// When its renewal is due.
    pub renew_at: SystemTime,
}

/// An attempt that failed: when, and why in the client's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub at: SystemTime,
    pub what: String,
}

/// The shared state: written by the client, read by the page.
#[derive(Debug, Default)]
pub struct Status(Mutex<Snapshot>);

impl Status {
    pub fn new(domains: Vec<String>, directory: String) -> Self {
        Self(Mutex::new(Snapshot {
            domains,
            directory,
            ..Snapshot::default()
        }))
    }

    /// The state now.
    pub fn snapshot(&self) -> Snapshot {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn change(&self, f: impl FnOnce(&mut Snapshot)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// A certificate is served from now on (stored, or just obtained).
    pub(super) fn serving(&self, served: Served) {
        self.change(|s| s.served = Some(served));
    }

    /// A certificate was obtained now: the failures in a row end.
    pub(super) fn obtained(&self, at: SystemTime) {
        self.change(|s| {
            s.obtained = Some(at);
            s.failing = 0;
            s.retry_at = None;
        });
    }

    /// An attempt failed at `at`; the next is at `retry_at`.
    pub(super) fn failed(&self, at: SystemTime, what: String, retry_at: SystemTime) {
        self.change(|s| {
            s.failure = Some(Failure { at, what });
            s.failing = s.failing.saturating_add(1);
            s.retry_at = Some(retry_at);
        });
    }
}
