//! The application's API and its team: operator keys, what a write with an Idempotency-Key
//! answered, and the operator accounts that sign in to the operator page.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A key of the application's backend (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorKey {
    pub id: Uuid,
    pub name: String,
    /// May read, not change.
    pub read_only: bool,
    pub created: DateTime<Utc>,
    pub last_used: Option<DateTime<Utc>>,
}

/// The answer a write with an Idempotency-Key gave, kept for its retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    /// SHA-256 of the request (method, path, body): a retry must be the same request.
    pub request_hash: Vec<u8>,
    pub status: u16,
    /// The answer's JSON body, its secrets left out.
    pub body: String,
    /// The answer held a secret, which is not kept: a retry is told so.
    pub withheld: bool,
    pub created: DateTime<Utc>,
}

/// An operator account: a person of the application's team who signs in to the operator page
/// (never its password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorAccount {
    pub id: Uuid,
    pub username: String,
    pub created: DateTime<Utc>,
}
