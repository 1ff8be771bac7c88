//! Pool tasks in the wait-for graph: who runs the task a thread waits for,
//! and, while it is queued, which pool it is queued in.
//!
//! A pool task's future keeps one word, its *whereabouts*: the pool it was
//! queued in, then the worker that runs it. Both are plain relaxed stores
//! into the future's own allocation, on a cache line the submit and the
//! start write anyway, so the pool's fast path pays no lock, no
//! thread-local and no allocation for them. Only a thread that blocks in
//! [`Future::result`](crate::futures::Future::result) reads the word, through
//! its wait record ([`Holder::Task`]), when a dump or
//! [`find_deadlocks`](super::find_deadlocks) asks.
//!
//! Two verdicts come from it:
//!
//! - a cycle through a running task: the waiter's holder is the worker that
//!   runs the task, so "T holds L and waits for a task whose worker waits
//!   for L" is an ordinary cycle;
//! - pool starvation: every worker of a pool is blocked on futures that only
//!   that same pool can run (queued in it, or run by one of its blocked
//!   workers), and at least one of them is still queued. Nothing can start
//!   it: CPython's docs warn of this ("Deadlocks can occur when the callable
//!   associated with a Future waits on the results of another Future").

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::dump::{Deadlock, ThreadState};
use super::waits::{Holder, WaitKind};

/// A pool's identity in reports: a number from a process-wide counter,
/// never reused.
pub(crate) fn next_pool_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Relaxed)
}

/// Where a pool task is: queued in a pool, running on a thread, or not
/// known (a future made by hand, or a task run outside any pool).
///
/// Encoding: 0 = not known; `pool << 1 | 1` = queued in `pool`;
/// `ident << 1` = running on the thread `ident`.
#[derive(Debug, Default)]
pub(crate) struct Whereabouts(AtomicU64);

impl Whereabouts {
    pub(crate) const fn new() -> Self {
        Whereabouts(AtomicU64::new(0))
    }

    /// The task was queued in `pool`.
    #[inline]
    pub(crate) fn queued_in(&self, pool: u64) {
        self.0.store(pool << 1 | 1, Relaxed);
    }

    /// The task is being run by the thread `ident` (0: not known).
    #[inline]
    pub(crate) fn running_on(&self, ident: u64) {
        self.0.store(ident << 1, Relaxed);
    }

    /// For a waiter's record: whoever runs the task when asked.
    pub(crate) fn holder(&self) -> Holder {
        Holder::Task(&self.0)
    }
}

/// Decodes a [`Whereabouts`] word: (running on, queued in).
pub(crate) fn decode(word: u64) -> (Option<u64>, Option<u64>) {
    match (word >> 1, word & 1) {
        (0, _) => (None, None),
        (pool, 1) => (None, Some(pool)),
        (ident, _) => (Some(ident), None),
    }
}

/// The pools whose every worker is blocked on work only that pool could do,
/// with at least one such task still queued.
///
/// `threads` is a whole snapshot; a thread's `pool` says which pool's worker
/// it is.
pub(crate) fn starved_pools(threads: &[ThreadState]) -> Vec<Deadlock> {
    let mut pools: BTreeMap<u64, Vec<&ThreadState>> = BTreeMap::new();
    for t in threads {
        if let Some(pool) = t.pool {
            pools.entry(pool).or_default().push(t);
        }
    }
    let worker_of: HashMap<u64, u64> = threads
        .iter()
        .filter_map(|t| Some((t.ident, t.pool?)))
        .collect();
    let mut found = Vec::new();
    for (pool, workers) in pools {
        let mut some_queued = false;
        let all_stuck = workers.iter().all(|w| {
            let Some(wait) = &w.waiting else {
                return false;
            };
            if wait.kind != WaitKind::Future {
                return false;
            }
            if wait.queued_in == Some(pool) {
                some_queued = true;
                return true;
            }
            // Run by another worker of the same pool, itself stuck (all of
            // them are, or the verdict is false anyway).
            wait.holder
                .is_some_and(|h| worker_of.get(&h) == Some(&pool))
        });
        if all_stuck && some_queued {
            let until_timeout = workers
                .iter()
                .any(|w| w.waiting.as_ref().is_some_and(|wait| wait.timed));
            found.push(Deadlock {
                threads: workers.into_iter().cloned().collect(),
                until_timeout,
                starved_pool: Some(pool),
            });
        }
    }
    found
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn whereabouts_decode_to_a_pool_or_a_runner() {
        let w = Whereabouts::new();
        assert_eq!(decode(w.0.load(Relaxed)), (None, None));
        w.queued_in(7);
        assert_eq!(decode(w.0.load(Relaxed)), (None, Some(7)));
        w.running_on(42);
        assert_eq!(decode(w.0.load(Relaxed)), (Some(42), None));
        // A task run by a thread that is not known is nowhere.
        w.running_on(0);
        assert_eq!(decode(w.0.load(Relaxed)), (None, None));
    }
}
