//! CPython's `unfinished_tasks` counter, split so that a `put` writes no
//! cache line that another thread writes.
//!
//! `unfinished_tasks` is `puts - dones`. `dones` is one atomic, changed by
//! `task_done` (a consumer's read-modify-write, as in any counter). `puts` is
//! one counter per producing thread (a [`ThreadLocal`] slot): each slot has a
//! single writer, which bumps it with a plain load and store, no locked
//! instruction. A put is then only the store's own push; one shared counter
//! cost every put a read-modify-write, and on 2 cores that was a third of
//! the throughput of a 1-producer/1-consumer queue. Readers sum the slots:
//! `task_done` and `join` pay for as many slots as threads ever put.
//!
//! Summing the slots would make every `task_done` read the lines producers
//! write, so `task_done` first compares with `puts_seen`, the last sum taken:
//! slots only grow (a put that fails counts as a put plus a done), so any
//! past sum is a lower bound, and `dones < puts_seen` proves the count is
//! neither exhausted nor zero without looking at the slots.
//!
//! # Memory ordering
//!
//! - A put bumps its slot *before* pushing, and the push happens-before the
//!   pop that returns the item, so the `task_done` that follows that pop sees
//!   the bump: a legitimate `task_done` always finds `puts > dones`.
//! - `dones` changes only by SeqCst read-modify-writes, which form one release
//!   sequence: whoever loads `dones` synchronizes with every `task_done`
//!   counted in it, hence sees the put behind each of them. So a reader that
//!   loads `dones` *first* and sums the slots *second* finds `puts >= dones`,
//!   and `puts == dones` means every put it could see is done: that is when
//!   `join` returns and when a `task_done` wakes joiners.
//! - A put whose push fails counts a done for itself; in between, a
//!   *surplus* `task_done` may be accepted, and a surplus `task_done` rolls
//!   `dones` back after a moment in which a concurrent `join` may return
//!   early. Both windows need a caller bug (more `task_done`s than puts).
//!
//! Under `cfg(loom)`, `thread_local` is not loom-aware; the slots are then one
//! loom atomic bumped by read-modify-writes (Relaxed), which keeps the
//! ordering argument above under test.

#[cfg(not(loom))]
use thread_local::ThreadLocal;

use super::error::TaskDoneError;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use crossbeam_utils::CachePadded as Padded;

/// Counts puts and `task_done`s; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct Tasks {
    /// Boxed: `ThreadLocal` allocates slots in buckets as large as the
    /// thread's index, so a padded slot inline would cost 256 bytes per
    /// thread index per queue; this way a bucket holds pointers and only the
    /// threads that put pay for a padded counter.
    #[cfg(not(loom))]
    puts: ThreadLocal<Box<Padded<AtomicUsize>>>,
    #[cfg(loom)]
    puts: AtomicUsize,
    dones: Padded<AtomicUsize>,
    /// A past sum of `puts`: a lower bound, since slots only grow.
    puts_seen: Padded<AtomicUsize>,
}

impl Tasks {
    /// Counts a put; call before pushing its item.
    #[inline]
    pub(crate) fn put(&self) {
        #[cfg(not(loom))]
        {
            let slot = self.puts.get_or(Default::default);
            // This thread is the slot's only writer, so a load and a store
            // make an atomic increment without a locked instruction.
            slot.store(slot.load(Relaxed) + 1, Relaxed);
        }
        #[cfg(loom)]
        self.puts.fetch_add(1, Relaxed);
    }

    /// Marks done the task of a put whose item was not pushed after all.
    /// Returns whether that finished every task counted.
    pub(crate) fn unput(&self) -> bool {
        // A surplus task_done racing with this is a caller bug; see above.
        let dones = self.dones.fetch_add(1, SeqCst) + 1;
        dones == self.puts()
    }

    /// The number of puts counted so far (a sum over the slots).
    fn puts(&self) -> usize {
        #[cfg(not(loom))]
        return self.puts.iter().map(|slot| slot.load(Relaxed)).sum();
        #[cfg(loom)]
        return self.puts.load(Relaxed);
    }

    /// Marks one task done: CPython's `task_done()`. Returns whether that
    /// finished every task counted, i.e. joiners should be woken.
    pub(crate) fn done(&self) -> Result<bool, TaskDoneError> {
        let dones = self.dones.fetch_add(1, SeqCst) + 1;
        if dones < self.puts_seen.load(Relaxed) {
            return Ok(false);
        }
        let puts = self.puts();
        self.puts_seen.fetch_max(puts, Relaxed);
        if dones > puts {
            self.dones.fetch_sub(1, SeqCst);
            return Err(TaskDoneError);
        }
        Ok(dones == puts)
    }

    /// Marks `n` tasks done at once, without going past the puts counted
    /// (an item put and already marked done by a `task_done` without a
    /// `get`, as CPython allows): the items an immediate shutdown drops.
    pub(crate) fn done_many(&self, n: usize) {
        let dones = self.dones.fetch_add(n, SeqCst) + n;
        // Summed after the read-modify-write, which synchronizes with every
        // done counted, so the puts behind them are all included.
        let excess = dones.saturating_sub(self.puts()).min(n);
        if excess > 0 {
            self.dones.fetch_sub(excess, SeqCst);
        }
    }

    /// CPython's `unfinished_tasks`: a snapshot.
    pub(crate) fn unfinished(&self) -> usize {
        let dones = self.dones.load(SeqCst);
        self.puts().saturating_sub(dones)
    }

    /// Whether every task counted is done (what `join` waits for).
    pub(crate) fn all_done(&self) -> bool {
        self.unfinished() == 0
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Puts from several threads are all counted, a surplus `task_done` is
    /// refused without changing the count, and the last done reports zero.
    #[test]
    fn counts_across_threads() {
        let tasks = Tasks::default();
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    for _ in 0..5 {
                        tasks.put();
                    }
                });
            }
        });
        assert_eq!(tasks.unfinished(), 15);
        for left in (0..15).rev() {
            assert_eq!(tasks.done(), Ok(left == 0));
            assert_eq!(tasks.unfinished(), left);
        }
        assert_eq!(tasks.done(), Err(TaskDoneError));
        assert_eq!(tasks.unfinished(), 0);
        assert!(tasks.all_done());
    }

    /// A failed put marks itself done; an immediate shutdown's bulk done
    /// never goes past the puts.
    #[test]
    fn unput_and_done_many() {
        let tasks = Tasks::default();
        tasks.put();
        tasks.put();
        assert!(!tasks.unput());
        assert_eq!(tasks.unfinished(), 1);
        tasks.done_many(5);
        assert_eq!(tasks.unfinished(), 0);
        assert_eq!(tasks.done(), Err(TaskDoneError));
        tasks.put();
        assert_eq!(tasks.done(), Ok(true));
    }
}
