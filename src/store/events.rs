//! The store's part of SCIM events: subscriptions, the outbox read in commit order, leases
//! that let one process at a time deliver a subscription's events, delivery outcomes, pruning.
//! The outbox rows themselves are written by the changes, with their activity rows (see
//! `store::Write`).

use std::future::Future;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::TenantId;
use crate::domain::events::{
    Event, FailedDelivery, Kinds, NewSubscription, Pending, Receiver, Subscription,
};
use crate::store::StoreError;

/// What became of the head of a subscription's queue that was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub seq: i64,
    /// `pending` (retried later), `dropped` or `parked`.
    pub state: &'static str,
    pub attempts: u32,
    pub first_failure: DateTime<Utc>,
    pub status: Option<u16>,
    pub error: String,
    pub at: DateTime<Utc>,
}

/// Subscriptions and the delivery of the outbox.
pub trait EventStore {
    fn add_subscription(
        &self,
        new: &NewSubscription,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Subscription, StoreError>> + Send;
    /// Every subscription, or the tenant's, with its delivery state.
    fn subscriptions(
        &self,
        tenant: Option<TenantId>,
    ) -> impl Future<Output = Result<Vec<Subscription>, StoreError>> + Send;
    fn subscription(
        &self,
        id: Uuid,
    ) -> impl Future<Output = Result<Subscription, StoreError>> + Send;
    /// The subscription with its secret, for a delivery.
    fn receiver(&self, id: Uuid) -> impl Future<Output = Result<Receiver, StoreError>> + Send;
    fn set_paused(
        &self,
        id: Uuid,
        paused: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn set_secret(
        &self,
        id: Uuid,
        secret: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Removes the subscription and what it had still to receive.
    fn remove_subscription(&self, id: Uuid) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Leases to `owner` until `until` at most `limit` subscriptions that have events due and
    /// no live lease; several processes claim different ones (`for update skip locked`).
    fn claim(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Receiver>, StoreError>> + Send;
    /// Extends `owner`'s lease; false when it is no longer `owner`'s.
    fn renew(
        &self,
        id: Uuid,
        owner: &str,
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Gives the lease up; with `retry_at`, no delivery before then.
    fn release(
        &self,
        id: Uuid,
        owner: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The subscription's next pending events, in commit order.
    fn pending(
        &self,
        id: Uuid,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Pending>, StoreError>> + Send;
    /// Marks events delivered (their deliveries go) and counts them; a delivery no longer
    /// pending (settled meanwhile) is neither marked nor counted again.
    fn delivered(
        &self,
        id: Uuid,
        seqs: &[i64],
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Records a delivery that failed, if it is still pending (a delivery settled meanwhile
    /// stays as it was settled).
    fn failed(
        &self,
        id: Uuid,
        failure: &Failure,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The subscription's dropped and parked deliveries, newest first.
    fn failures(
        &self,
        id: Uuid,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<FailedDelivery>, StoreError>> + Send;
    /// Parked deliveries of the subscription back to pending; how many.
    fn requeue(&self, id: Uuid) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// The tenant's events after `after`, in commit order (at most `limit`).
    fn events_after(
        &self,
        tenant: TenantId,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Event>, StoreError>> + Send;
    /// The tenant's last event's `seq` (0 without any).
    fn last_event(&self, tenant: TenantId) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Deliveries pending in all.
    fn pending_count(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Deletes at most `batch` events older than `before` that no delivery row refers to, and
    /// dropped or parked deliveries that failed before `before`; how many rows went.
    fn prune_events(
        &self,
        before: DateTime<Utc>,
        batch: u32,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Parks at most `batch` pending deliveries of each paused subscription whose event is
    /// older than `before`, with `error` at `now`, counted on the subscription as failed
    /// deliveries; how many. A paused queue is never sent, so without this it would keep its
    /// events (and their documents) for ever.
    fn park_paused(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
        error: &str,
        batch: u32,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Stamps at most `batch` of the tenant's committed events that have no position yet, in
    /// `seq` order after the tenant's last position, one stamper of a tenant at a time; how
    /// many. Positions are commit order: an event committing late is stamped later, higher.
    fn stamp_events(
        &self,
        tenant: TenantId,
        batch: u32,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// The tenant's stamped events of `kinds` after the position `after`, in position order,
    /// with their positions (at most `limit`).
    fn stamped_events(
        &self,
        tenant: TenantId,
        kinds: Kinds,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(i64, Event)>, StoreError>> + Send;
    /// Acknowledges the pull consumer `id`'s events up to `position`: its delivery rows of
    /// them go (counted as delivered). Nothing when it acknowledged as far already, or `id`
    /// is no pull consumer. How many deliveries went.
    fn acknowledge(
        &self,
        id: Uuid,
        position: i64,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
