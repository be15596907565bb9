//! The store's part of the application's API: operator keys (stored as SHA-256 only), the
//! answers of writes an Idempotency-Key may repeat, and the audit trail of administration.

use std::future::Future;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::operator::{OperatorKey, Remembered};
use crate::store::StoreError;

/// Operator keys, idempotent answers and the audit trail.
pub trait OperatorStore {
    /// Adds a key; a name taken already (in any case) is a uniqueness conflict.
    fn add_operator_key(
        &self,
        name: &str,
        read_only: bool,
        hash: &[u8],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<OperatorKey, StoreError>> + Send;
    /// Every key, by name.
    fn operator_keys(&self) -> impl Future<Output = Result<Vec<OperatorKey>, StoreError>> + Send;
    /// The key with this hash and the stored hash (for a constant-time comparison); it is
    /// marked used at `now`, at most once a minute.
    fn operator_key(
        &self,
        hash: &[u8],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<(OperatorKey, Vec<u8>)>, StoreError>> + Send;
    /// Removes a key (by id or name) with its remembered answers; announced, so that every
    /// replica's cache forgets it.
    fn remove_operator_key(
        &self,
        id_or_name: &str,
    ) -> impl Future<Output = Result<OperatorKey, StoreError>> + Send;

    /// What the write with `idempotency_key` of `key` answered, if it was remembered.
    fn remembered(
        &self,
        key: Uuid,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<Option<Remembered>, StoreError>> + Send;
    /// Remembers an answer (status 0: the request is being served); `false` when another
    /// answer was remembered first (a concurrent retry), which is kept.
    fn remember(
        &self,
        key: Uuid,
        idempotency_key: &str,
        answer: &Remembered,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Puts the answer of a request being served (status 0) in place of its placeholder.
    fn settle(
        &self,
        key: Uuid,
        idempotency_key: &str,
        answer: &Remembered,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Forgets one remembered answer (a request that failed on the server's side may be
    /// retried for real).
    fn forget_answer(
        &self,
        key: Uuid,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Forgets the answers remembered before `before`; how many.
    fn forget_answers(
        &self,
        before: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Records a change of administration.
    fn record_audit(
        &self,
        entry: &AuditEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The entries that match, newest first.
    fn audit(
        &self,
        filter: &AuditFilter,
    ) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send;
    /// Deletes the entries older than `before`, in a batch; how many.
    fn prune_audit(
        &self,
        before: DateTime<Utc>,
        batch: u32,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
