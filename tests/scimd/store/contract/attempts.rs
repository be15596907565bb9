//! `AttemptStore`: sign-in attempts counted per key in fixed windows (a window that started
//! before `window_after` restarts at `now`), atomically per key however many count at once;
//! `forget_attempts` and `prune_attempts`.

use chrono::{DateTime, Utc};

use scimd::store::{AttemptStore, Attempts};

use super::{Fixture, all_at_once, at};
use crate::support::Backend;

/// `count` attempts in the window that started at `window_start`.
fn attempts(count: u64, window_start: DateTime<Utc>) -> Attempts {
    Attempts {
        count,
        window_start,
    }
}

/// The keys as `count_attempt` takes them.
fn keys(names: &[&str]) -> Vec<String> {
    names.iter().map(|k| (*k).to_owned()).collect()
}

impl Fixture {
    /// Counts an attempt at `names` at `now`, in windows that started at `window_after` or
    /// later.
    async fn attempt(&self, names: &[&str], window_after: i64, now: i64) -> Vec<Attempts> {
        let names = keys(names);
        let counted = self.store.count_attempt(&names, at(window_after), at(now));
        counted.await.unwrap()
    }
}

async fn attempts_are_counted_per_key_in_their_window_in_the_order_of_the_keys(backend: Backend) {
    let f = Fixture::new(backend).await;
    assert_eq!(
        f.attempt(&["account", "address"], -900, 0).await,
        [attempts(1, at(0)), attempts(1, at(0))]
    );
    assert_eq!(
        f.attempt(&["account"], -890, 10).await,
        [attempts(2, at(0))]
    );
    assert_eq!(
        f.attempt(&["address", "other", "account"], -880, 20).await,
        [attempts(2, at(0)), attempts(1, at(20)), attempts(3, at(0))]
    );
    assert_eq!(f.attempt(&[], -870, 30).await, []);
}

async fn a_window_that_started_at_or_before_window_after_restarts_at_now(backend: Backend) {
    let f = Fixture::new(backend).await;
    f.attempt(&["key", "kept"], -900, 0).await;
    f.attempt(&["key", "kept"], -890, 10).await;
    // a window that started after `window_after` goes on
    assert_eq!(
        f.attempt(&["key", "kept"], -1, 900).await,
        [attempts(3, at(0)), attempts(3, at(0))]
    );
    // one that started at it (or before) restarts, counting this attempt
    assert_eq!(f.attempt(&["key"], 0, 901).await, [attempts(1, at(901))]);
    assert_eq!(f.attempt(&["key"], 1, 902).await, [attempts(2, at(901))]);
    assert_eq!(f.attempt(&["kept"], -1, 903).await, [attempts(4, at(0))]);
}

/// Attempts at one key at once (a password sprayed from many connections) are each counted
/// once: they see the counts 1 to N, each once.
async fn attempts_at_one_key_at_once_are_each_counted_once(backend: Backend) {
    let f = Fixture::new(backend).await;
    let n = 16;
    let counted = all_at_once(n, |i| {
        let store = f.store.clone();
        // the address key too, in the same order each time, as the service counts
        let names = keys(&["account", "address"]);
        async move {
            let now = at(i64::try_from(i).unwrap());
            store.count_attempt(&names, at(-900), now).await.unwrap()
        }
    })
    .await;
    for key in 0..2 {
        let mut counts: Vec<u64> = counted.iter().map(|c| c[key].count).collect();
        counts.sort_unstable();
        assert_eq!(counts, (1..=16).collect::<Vec<_>>(), "key {key}");
        // one window, started by whichever came first
        let starts: Vec<_> = counted.iter().map(|c| c[key].window_start).collect();
        let first = counted.iter().find(|c| c[key].count == 1).unwrap()[key].window_start;
        assert!(starts.iter().all(|s| *s == first), "{starts:?}");
    }
    let next = f.attempt(&["account", "address"], -900, 20).await;
    assert_eq!(next.iter().map(|a| a.count).collect::<Vec<_>>(), [17, 17]);
}

async fn forgetting_a_keys_attempts_starts_it_afresh_and_leaves_the_others(backend: Backend) {
    let f = Fixture::new(backend).await;
    f.attempt(&["account", "address"], -900, 0).await;
    f.attempt(&["account", "address"], -900, 1).await;
    f.store.forget_attempts("account").await.unwrap();
    f.store.forget_attempts("never-counted").await.unwrap();
    assert_eq!(
        f.attempt(&["account", "address"], -900, 2).await,
        [attempts(1, at(2)), attempts(3, at(0))]
    );
}

async fn pruning_deletes_the_keys_whose_window_started_before_a_time(backend: Backend) {
    let f = Fixture::new(backend).await;
    f.attempt(&["a"], -900, 0).await;
    f.attempt(&["b", "a"], -900, 10).await;
    f.attempt(&["c"], -900, 20).await;
    assert_eq!(f.store.prune_attempts(at(0)).await.unwrap(), 0);
    assert_eq!(f.store.prune_attempts(at(11)).await.unwrap(), 2);
    assert_eq!(f.store.prune_attempts(at(11)).await.unwrap(), 0);
    // a and b start afresh, c goes on
    assert_eq!(
        f.attempt(&["a", "b", "c"], -900, 30).await,
        [
            attempts(1, at(30)),
            attempts(1, at(30)),
            attempts(2, at(20))
        ]
    );
}

crate::on_both_stores!(
    attempts_are_counted_per_key_in_their_window_in_the_order_of_the_keys,
    a_window_that_started_at_or_before_window_after_restarts_at_now,
    attempts_at_one_key_at_once_are_each_counted_once,
    forgetting_a_keys_attempts_starts_it_afresh_and_leaves_the_others,
    pruning_deletes_the_keys_whose_window_started_before_a_time,
);
